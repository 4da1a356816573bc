using BenchmarkDotNet.Attributes;
using Platform.Intents.Embeddings;
using Platform.Knowledge;

namespace Platform.Bench.Knowledge;

/// <summary>
/// Search latency at 10,003 chunks (the Banking77 training questions, MiniLM vectors): the hybrid index search with the query
/// vector given, and the whole search including embedding a new query with MiniLM (the encoder cache is off).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(BenchmarkDotNet.Engines.RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class SearchBenchmarks
{
    private KnowledgeIndex _index = null!;
    private OnnxEmbeddingGenerator _encoder = null!;
    private List<BenchData.Question> _test = [];
    private float[][] _testVectors = [];
    private int _next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var (train, test) = BenchData.Load();
        _encoder = await BenchData.EncoderAsync();
        _index = new KnowledgeIndex(await BenchData.ChunksAsync(train, _encoder));
        _test = test.Take(200).ToList();
        _testVectors = await _encoder.EmbedAsync(_test.Select(q => q.Text).ToList());
    }

    [GlobalCleanup]
    public void Cleanup() => _encoder.Dispose();

    /// <summary>Hybrid index search (cosine over 10,003 vectors + BM25), query vector given.</summary>
    [Benchmark]
    public int IndexSearch()
    {
        var i = _next++ % _test.Count;
        return _index.Search(_test[i].Text, _testVectors[i], 5).Count;
    }

    /// <summary>Embedding a new query with MiniLM, then the hybrid search.</summary>
    [Benchmark]
    public async Task<int> EmbedAndSearch()
    {
        var i = _next++;
        var text = _test[i % _test.Count].Text + " " + i;
        var v = await _encoder.EmbedAsync(text);
        return _index.Search(text, v, 5).Count;
    }
}
