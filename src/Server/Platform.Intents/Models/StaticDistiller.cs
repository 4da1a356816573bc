using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Intents.Embeddings;
using Platform.Intents.Onnx;

namespace Platform.Intents.Models;

/// <summary>Options of <see cref="StaticDistiller"/>.</summary>
public sealed record DistillOptions
{
    /// <summary>The table's dimensions after PCA (at most the encoder's). Default 256.</summary>
    public int Dimensions { get; init; } = 256;

    /// <summary>The SIF constant a in a/(a+p(w)); p from the token's rank in the vocabulary (Zipf). Default 1e-3.</summary>
    public double SifA { get; init; } = 1e-3;

    /// <summary>Tokens encoded per model run. Default 256.</summary>
    public int BatchSize { get; init; } = 256;

    /// <summary>Only these vocabulary tokens get a vector (the rest are zero); null = all. For tests and quick trials;
    /// ranks stay those of the whole vocabulary.</summary>
    public IReadOnlyCollection<string>? OnlyTokens { get; init; }
}

/// <summary>
/// "Fast mode" (the Model2Vec idea): a transformer encoder distilled into a static token-embedding table. Every
/// vocabulary token is encoded alone (<c>[CLS] token [SEP]</c>, pooled like the encoder pools sentences), the vectors are
/// reduced by PCA and weighted by SIF with a Zipf estimate of the token's frequency from its vocabulary rank (WordPiece
/// vocabularies list words roughly by frequency). The table is written as a one-Gather ONNX model with the encoder's
/// <c>vocab.txt</c>, so <see cref="OnnxEmbeddingGenerator"/> serves it like the GloVe model: one lookup per token and a mean.
/// The result is cached in <c>{encoder dir}/fast-{hash}</c>, keyed by the encoder's SHA-256 and the options.
/// </summary>
public static class StaticDistiller
{
    private const string ManifestName = "manifest.json";

    /// <summary>Returns the distilled table of an encoder, distilling it first when it is not cached (progress is logged).</summary>
    /// <param name="encoder">The encoder's generator options (model, vocab, pooling, lower-casing).</param>
    /// <param name="options">Distillation options.</param>
    /// <param name="logger">Progress messages.</param>
    /// <param name="cancellationToken">Cancels.</param>
    public static Task<ModelFiles> EnsureAsync(OnnxEmbeddingOptions encoder, DistillOptions? options = null, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        return Task.Run(() => Ensure(encoder, options ?? new DistillOptions(), logger ?? NullLogger.Instance, cancellationToken), cancellationToken);
    }

    /// <summary>The generator options that serve a distilled table (mean pooling, one thread, like the GloVe model).</summary>
    public static OnnxEmbeddingOptions ServingOptions(ModelFiles table, OnnxEmbeddingOptions encoder, string? modelId = null) => new()
    {
        ModelPath = table.ModelPath,
        VocabPath = table.VocabPath,
        LowerCase = encoder.LowerCase,
        Pooling = EmbeddingPooling.Mean,
        IntraOpThreads = 1,
        ModelId = modelId ?? (encoder.ModelId is { } id ? id + "-fast" : null),
    };

