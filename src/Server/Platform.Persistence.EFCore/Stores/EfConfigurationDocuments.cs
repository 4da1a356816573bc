using Microsoft.EntityFrameworkCore;
using Platform.Activities;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>
/// Configuration documents (intent sets, devices, data sources…) in the <c>configuration_documents</c> table, keyed by kind and
/// the lower-case id. A save is one conditional update, or an insert when the row is new; when two nodes insert the same new
/// id at once, the loser updates the winner's row. The revision grows with every save and never repeats for a re-created id.
/// </summary>
public sealed class EfConfigurationDocuments(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate, TimeProvider? clock = null)
    : IConfigurationDocuments
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    /// <inheritdoc />
    public async Task<IReadOnlyList<ConfigurationDocument>> ListAsync(string kind, CancellationToken cancellationToken = default)
    {
        Check(kind, "-");
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.Set<ConfigurationDocumentEntity>().AsNoTracking().Where(d => d.Kind == kind).OrderBy(d => d.Key)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.Select(ToModel).ToList();
    }

    /// <inheritdoc />
    public async Task<ConfigurationDocument?> FindAsync(string kind, string id, CancellationToken cancellationToken = default)
    {
        Check(kind, id);
        var key = KeyOf(id);
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Set<ConfigurationDocumentEntity>().AsNoTracking().FirstOrDefaultAsync(d => d.Kind == kind && d.Key == key, cancellationToken)
            .ConfigureAwait(false);
        return row is null ? null : ToModel(row);
    }

    /// <inheritdoc />
    public async Task<ConfigurationDocument> SaveAsync(string kind, string id, string json, CancellationToken cancellationToken = default)
    {
        Check(kind, id);
        ArgumentNullException.ThrowIfNull(json);
        var key = KeyOf(id);
        var now = _clock.GetUtcNow();
        // Never below the clock's ticks: a deleted and re-created id gets a revision other nodes have not seen for it.
        var floor = now.UtcTicks;
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var attempt = 0; ; attempt++)
            {
                await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
                var updated = await db.Set<ConfigurationDocumentEntity>().Where(d => d.Kind == kind && d.Key == key)
                    .ExecuteUpdateAsync(u => u.SetProperty(d => d.Id, id).SetProperty(d => d.Json, json)
                        .SetProperty(d => d.Revision, d => d.Revision + 1 > floor ? d.Revision + 1 : floor)
                        .SetProperty(d => d.UpdatedAt, now), cancellationToken).ConfigureAwait(false);
                if (updated == 0)
                {
                    db.Add(new ConfigurationDocumentEntity { Kind = kind, Key = key, Id = id, Json = json, Revision = floor, UpdatedAt = now });
                    try
                    {
                        await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
                        return new ConfigurationDocument(kind, id, json, floor, now);
                    }
                    catch (DbUpdateException) when (attempt == 0)
                    {
                        continue; // another node inserted it first: update its row
                    }
                }
                var revision = await db.Set<ConfigurationDocumentEntity>().AsNoTracking().Where(d => d.Kind == kind && d.Key == key)
                    .Select(d => d.Revision).FirstAsync(cancellationToken).ConfigureAwait(false);
                return new ConfigurationDocument(kind, id, json, revision, now);
            }
        }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string kind, string id, CancellationToken cancellationToken = default)
    {
        Check(kind, id);
        var key = KeyOf(id);
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            return await db.Set<ConfigurationDocumentEntity>().Where(d => d.Kind == kind && d.Key == key).ExecuteDeleteAsync(cancellationToken)
                .ConfigureAwait(false) > 0;
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ConfigurationRevision>> ListRevisionsAsync(string kind, CancellationToken cancellationToken = default)
    {
        Check(kind, "-");
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Set<ConfigurationDocumentEntity>().AsNoTracking().Where(d => d.Kind == kind)
            .Select(d => new ConfigurationRevision(d.Id, d.Revision)).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The stored key of an id: ids are case-insensitive.</summary>
    public static string KeyOf(string id) => (id ?? throw new ArgumentNullException(nameof(id))).ToLowerInvariant();

    private static void Check(string kind, string id)
    {
        if (string.IsNullOrWhiteSpace(kind) || kind.Length > 64)
            throw new ArgumentException($"The document kind '{kind}' is not valid: use a short name (1-64 characters) such as intent-sets.", nameof(kind));
        if (string.IsNullOrWhiteSpace(id) || id.Length > 200)
            throw new ArgumentException($"The document id '{id}' is not valid: use 1-200 characters.", nameof(id));
    }

    private static ConfigurationDocument ToModel(ConfigurationDocumentEntity row) => new(row.Kind, row.Id, row.Json, row.Revision, row.UpdatedAt);
}
