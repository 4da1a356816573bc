using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Activities;
using Platform.Engine.Knowledge;

namespace Platform.Knowledge;

/// <summary>Settings of the knowledge bases (<c>Platform:Knowledge</c>).</summary>
public sealed class KnowledgeOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Knowledge";

    /// <summary>The largest document accepted, in bytes. Default 10 MB.</summary>
    public long MaxUploadBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>The most chunks one document may make. Default 5,000.</summary>
    public int MaxChunksPerDocument { get; set; } = 5000;

    /// <summary>The chunk size in characters. Default 800 (about 200 tokens, within the encoder's 256).</summary>
    public int ChunkSize { get; set; } = 800;

    /// <summary>How many characters consecutive chunks share. Default 120.</summary>
    public int ChunkOverlap { get; set; } = 120;

    /// <summary>The weight of vector similarity in the combined score (the rest is the keyword score). Default 0.6.</summary>
    public double VectorWeight { get; set; } = 0.6;

    /// <summary>The least cosine similarity for a chunk without a shared keyword to be returned. Default 0.3.</summary>
    public double MinSimilarity { get; set; } = 0.3;

    /// <summary>How often a cached index asks the database whether another node changed its base. Default 2 s.</summary>
    public TimeSpan RevisionCheckInterval { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>Where the knowledge bases get their sentence encoder (the host's local intent encoder).</summary>
public interface IKnowledgeEncoder
{
    /// <summary>The encoder, loading it on first use; null when embeddings are turned off or could not be loaded (keywords only).</summary>
    Task<IEmbeddingGenerator<string, Embedding<float>>?> GetAsync(CancellationToken cancellationToken);
}

/// <summary>An encoder that is not there: keyword search only.</summary>
public sealed class NoKnowledgeEncoder : IKnowledgeEncoder
{
    /// <inheritdoc />
    public Task<IEmbeddingGenerator<string, Embedding<float>>?> GetAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IEmbeddingGenerator<string, Embedding<float>>?>(null);
}

/// <summary>The result of an upload.</summary>
/// <param name="Document">The stored document.</param>
/// <param name="Replaced">True when a document of that name was replaced (re-indexed).</param>
/// <param name="ElapsedMs">How long extraction, chunking and embedding took.</param>
public sealed record KnowledgeUploadResult(KnowledgeDocumentInfo Document, bool Replaced, long ElapsedMs);

/// <summary>
/// Knowledge bases: upload (extract, chunk, embed, store), delete, and hybrid search through an in-memory
/// <see cref="KnowledgeIndex"/> per base, loaded on first search and dropped when the base changes (here, or on another node:
/// the base's revision is compared at most every <see cref="KnowledgeOptions.RevisionCheckInterval"/>).
/// </summary>
public sealed partial class KnowledgeService : IKnowledgeSearch
{
    private sealed record CachedIndex(long Revision, KnowledgeIndex Index, long CheckedAt);

    private readonly IKnowledgeStore _store;
    private readonly IKnowledgeEncoder _encoder;
    private readonly KnowledgeOptions _options;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, CachedIndex> _indexes = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _loading = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the service.</summary>
    public KnowledgeService(IKnowledgeStore store, IKnowledgeEncoder encoder, KnowledgeOptions options, ILogger<KnowledgeService>? logger = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _encoder = encoder ?? throw new ArgumentNullException(nameof(encoder));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The options.</summary>
    public KnowledgeOptions Options => _options;

    /// <summary>The store.</summary>
    public IKnowledgeStore Store => _store;

    [GeneratedRegex(@"^[\p{L}\p{N}][\p{L}\p{N}._ -]{0,63}$")]
    private static partial Regex BaseNamePattern();

    /// <summary>True for a valid base name: 1-64 letters (any script), digits, '.', '_', '-' or spaces, starting with a letter or digit.</summary>
    public static bool IsValidBaseName(string? name) => name is not null && name == name.Trim() && BaseNamePattern().IsMatch(name);

    /// <summary>True for a valid document name: 1-200 characters, no path separators or control characters.</summary>
    public static bool IsValidDocumentName(string? name) =>
        !string.IsNullOrWhiteSpace(name) && name.Length <= 200 && name == name.Trim() && name is not ("." or "..")
        && !name.Any(c => char.IsControl(c) || c is '/' or '\\');

    /// <summary>Uploads a document (replacing one of the same name): extracts its text, chunks and embeds it, and stores it.</summary>
    /// <exception cref="KnowledgeInputException">The document is too large, of an unknown type or unreadable.</exception>
    /// <exception cref="KeyNotFoundException">The base does not exist.</exception>
    public async Task<KnowledgeUploadResult> UploadAsync(string knowledgeBase, string name, string? contentType, byte[] bytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var watch = Stopwatch.StartNew();
        if (await _store.FindBaseAsync(knowledgeBase, cancellationToken).ConfigureAwait(false) is null)
            throw new KeyNotFoundException($"The knowledge base '{knowledgeBase}' does not exist. Create it first (POST /api/knowledge).");
        if (bytes.LongLength > _options.MaxUploadBytes)
            throw new KnowledgeInputException($"'{name}' is {bytes.LongLength:N0} bytes; the limit is {_options.MaxUploadBytes:N0} (Platform:Knowledge:MaxUploadBytes). Split the document or raise the limit.");
        if (bytes.Length == 0) throw new KnowledgeInputException($"'{name}' is empty: upload a document with text.");
        var doc = DocumentReader.Read(name, contentType, bytes);
        var pieces = Chunker.Split(doc.Text, _options.ChunkSize, _options.ChunkOverlap);
        if (pieces.Count == 0) throw new KnowledgeInputException($"'{name}' has no text to index.");
        if (pieces.Count > _options.MaxChunksPerDocument)
            throw new KnowledgeInputException($"'{name}' makes {pieces.Count:N0} chunks; the limit is {_options.MaxChunksPerDocument:N0} (Platform:Knowledge:MaxChunksPerDocument). Split the document.");
        var generator = await _encoder.GetAsync(cancellationToken).ConfigureAwait(false);
        float[][] vectors;
        string? model = null;
        if (generator is not null)
        {
            var embeddings = await generator.GenerateAsync(pieces.Select(EmbeddingText).ToList(), cancellationToken: cancellationToken).ConfigureAwait(false);
            vectors = embeddings.Select(e => e.Vector.ToArray()).ToArray();
            model = (generator.GetService(typeof(EmbeddingGeneratorMetadata)) as EmbeddingGeneratorMetadata)?.DefaultModelId ?? "encoder";
        }
        else
        {
            vectors = pieces.Select(_ => Array.Empty<float>()).ToArray();
        }
        var chunks = pieces.Select((p, i) => new KnowledgeChunk(name, i, p.Title, p.Text, vectors[i])).ToList();
        var existing = (await _store.ListDocumentsAsync(knowledgeBase, cancellationToken).ConfigureAwait(false))
            .Any(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));
        var info = new KnowledgeDocumentInfo(name, doc.ContentType, doc.Title, bytes.LongLength, chunks.Count, Convert.ToHexStringLower(SHA256.HashData(bytes)),
            model, DateTimeOffset.UtcNow);
        if (!await _store.SaveDocumentAsync(knowledgeBase, info, chunks, cancellationToken).ConfigureAwait(false))
            throw new KeyNotFoundException($"The knowledge base '{knowledgeBase}' does not exist. Create it first (POST /api/knowledge).");
        Invalidate(knowledgeBase);
        _logger.LogInformation("Knowledge base {Base}: {Action} {Document} ({Type}, {Chunks} chunks, {Model}) in {Elapsed} ms",
            knowledgeBase, existing ? "re-indexed" : "indexed", name, doc.ContentType, chunks.Count, model ?? "no vectors", watch.ElapsedMilliseconds);
        return new KnowledgeUploadResult(info, existing, watch.ElapsedMilliseconds);
    }

    /// <summary>The text embedded for a chunk: its headings, then its text.</summary>
    public static string EmbeddingText(TextChunk chunk)
    {
        ArgumentNullException.ThrowIfNull(chunk);
        return string.IsNullOrEmpty(chunk.Title) ? chunk.Text : chunk.Title + "\n" + chunk.Text;
    }

    /// <summary>Deletes a document and its chunks; false when unknown.</summary>
    public async Task<bool> DeleteDocumentAsync(string knowledgeBase, string name, CancellationToken cancellationToken = default)
    {
        var deleted = await _store.DeleteDocumentAsync(knowledgeBase, name, cancellationToken).ConfigureAwait(false);
        Invalidate(knowledgeBase);
        return deleted;
    }

    /// <summary>Deletes a base with everything in it; false when unknown.</summary>
    public async Task<bool> DeleteBaseAsync(string knowledgeBase, CancellationToken cancellationToken = default)
    {
        var deleted = await _store.DeleteBaseAsync(knowledgeBase, cancellationToken).ConfigureAwait(false);
        Invalidate(knowledgeBase);
        return deleted;
    }

    /// <summary>Forgets the cached index of a base.</summary>
    public void Invalidate(string knowledgeBase) => _indexes.TryRemove(knowledgeBase, out _);

    /// <inheritdoc />
    public async Task<IReadOnlyList<KnowledgeHit>> SearchAsync(string knowledgeBase, string query, int top, CancellationToken cancellationToken)
    {
        var hits = await SearchDetailedAsync(knowledgeBase, query, top, cancellationToken).ConfigureAwait(false);
        return hits.Select(h => new KnowledgeHit(h.Chunk.Text, h.Chunk.Document, h.Chunk.Title, Math.Round(h.Score, 4))).ToList();
    }

    /// <summary>Like <see cref="SearchAsync"/>, with the similarity and keyword parts of each score.</summary>
    /// <exception cref="KeyNotFoundException">The base does not exist.</exception>
    public async Task<List<IndexHit>> SearchDetailedAsync(string knowledgeBase, string query, int top, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(knowledgeBase);
        if (string.IsNullOrWhiteSpace(query) || top <= 0) return [];
        var index = await IndexAsync(knowledgeBase, cancellationToken).ConfigureAwait(false);
        float[]? vector = null;
        if (index.Dimensions > 0 && await _encoder.GetAsync(cancellationToken).ConfigureAwait(false) is { } generator)
        {
            var embedding = await generator.GenerateAsync([query], cancellationToken: cancellationToken).ConfigureAwait(false);
            vector = embedding[0].Vector.ToArray();
        }
        return index.Search(query, vector, top, _options.VectorWeight, _options.MinSimilarity);
    }

    /// <summary>The index of a base: cached, re-checked against the stored revision every few seconds, rebuilt when it changed.</summary>
    /// <exception cref="KeyNotFoundException">The base does not exist.</exception>
    public async Task<KnowledgeIndex> IndexAsync(string knowledgeBase, CancellationToken cancellationToken = default)
    {
        var now = Stopwatch.GetTimestamp();
        if (_indexes.TryGetValue(knowledgeBase, out var cached) && Stopwatch.GetElapsedTime(cached.CheckedAt, now) < _options.RevisionCheckInterval)
            return cached.Index;
        var gate = _loading.GetOrAdd(knowledgeBase, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var info = await _store.FindBaseAsync(knowledgeBase, cancellationToken).ConfigureAwait(false);
            if (info is null)
            {
                _indexes.TryRemove(knowledgeBase, out _);
                throw new KeyNotFoundException($"The knowledge base '{knowledgeBase}' does not exist. Create it on the Knowledge page or with POST /api/knowledge.");
            }
            if (_indexes.TryGetValue(knowledgeBase, out cached) && cached.Revision == info.Revision)
            {
                _indexes[knowledgeBase] = cached with { CheckedAt = Stopwatch.GetTimestamp() };
                return cached.Index;
            }
            var watch = Stopwatch.StartNew();
            var chunks = await _store.LoadChunksAsync(knowledgeBase, cancellationToken).ConfigureAwait(false);
            var index = new KnowledgeIndex(chunks);
            _indexes[knowledgeBase] = new CachedIndex(info.Revision, index, Stopwatch.GetTimestamp());
            _logger.LogInformation("Knowledge base {Base}: index of {Chunks} chunks loaded in {Elapsed} ms", knowledgeBase, index.Count, watch.ElapsedMilliseconds);
            return index;
        }
        finally
        {
            gate.Release();
        }
    }
}
