using System.Runtime.InteropServices;
using Microsoft.EntityFrameworkCore;
using Platform.Engine.Knowledge;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>
/// Knowledge bases in the tables <c>knowledge_bases</c>, <c>knowledge_documents</c> and <c>knowledge_chunks</c>; vectors are
/// float32 blobs (SQLite BLOB, PostgreSQL bytea). Saving a document deletes its old chunks and inserts the new ones in one
/// transaction, and gives the base a new revision so that every node reloads its index.
/// </summary>
public sealed class EfKnowledgeStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate, TimeProvider? clock = null) : IKnowledgeStore
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    private static string KeyOf(string name) => name.Trim().ToLowerInvariant();

    private static KnowledgeBaseInfo ToModel(KnowledgeBaseEntity e) => new(e.Name, e.Description, e.Revision, e.CreatedAt, e.UpdatedAt);

    private static long NewRevision() => Random.Shared.NextInt64(1, long.MaxValue);

    /// <inheritdoc />
    public async Task<IReadOnlyList<KnowledgeBaseInfo>> ListBasesAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.Set<KnowledgeBaseEntity>().AsNoTracking().OrderBy(b => b.Key).ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.Select(ToModel).ToList();
    }

    /// <inheritdoc />
    public async Task<KnowledgeBaseInfo?> FindBaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(name);
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Set<KnowledgeBaseEntity>().AsNoTracking().FirstOrDefaultAsync(b => b.Key == key, cancellationToken).ConfigureAwait(false);
        return row is null ? null : ToModel(row);
    }

    /// <inheritdoc />
    public async Task<bool> CreateBaseAsync(string name, string? description, CancellationToken cancellationToken = default)
    {
        var now = _clock.GetUtcNow();
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            var key = KeyOf(name);
            if (await db.Set<KnowledgeBaseEntity>().AnyAsync(b => b.Key == key, cancellationToken).ConfigureAwait(false)) return false;
            db.Add(new KnowledgeBaseEntity { Key = key, Name = name.Trim(), Description = description, Revision = NewRevision(), CreatedAt = now, UpdatedAt = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (DbUpdateException)
            {
                return false; // another node created it first
            }
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteBaseAsync(string name, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(name);
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await db.Set<KnowledgeChunkEntity>().Where(c => c.BaseKey == key).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            await db.Set<KnowledgeDocumentEntity>().Where(d => d.BaseKey == key).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            var deleted = await db.Set<KnowledgeBaseEntity>().Where(b => b.Key == key).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return deleted > 0;
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<KnowledgeDocumentInfo>> ListDocumentsAsync(string knowledgeBase, CancellationToken cancellationToken = default)
    {
        var key = KeyOf(knowledgeBase);
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.Set<KnowledgeDocumentEntity>().AsNoTracking().Where(d => d.BaseKey == key).OrderBy(d => d.Key)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.Select(d => new KnowledgeDocumentInfo(d.Name, d.ContentType, d.Title, d.Size, d.ChunkCount, d.Sha256, d.EmbeddingModel, d.UpdatedAt)).ToList();
    }

    /// <inheritdoc />
    public async Task<bool> SaveDocumentAsync(string knowledgeBase, KnowledgeDocumentInfo document, IReadOnlyList<KnowledgeChunk> chunks,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(chunks);
        var baseKey = KeyOf(knowledgeBase);
        var docKey = KeyOf(document.Name);
        var now = _clock.GetUtcNow();
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var touched = await db.Set<KnowledgeBaseEntity>().Where(b => b.Key == baseKey)
                .ExecuteUpdateAsync(u => u.SetProperty(b => b.Revision, NewRevision()).SetProperty(b => b.UpdatedAt, now), cancellationToken).ConfigureAwait(false);
            if (touched == 0) return false;
            await db.Set<KnowledgeChunkEntity>().Where(c => c.BaseKey == baseKey && c.DocumentKey == docKey).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            await db.Set<KnowledgeDocumentEntity>().Where(d => d.BaseKey == baseKey && d.Key == docKey).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            db.Add(new KnowledgeDocumentEntity
            {
                BaseKey = baseKey, Key = docKey, Name = document.Name, ContentType = document.ContentType, Title = document.Title, Size = document.Size,
                ChunkCount = chunks.Count, Sha256 = document.Sha256, EmbeddingModel = document.EmbeddingModel, UpdatedAt = document.UpdatedAt,
            });
            foreach (var c in chunks)
            {
                db.Add(new KnowledgeChunkEntity
                {
                    BaseKey = baseKey, DocumentKey = docKey, Ordinal = c.Ordinal, Title = c.Title, Text = c.Text,
                    Vector = MemoryMarshal.AsBytes(c.Vector.AsSpan()).ToArray(),
                });
            }
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteDocumentAsync(string knowledgeBase, string document, CancellationToken cancellationToken = default)
    {
        var baseKey = KeyOf(knowledgeBase);
        var docKey = KeyOf(document);
        var now = _clock.GetUtcNow();
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            await using var tx = await db.Database.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            var deleted = await db.Set<KnowledgeDocumentEntity>().Where(d => d.BaseKey == baseKey && d.Key == docKey).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            if (deleted == 0) return false;
            await db.Set<KnowledgeChunkEntity>().Where(c => c.BaseKey == baseKey && c.DocumentKey == docKey).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
            await db.Set<KnowledgeBaseEntity>().Where(b => b.Key == baseKey)
                .ExecuteUpdateAsync(u => u.SetProperty(b => b.Revision, NewRevision()).SetProperty(b => b.UpdatedAt, now), cancellationToken).ConfigureAwait(false);
            await tx.CommitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<KnowledgeChunk>> LoadChunksAsync(string knowledgeBase, CancellationToken cancellationToken = default)
    {
        var baseKey = KeyOf(knowledgeBase);
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = await (from c in db.Set<KnowledgeChunkEntity>().AsNoTracking()
                          join d in db.Set<KnowledgeDocumentEntity>().AsNoTracking() on new { c.BaseKey, Key = c.DocumentKey } equals new { d.BaseKey, d.Key }
                          where c.BaseKey == baseKey
                          orderby c.DocumentKey, c.Ordinal
                          select new { d.Name, c.Ordinal, c.Title, c.Text, c.Vector })
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.Select(r => new KnowledgeChunk(r.Name, r.Ordinal, r.Title, r.Text, MemoryMarshal.Cast<byte, float>(r.Vector).ToArray())).ToList();
    }
}
