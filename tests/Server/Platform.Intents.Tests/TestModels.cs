using System.Globalization;
using System.Text;
using Platform.Intents.Models;
using Platform.Intents.Onnx;

namespace Platform.Intents.Tests;

/// <summary>Small synthetic models, so no test needs the 118 MB tarball.</summary>
internal static class TestModels
{
    // Word clusters: words of a cluster get nearby vectors. The first words are the most frequent.
    private static readonly string[][] Clusters =
    [
        ["the", "a", "my", "is", "what", "on", "in", "to", "please", "me", "of"],
        ["light", "lights", "lamp", "lamps", "bulb"],
        ["turn", "switch", "put"],
        ["kitchen", "bedroom", "room", "hall"],
        ["balance", "account", "money", "savings", "funds"],
        ["weather", "rain", "sunny", "forecast", "temperature"],
        ["music", "song", "play", "songs", "playlist"],
        ["off", "down"],
        ["how", "much", "check"],
    ];

    public static string WriteGloveText(string directory, int dims = 16)
    {
        var rng = new Random(7);
        var lines = new List<(int Order, string Line)>();
        var order = 0;
        // Nearly orthogonal cluster centres, so clusters are clearly apart.
        var centers = Clusters.Select((_, c) => Enumerable.Range(0, dims).Select(j => (j == c ? 2.0 : 0) + (rng.NextDouble() - 0.5) * 0.2).ToArray()).ToArray();
        // Interleave clusters so ranks mix; the function words come first.
        var max = Clusters.Max(c => c.Length);
        for (var i = 0; i < max; i++)
        {
            for (var c = 0; c < Clusters.Length; c++)
            {
                if (i >= Clusters[c].Length) continue;
                var v = centers[c].Select(x => x + (rng.NextDouble() - 0.5) * 0.3).ToArray();
                lines.Add((order++, Clusters[c][i] + " " + string.Join(' ', v.Select(x => x.ToString("F5", CultureInfo.InvariantCulture)))));
            }
        }
        // Entries the tokenizer could never produce are skipped by the builder.
        lines.Add((order++, "u.s. " + string.Join(' ', Enumerable.Repeat("0.1", dims))));
        var path = Path.Combine(directory, "vectors.txt");
        File.WriteAllLines(path, lines.Select(l => l.Line));
        return path;
    }

    public static string WriteWinkJson(string directory)
    {
        // The npm package's layout: vectors hold dims numbers, then the L2 norm, then the rank.
        var sb = new StringBuilder("{\"precision\":8,\"l2NormIndex\":3,\"wordIndex\":4,\"size\":3,\"dimensions\":3,\"words\":[\"the\",\"cat\",\"dog\"],\"vectors\":{");
        sb.Append("\"the\":[0.1,0.2,0.3,0.37,0],\"cat\":[1,0,0.5,1.1,1],\"dog\":[0.9,0.1,0.4,1.0,2]},\"unkVector\":[0,0,0,-1]}");
        var path = Path.Combine(directory, "vectors.json");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    public static async Task<ModelFiles> BuildSyntheticAsync(string directory)
    {
        var source = WriteGloveText(directory);
        return await new ModelBuilder().BuildAsync(source, Path.Combine(directory, "model"), new ModelBuildOptions { VocabularySize = 1000, RemovedComponents = 1 });
    }

    /// <summary>
    /// A tiny BERT-shaped encoder: inputs input_ids, attention_mask, token_type_ids (int64 [batch, seq]); output
    /// last_hidden_state = (E[input_ids] + T[token_type_ids]) · attention_mask, float [batch, seq, 4].
    /// Its vocab has WordPiece continuation pieces.
    /// </summary>
    public static (string Model, string Vocab) BuildTinyBert(string directory)
    {
        string[] vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "kitchen", "light", "##s", "on", "turn", "zebra"];
        const int dims = 4;
        var rng = new Random(3);
        var e = new float[vocab.Length * dims];
        for (var i = 0; i < e.Length; i++) e[i] = (float)(rng.NextDouble() * 2 - 1);
        var t = new float[2 * dims];
        for (var i = 0; i < t.Length; i++) t[i] = 0.01f * i;
        var model = Path.Combine(directory, "tiny-bert.onnx");
        new OnnxGraphBuilder("tiny_bert")
            .Initializer("word_embeddings", [vocab.Length, dims], e)
            .Initializer("type_embeddings", [2, dims], t)
            .Initializer("unsqueeze_axes", [1], new long[] { 2 })
            .Input("input_ids", OnnxDataType.Int64, "batch", "sequence")
            .Input("attention_mask", OnnxDataType.Int64, "batch", "sequence")
            .Input("token_type_ids", OnnxDataType.Int64, "batch", "sequence")
            .Output("last_hidden_state", OnnxDataType.Float, "batch", "sequence", dims)
            .Node("Gather", ["word_embeddings", "input_ids"], ["words"], new Dictionary<string, long> { ["axis"] = 0 })
            .Node("Gather", ["type_embeddings", "token_type_ids"], ["types"], new Dictionary<string, long> { ["axis"] = 0 })
            .Node("Add", ["words", "types"], ["summed"])
            .Node("Cast", ["attention_mask"], ["mask_float"], new Dictionary<string, long> { ["to"] = (long)OnnxDataType.Float })
            .Node("Unsqueeze", ["mask_float", "unsqueeze_axes"], ["mask3"])
            .Node("Mul", ["summed", "mask3"], ["last_hidden_state"])
            .Save(model);
        var vocabPath = Path.Combine(directory, "tiny-vocab.txt");
        File.WriteAllLines(vocabPath, vocab);
        return (model, vocabPath);
    }

    public static float Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++)
        {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return (float)(dot / Math.Sqrt(na * nb));
    }
}

/// <summary>A temporary directory deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "platform-intents-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