    private static ModelFiles Ensure(OnnxEmbeddingOptions encoder, DistillOptions options, ILogger logger, CancellationToken ct)
    {
        var encoderDir = Path.GetDirectoryName(Path.GetFullPath(encoder.ModelPath))!;
        var vocabPath = encoder.VocabPath ?? Path.Combine(encoderDir, "vocab.txt");
        string modelHash;
        using (var stream = File.OpenRead(encoder.ModelPath)) modelHash = Convert.ToHexStringLower(SHA256.HashData(stream));
        var vocabHash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(vocabPath)));
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
            $"{modelHash}|{vocabHash}|{options.Dimensions}|{options.SifA}|{encoder.Pooling}|{encoder.LowerCase}|" +
            string.Join(' ', options.OnlyTokens?.Order(StringComparer.Ordinal) ?? Enumerable.Empty<string>()))))[..12];
        var dir = Path.Combine(encoderDir, "fast-" + key);
        if (TryGetCached(dir) is { } cached) return cached;

        var sw = Stopwatch.StartNew();
        var vocab = File.ReadAllLines(vocabPath).Select(l => l.TrimEnd('\r')).ToArray();
        var only = options.OnlyTokens is { } subset ? new HashSet<string>(subset, StringComparer.Ordinal) : null;
        logger.LogInformation("Distilling {Model} into a static table (fast mode): {Tokens} tokens, cached in {Directory}",
            encoder.ModelPath, only?.Count ?? vocab.Length, dir);
        int Find(string token) => Array.IndexOf(vocab, token);
        var cls = Find("[CLS]");
        var sep = Find("[SEP]");
        var usable = new List<int>(vocab.Length);
        var ranks = new List<int>(vocab.Length);
        var tokenCount = 0;
        for (var i = 0; i < vocab.Length; i++)
        {
            var t = vocab[i];
            if (t.Length == 0 || (t.StartsWith('[') && t.EndsWith(']'))) continue; // [PAD] [UNK] [CLS] [SEP] [MASK] [unusedN]
            if (only is null || only.Contains(t))
            {
                usable.Add(i);
                ranks.Add(tokenCount);
            }
            tokenCount++;
        }
        if (usable.Count == 0) throw new InvalidDataException($"'{vocabPath}' has no usable tokens.");

        // 1. Encode every token alone.
        double[] raw;
        int dims;
        using (var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions
        {
            ModelPath = encoder.ModelPath,
            VocabPath = vocabPath,
            LowerCase = encoder.LowerCase,
            Pooling = encoder.Pooling == EmbeddingPooling.MeanMax ? EmbeddingPooling.Mean : encoder.Pooling,
            OutputName = encoder.OutputName,
            Normalize = false,
            CacheSize = 0,
            WarmUp = false,
            IntraOpThreads = Math.Max(2, encoder.IntraOpThreads),
        }))
        {
            float[][]? first = null;
            raw = [];
            dims = 0;
            var lastDecile = -1;
            for (var start = 0; start < usable.Count; start += options.BatchSize)
            {
                ct.ThrowIfCancellationRequested();
                var count = Math.Min(options.BatchSize, usable.Count - start);
                var batch = new int[count][];
                for (var b = 0; b < count; b++)
                {
                    var id = usable[start + b];
                    batch[b] = cls >= 0 && sep >= 0 ? [cls, id, sep] : [id];
                }
                var vectors = generator.EmbedTokenIds(batch);
                if (first is null)
                {
                    first = vectors;
                    dims = vectors[0].Length;
                    raw = new double[usable.Count * dims];
                }
                for (var b = 0; b < count; b++)
                    for (var j = 0; j < dims; j++) raw[(start + b) * dims + j] = vectors[b][j];
                var decile = (start + count) * 10 / usable.Count;
                if (decile != lastDecile)
                {
                    lastDecile = decile;
                    logger.LogInformation("Distilling: encoded {Percent}% of the tokens ({Seconds:F0} s)", decile * 10, sw.Elapsed.TotalSeconds);
                }
            }
        }

        // 2. PCA: centre, rotate onto the principal axes, keep the top ones.
        var n = usable.Count;
        var outDims = Math.Clamp(options.Dimensions, 1, dims);
        var mean = new double[dims];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < dims; j++) mean[j] += raw[i * dims + j];
        for (var j = 0; j < dims; j++) mean[j] /= n;
        for (var i = 0; i < n; i++)
            for (var j = 0; j < dims; j++) raw[i * dims + j] -= mean[j];
        var axes = Eigen.TopAxes(raw, n, dims, outDims);
        logger.LogInformation("Distilling: PCA {From} → {To} dimensions done ({Seconds:F0} s)", dims, outDims, sw.Elapsed.TotalSeconds);

        // 3. SIF weight by the Zipf estimate of the token's frequency from its rank among the usable tokens.
        var harmonic = 0.0;
        for (var r = 1; r <= tokenCount; r++) harmonic += 1.0 / r;
        var table = new float[vocab.Length * outDims];
        for (var i = 0; i < n; i++)
        {
            var row = raw.AsSpan(i * dims, dims);
            var p = 1.0 / ((ranks[i] + 1) * harmonic);
            var weight = options.SifA / (options.SifA + p);
            var target = table.AsSpan(usable[i] * outDims, outDims);
            for (var k = 0; k < outDims; k++)
            {
                var axis = axes[k];
                double dot = 0;
                for (var j = 0; j < dims; j++) dot += row[j] * axis[j];
                target[k] = (float)(dot * weight);
            }
        }

        // 4. Write to a temporary directory, then move into place.
        var files = ModelDirectory.Publish(dir, temp =>
        {
            File.WriteAllText(Path.Combine(temp, "vocab.txt"), string.Join('\n', vocab) + "\n", new UTF8Encoding(false));
            new OnnxGraphBuilder("distilled_static_gather")
                .Initializer("embeddings", [vocab.Length, outDims], table)
                .Input("input_ids", OnnxDataType.Int64, "batch", "sequence")
                .Output("token_embeddings", OnnxDataType.Float, "batch", "sequence", outDims)
                .Node("Gather", ["embeddings", "input_ids"], ["token_embeddings"], new Dictionary<string, long> { ["axis"] = 0 })
                .Save(Path.Combine(temp, "model.onnx"));
            File.WriteAllText(Path.Combine(temp, ManifestName), JsonSerializer.Serialize(new Manifest(modelHash, options, outDims, vocab.Length, n,
                DateTimeOffset.UtcNow.ToString("O"))));
        }, () => TryGetCached(dir));
        logger.LogInformation("Distilled {Tokens} tokens into {Dims} dimensions in {Seconds:F1} s", n, outDims, sw.Elapsed.TotalSeconds);
        return files;
    }

    private static ModelFiles? TryGetCached(string dir)
    {
        var manifestPath = Path.Combine(dir, ManifestName);
        if (!File.Exists(manifestPath)) return null;
        try
        {
            var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath));
            var files = new ModelFiles(dir, Path.Combine(dir, "model.onnx"), Path.Combine(dir, "vocab.txt"), manifest?.Dimensions ?? 0);
            return manifest is not null && File.Exists(files.ModelPath) && File.Exists(files.VocabPath) ? files : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private sealed record Manifest(string EncoderSha256, DistillOptions Options, int Dimensions, int VocabularySize, int Tokens, string DistilledAt);
}

