using Microsoft.EntityFrameworkCore;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>Definition versions in <c>workflow_definitions</c>.</summary>
public sealed class EfWorkflowDefinitionStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : IWorkflowDefinitionStore
{
    /// <summary>Of all matches, the one with the highest version.</summary>
    public async Task<WorkflowDefinition?> FindAsync(WorkflowDefinitionFilter filter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var db = factory.CreateDbContext();
        var entity = await Apply(db.WorkflowDefinitions.AsNoTracking(), filter)
            .OrderByDescending(x => x.Version)
            .FirstOrDefaultAsync(ct).ConfigureAwait(false);
        return entity is null ? null : EntityMapper.ToModel(entity);
    }

    /// <summary>Ordered by name (nulls first, ordinal), then definition id, then version.</summary>
    public async Task<Page<WorkflowDefinition>> FindManyAsync(WorkflowDefinitionFilter filter, PageArgs page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var (skip, take) = StoreQueries.Normalize(page);
        await using var db = factory.CreateDbContext();
        var query = Apply(db.WorkflowDefinitions.AsNoTracking(), filter);
        var total = await query.LongCountAsync(ct).ConfigureAwait(false);
        if (take == 0 || skip >= total) return new Page<WorkflowDefinition>([], total);
        var rows = await query
            .OrderBy(x => x.Name != null).ThenBy(x => x.Name).ThenBy(x => x.DefinitionId).ThenBy(x => x.Version)
            .Skip(skip).Take(take)
            .ToListAsync(ct).ConfigureAwait(false);
        return new Page<WorkflowDefinition>(rows.ConvertAll(EntityMapper.ToModel), total);
    }

    /// <summary>Upserts every version by id in one transaction (one statement).</summary>
    public async Task SaveManyAsync(IEnumerable<WorkflowDefinition> definitions, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(definitions);
        var entities = StoreQueries.LastPerId(definitions, d => d.Id).ConvertAll(EntityMapper.ToEntity);
        if (entities.Count == 0) return;

        using var turn = await gate.EnterAsync(ct).ConfigureAwait(false);
        await using var db = factory.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        await using (var batch = new BatchCommand(db))
            await batch.Upsert(entities).ExecuteAsync(ct).ConfigureAwait(false);
        await tx.CommitAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<int> DeleteManyAsync(WorkflowDefinitionFilter filter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var turn = await gate.EnterAsync(ct).ConfigureAwait(false);
        await using var db = factory.CreateDbContext();
        return await Apply(db.WorkflowDefinitions, filter).ExecuteDeleteAsync(ct).ConfigureAwait(false);
    }

    private static IQueryable<WorkflowDefinitionEntity> Apply(IQueryable<WorkflowDefinitionEntity> query, WorkflowDefinitionFilter f)
    {
        if (f.Id is not null) query = query.Where(x => x.Id == f.Id);
        if (f.DefinitionId is not null) query = query.Where(x => x.DefinitionId == f.DefinitionId);
        if (f.DefinitionIds is not null)
        {
            var ids = f.DefinitionIds.ToArray();
            query = query.Where(x => ids.Contains(x.DefinitionId));
        }
        if (f.Name is not null) query = query.Where(x => x.Name == f.Name);
        if (f.IsSystem is { } isSystem) query = query.Where(x => x.IsSystem == isSystem);
        if (f.VersionOptions is { } options) query = ApplyVersion(query, options);
        if (!string.IsNullOrEmpty(f.SearchTerm))
        {
            var term = StoreQueries.NormalizeSearch(f.SearchTerm);
            query = query.Where(x => (x.Name != null && PlatformDbFunctions.Fold(x.Name)!.Contains(term))
                                     || (x.Description != null && PlatformDbFunctions.Fold(x.Description)!.Contains(term))
                                     || PlatformDbFunctions.Fold(x.DefinitionId)!.Contains(term));
        }
        return query;
    }

    /// <summary>The same selection as <see cref="VersionOptions.Matches"/>, in SQL.</summary>
    private static IQueryable<WorkflowDefinitionEntity> ApplyVersion(IQueryable<WorkflowDefinitionEntity> query, VersionOptions options) => options.Kind switch
    {
        "Latest" => query.Where(x => x.IsLatest),
        "Published" => query.Where(x => x.IsPublished),
        "LatestOrPublished" => query.Where(x => x.IsLatest || x.IsPublished),
        "LatestAndPublished" => query.Where(x => x.IsLatest && x.IsPublished),
        "Draft" => query.Where(x => !x.IsPublished),
        "Version" => options.Version is { } version ? query.Where(x => x.Version == version) : query.Where(x => false),
        _ => query,
    };
}
