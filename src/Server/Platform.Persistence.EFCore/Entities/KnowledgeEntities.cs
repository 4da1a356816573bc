namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>knowledge_bases</c>. <see cref="Key"/> is the name in lower case (names are case-insensitive).</summary>
public sealed class KnowledgeBaseEntity
{
    public required string Key { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }
    public long Revision { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Row of <c>knowledge_documents</c>: one uploaded document of a base (its text is in its chunks).</summary>
public sealed class KnowledgeDocumentEntity
{
    public required string BaseKey { get; set; }
    public required string Key { get; set; }
    public required string Name { get; set; }
    public required string ContentType { get; set; }
    public string? Title { get; set; }
    public long Size { get; set; }
    public int ChunkCount { get; set; }
    public required string Sha256 { get; set; }
    public string? EmbeddingModel { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Row of <c>knowledge_chunks</c>: a chunk's text and its embedding as little-endian float32 bytes.</summary>
public sealed class KnowledgeChunkEntity
{
    public long Id { get; set; }
    public required string BaseKey { get; set; }
    public required string DocumentKey { get; set; }
    public int Ordinal { get; set; }
    public string? Title { get; set; }
    public required string Text { get; set; }
    public byte[] Vector { get; set; } = [];
}
