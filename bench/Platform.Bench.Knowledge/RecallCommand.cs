using System.Diagnostics;
using System.Globalization;
using System.Text;
using Platform.Engine.Knowledge;
using Platform.Knowledge;

namespace Platform.Bench.Knowledge;

/// <summary>recall@5 (hybrid, vectors only, keywords only) over the Banking77 test questions, search latency at 10,003 chunks,
/// and ingestion throughput (extract + chunk + embed + store, chunks per second) through <see cref="KnowledgeService"/>.</summary>
public static class RecallCommand
{
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var limit = args.Length >= 2 && args[0] == "--limit" ? int.Parse(args[1], CultureInfo.InvariantCulture) : int.MaxValue;
        var (train, test) = BenchData.Load();
        test = test.Take(limit).ToList();
        using var encoder = await BenchData.EncoderAsync();
        var chunks = await BenchData.ChunksAsync(train, encoder, output);
        var watch = Stopwatch.StartNew();
        var index = new KnowledgeIndex(chunks);
        output.WriteLine($"Index of {index.Count} chunks ({index.Dimensions} dimensions) built in {watch.ElapsedMilliseconds} ms");

        var options = new KnowledgeOptions();
        int hybrid = 0, vector = 0, keyword = 0;
        var latencies = new List<double>();
        foreach (var q in test)
        {
            var v = await encoder.EmbedAsync(q.Text);
            var start = Stopwatch.GetTimestamp();
            var hits = index.Search(q.Text, v, 5, options.VectorWeight, options.MinSimilarity);
            latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (hits.Any(h => h.Chunk.Document == q.Topic)) hybrid++;
            if (index.Search(q.Text, v, 5, 1.0, options.MinSimilarity).Any(h => h.Chunk.Document == q.Topic)) vector++;
            if (index.Search(q.Text, null, 5).Any(h => h.Chunk.Document == q.Topic)) keyword++;
        }
        latencies.Sort();
        double P(double p) => latencies[(int)Math.Min(latencies.Count - 1, Math.Floor(p * latencies.Count))];
        output.WriteLine($"Banking77 test questions: {test.Count}");
        output.WriteLine($"recall@5 hybrid (w={options.VectorWeight}): {(double)hybrid / test.Count:P1}");
        output.WriteLine($"recall@5 vectors only: {(double)vector / test.Count:P1}");
        output.WriteLine($"recall@5 keywords only (BM25): {(double)keyword / test.Count:P1}");
        output.WriteLine($"index search at {index.Count} chunks (query vector given): median {P(0.5):F2} ms, p95 {P(0.95):F2} ms");

        // Ingestion: a Markdown document of 1,000 questions under topic headings, through the whole service (new texts: no cache).
        var store = new InMemoryKnowledgeStore();
        await store.CreateBaseAsync("ingest", null);
        var service = new KnowledgeService(store, new GeneratorEncoder(encoder), new KnowledgeOptions());
        var md = new StringBuilder();
        foreach (var group in train.Take(4000).GroupBy(q => q.Topic))
        {
            md.Append("## ").Append(group.Key).Append("\n\n");
            foreach (var q in group) md.Append(q.Text).Append(" (ingest)\n\n");
        }
        watch.Restart();
        var result = await service.UploadAsync("ingest", "banking.md", null, Encoding.UTF8.GetBytes(md.ToString()));
        var seconds = watch.Elapsed.TotalSeconds;
        output.WriteLine($"ingestion: {result.Document.ChunkCount} chunks ({md.Length:N0} characters) in {seconds:F1} s = {result.Document.ChunkCount / seconds:F1} chunks/s");
        return 0;
    }

    private sealed class GeneratorEncoder(Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> generator) : IKnowledgeEncoder
    {
        public Task<Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>?> GetAsync(CancellationToken cancellationToken) =>
            Task.FromResult<Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>>?>(generator);
    }
}