/// <summary>Principal axes of centred rows: the covariance's eigenvectors by cyclic Jacobi rotations.</summary>
internal static class Eigen
{
    /// <summary>The top <paramref name="k"/> unit eigenvectors of the covariance of <paramref name="centered"/> (n × dims), largest eigenvalue first.</summary>
    public static double[][] TopAxes(double[] centered, int n, int dims, int k)
    {
        var a = new double[dims, dims];
        for (var i = 0; i < n; i++)
        {
            var row = centered.AsSpan(i * dims, dims);
            for (var p = 0; p < dims; p++)
            {
                var rp = row[p];
                if (rp == 0) continue;
                for (var q = p; q < dims; q++) a[p, q] += rp * row[q];
            }
        }
        for (var p = 0; p < dims; p++)
            for (var q = 0; q < p; q++) a[p, q] = a[q, p];
        var v = new double[dims, dims];
        for (var p = 0; p < dims; p++) v[p, p] = 1;
        for (var sweep = 0; sweep < 50; sweep++)
        {
            double off = 0, diag = 0;
            for (var p = 0; p < dims; p++)
            {
                diag += a[p, p] * a[p, p];
                for (var q = p + 1; q < dims; q++) off += a[p, q] * a[p, q];
            }
            if (off <= 1e-18 * diag) break; // converged (quadratically: about 8-10 sweeps)
            for (var p = 0; p < dims - 1; p++)
            {
                for (var q = p + 1; q < dims; q++)
                {
                    var apq = a[p, q];
                    if (Math.Abs(apq) < 1e-300) continue;
                    var theta = (a[q, q] - a[p, p]) / (2 * apq);
                    var t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    var c = 1 / Math.Sqrt(t * t + 1);
                    var s = t * c;
                    for (var r = 0; r < dims; r++)
                    {
                        var arp = a[r, p];
                        var arq = a[r, q];
                        a[r, p] = c * arp - s * arq;
                        a[r, q] = s * arp + c * arq;
                    }
                    for (var r = 0; r < dims; r++)
                    {
                        var apr = a[p, r];
                        var aqr = a[q, r];
                        a[p, r] = c * apr - s * aqr;
                        a[q, r] = s * apr + c * aqr;
                    }
                    for (var r = 0; r < dims; r++)
                    {
                        var vrp = v[r, p];
                        var vrq = v[r, q];
                        v[r, p] = c * vrp - s * vrq;
                        v[r, q] = s * vrp + c * vrq;
                    }
                }
            }
        }
        return Enumerable.Range(0, dims).OrderByDescending(i => a[i, i]).Take(k)
            .Select(i => Enumerable.Range(0, dims).Select(r => v[r, i]).ToArray()).ToArray();
    }
}
