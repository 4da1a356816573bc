using Microsoft.EntityFrameworkCore;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>Triggers in <c>triggers</c>. Results are ordered by definition id, then id.</summary>
public sealed class EfTriggerStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : ITriggerStore
{
    /// <summary>Deletes the definition's triggers and inserts these, in one transaction.</summary>
    public async Task ReplaceAsync(string definitionId, IReadOnlyList<StoredTrigger> triggers, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(definitionId);
        ArgumentNullException.ThrowIfNull(triggers);
        var rows = StoreQueries.LastPerId(triggers, t => t.Id);
        foreach (var t in rows)
            if (t.DefinitionId != definitionId)
                throw new ArgumentException($"Trigger '{t.Id}' belongs to definition '{t.DefinitionId}', not to '{definitionId}'.", nameof(triggers));
        var entities = rows.ConvertAll(EntityMapper.ToEntity);

        using var turn = await gate.EnterAsync(ct).ConfigureAwait(false);
        await using var db = factory.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var batch = new BatchCommand(db))
            await batch.DeleteWhere<TriggerEntity>(nameof(TriggerEntity.DefinitionId), definitionId).Insert(entities).ExecuteAsync(ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredTrigger>> FindAsync(string name, string? key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var db = factory.CreateDbContext();
        var query = key is null
            ? db.Triggers.AsNoTracking().Where(x => x.Name == name && x.Key == null)
            : db.Triggers.AsNoTracking().Where(x => x.Name == name && (x.Key == null || x.Key == key));
        return await ToModelsAsync(query, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredTrigger>> FindByNameAsync(string name, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var db = factory.CreateDbContext();
        return await ToModelsAsync(db.Triggers.AsNoTracking().Where(x => x.Name == name), ct).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<StoredTrigger>> ToModelsAsync(IQueryable<TriggerEntity> query, CancellationToken ct)
    {
        var rows = await query.OrderBy(x => x.DefinitionId).ThenBy(x => x.Id).ToListAsync(ct).ConfigureAwait(false);
        return rows.ConvertAll(EntityMapper.ToModel);
    }
}
