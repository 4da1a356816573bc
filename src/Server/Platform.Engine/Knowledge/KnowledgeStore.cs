using System.Collections.Concurrent;

namespace Platform.Engine.Knowledge;

/// <summary>A named knowledge base.</summary>
/// <param name="Name">The name as created (names are compared case-insensitively).</param>
/// <param name="Description">What it holds, or null.</param>
/// <param name="Revision">Changes whenever a document is added, replaced or deleted; compare it for equality only.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When its documents last changed.</param>
public sealed record KnowledgeBaseInfo(string Name, string? Description, long Revision, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A document of a knowledge base (its text lives in its chunks).</summary>
/// <param name="Name">The document name, usually the file name (case-insensitive within the base).</param>
/// <param name="ContentType">markdown, text, html or pdf.</param>
/// <param name="Title">The first heading or the PDF's title, or null.</param>
/// <param name="Size">The uploaded size in bytes.</param>
/// <param name="ChunkCount">How many chunks it was split into.</param>
/// <param name="Sha256">The hex SHA-256 of the uploaded bytes.</param>
/// <param name="EmbeddingModel">The encoder that made the chunks' vectors, or null when they have none.</param>
/// <param name="UpdatedAt">When it was uploaded.</param>
public sealed record KnowledgeDocumentInfo(string Name, string ContentType, string? Title, long Size, int ChunkCount, string Sha256,
    string? EmbeddingModel, DateTimeOffset UpdatedAt);

/// <summary>One chunk of a document.</summary>
/// <param name="Document">The document name.</param>
/// <param name="Ordinal">Its position in the document, from 0.</param>
/// <param name="Title">The headings above it ("Guide › Install › Linux"), or null.</param>
/// <param name="Text">The chunk's text.</param>
/// <param name="Vector">The unit-length embedding (float32), or empty when none was made.</param>
public sealed record KnowledgeChunk(string Document, int Ordinal, string? Title, string Text, float[] Vector);

/// <summary>
/// Where knowledge bases, their documents and chunks are kept: the platform database (tables <c>knowledge_*</c>) or memory.
/// Base and document names are case-insensitive. Saving a document replaces its earlier chunks in one transaction.
/// </summary>
public interface IKnowledgeStore
{
    /// <summary>All bases, ordered by name.</summary>
    Task<IReadOnlyList<KnowledgeBaseInfo>> ListBasesAsync(CancellationToken cancellationToken = default);

    /// <summary>One base, or null.</summary>
    Task<KnowledgeBaseInfo?> FindBaseAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Creates a base; false when the name is taken.</summary>
    Task<bool> CreateBaseAsync(string name, string? description, CancellationToken cancellationToken = default);

    /// <summary>Deletes a base with its documents and chunks; false when unknown.</summary>
    Task<bool> DeleteBaseAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>The documents of a base, ordered by name (empty for an unknown base).</summary>
    Task<IReadOnlyList<KnowledgeDocumentInfo>> ListDocumentsAsync(string knowledgeBase, CancellationToken cancellationToken = default);

    /// <summary>Adds or replaces a document and its chunks and changes the base's revision; false when the base is unknown.</summary>
    Task<bool> SaveDocumentAsync(string knowledgeBase, KnowledgeDocumentInfo document, IReadOnlyList<KnowledgeChunk> chunks,
        CancellationToken cancellationToken = default);

    /// <summary>Deletes a document and its chunks and changes the base's revision; false when unknown.</summary>
    Task<bool> DeleteDocumentAsync(string knowledgeBase, string document, CancellationToken cancellationToken = default);

    /// <summary>All chunks of a base, by document and ordinal.</summary>
    Task<IReadOnlyList<KnowledgeChunk>> LoadChunksAsync(string knowledgeBase, CancellationToken cancellationToken = default);
}

/// <summary>Knowledge bases in memory (hosts without the platform database, tests).</summary>
public sealed class InMemoryKnowledgeStore(TimeProvider? clock = null) : IKnowledgeStore
{
    private sealed class Base
    {
        public required KnowledgeBaseInfo Info;
        public readonly SortedDictionary<string, (KnowledgeDocumentInfo Doc, IReadOnlyList<KnowledgeChunk> Chunks)> Documents =
            new(StringComparer.OrdinalIgnoreCase);
    }

    private readonly ConcurrentDictionary<string, Base> _bases = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private long _revision;

    /// <inheritdoc />
    public Task<IReadOnlyList<KnowledgeBaseInfo>> ListBasesAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<KnowledgeBaseInfo>>(_bases.Values.Select(b => b.Info).OrderBy(b => b.Name, StringComparer.OrdinalIgnoreCase).ToList());

    /// <inheritdoc />
    public Task<KnowledgeBaseInfo?> FindBaseAsync(string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(_bases.TryGetValue(name, out var b) ? b.Info : null);

    /// <inheritdoc />
    public Task<bool> CreateBaseAsync(string name, string? description, CancellationToken cancellationToken = default)
    {
        var now = _clock.GetUtcNow();
        return Task.FromResult(_bases.TryAdd(name, new Base { Info = new KnowledgeBaseInfo(name, description, Interlocked.Increment(ref _revision), now, now) }));
    }

    /// <inheritdoc />
    public Task<bool> DeleteBaseAsync(string name, CancellationToken cancellationToken = default) => Task.FromResult(_bases.TryRemove(name, out _));

    /// <inheritdoc />
    public Task<IReadOnlyList<KnowledgeDocumentInfo>> ListDocumentsAsync(string knowledgeBase, CancellationToken cancellationToken = default)
    {
        if (!_bases.TryGetValue(knowledgeBase, out var b)) return Task.FromResult<IReadOnlyList<KnowledgeDocumentInfo>>([]);
        lock (b) return Task.FromResult<IReadOnlyList<KnowledgeDocumentInfo>>(b.Documents.Values.Select(d => d.Doc).ToList());
    }

    /// <inheritdoc />
    public Task<bool> SaveDocumentAsync(string knowledgeBase, KnowledgeDocumentInfo document, IReadOnlyList<KnowledgeChunk> chunks,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        if (!_bases.TryGetValue(knowledgeBase, out var b)) return Task.FromResult(false);
        lock (b)
        {
            b.Documents.Remove(document.Name);
            b.Documents[document.Name] = (document, chunks.ToList());
            Touch(b);
        }
        return Task.FromResult(true);
    }

    /// <inheritdoc />
    public Task<bool> DeleteDocumentAsync(string knowledgeBase, string document, CancellationToken cancellationToken = default)
    {
        if (!_bases.TryGetValue(knowledgeBase, out var b)) return Task.FromResult(false);
        lock (b)
        {
            if (!b.Documents.Remove(document)) return Task.FromResult(false);
            Touch(b);
        }
        return Task.FromResult(true);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<KnowledgeChunk>> LoadChunksAsync(string knowledgeBase, CancellationToken cancellationToken = default)
    {
        if (!_bases.TryGetValue(knowledgeBase, out var b)) return Task.FromResult<IReadOnlyList<KnowledgeChunk>>([]);
        lock (b) return Task.FromResult<IReadOnlyList<KnowledgeChunk>>(b.Documents.Values.SelectMany(d => d.Chunks).ToList());
    }

    private void Touch(Base b) => b.Info = b.Info with { Revision = Interlocked.Increment(ref _revision), UpdatedAt = _clock.GetUtcNow() };
}
