using Microsoft.EntityFrameworkCore;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>Instances in <c>workflow_instances</c>; their state is written by <see cref="EfWorkflowCommitStore"/>.</summary>
public sealed class EfWorkflowInstanceStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : IWorkflowInstanceStore
{
    /// <inheritdoc />
    public async Task<WorkflowInstance?> FindAsync(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await using var db = factory.CreateDbContext();
        var entity = await db.WorkflowInstances.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, ct).ConfigureAwait(false);
        return entity is null ? null : EntityMapper.ToModel(entity);
    }

    /// <summary>Sorted by <paramref name="orderBy"/> (missing names and finish times sort lowest, as in LINQ), then by id.</summary>
    public async Task<Page<WorkflowInstance>> FindManyAsync(WorkflowInstanceFilter filter, PageArgs page, InstanceOrderBy orderBy = InstanceOrderBy.CreatedAt,
        bool descending = true, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var (skip, take) = StoreQueries.Normalize(page);
        await using var db = factory.CreateDbContext();
        var query = Apply(db.WorkflowInstances.AsNoTracking(), filter);
        var total = await query.LongCountAsync(ct).ConfigureAwait(false);
        if (take == 0 || skip >= total) return new Page<WorkflowInstance>([], total);
        var rows = await Order(query, orderBy, descending).Skip(skip).Take(take).ToListAsync(ct).ConfigureAwait(false);
        return new Page<WorkflowInstance>(rows.ConvertAll(EntityMapper.ToModel), total);
    }

    /// <summary>Deletes the instances; their bookmarks and journal go with them (ON DELETE CASCADE), in one statement.</summary>
    public async Task<int> DeleteManyAsync(WorkflowInstanceFilter filter, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        using var turn = await gate.EnterAsync(ct).ConfigureAwait(false);
        await using var db = factory.CreateDbContext();
        return await Apply(db.WorkflowInstances, filter).ExecuteDeleteAsync(ct).ConfigureAwait(false);
    }

    private static IQueryable<WorkflowInstanceEntity> Apply(IQueryable<WorkflowInstanceEntity> query, WorkflowInstanceFilter f)
    {
        if (f.Id is not null) query = query.Where(x => x.Id == f.Id);
        if (f.Ids is not null)
        {
            var ids = f.Ids.ToArray();
            query = query.Where(x => ids.Contains(x.Id));
        }
        if (f.DefinitionId is not null) query = query.Where(x => x.DefinitionId == f.DefinitionId);
        if (f.DefinitionIds is not null)
        {
            var ids = f.DefinitionIds.ToArray();
            query = query.Where(x => ids.Contains(x.DefinitionId));
        }
        if (f.DefinitionVersionId is not null) query = query.Where(x => x.DefinitionVersionId == f.DefinitionVersionId);
        if (f.CorrelationId is not null) query = query.Where(x => x.CorrelationId == f.CorrelationId);
        if (f.Statuses is not null)
        {
            var statuses = f.Statuses.ToArray();
            query = query.Where(x => statuses.Contains(x.Status));
        }
        if (f.SubStatuses is not null)
        {
            var subStatuses = f.SubStatuses.ToArray();
            query = query.Where(x => subStatuses.Contains(x.SubStatus));
        }
        if (!string.IsNullOrEmpty(f.SearchTerm))
        {
            var term = StoreQueries.NormalizeSearch(f.SearchTerm);
            query = query.Where(x => (x.Name != null && PlatformDbFunctions.Fold(x.Name)!.Contains(term))
                                     || PlatformDbFunctions.Fold(x.Id)!.Contains(term)
                                     || (x.CorrelationId != null && PlatformDbFunctions.Fold(x.CorrelationId)!.Contains(term))
                                     || PlatformDbFunctions.Fold(x.DefinitionId)!.Contains(term));
        }
        return query;
    }

    private static IQueryable<WorkflowInstanceEntity> Order(IQueryable<WorkflowInstanceEntity> q, InstanceOrderBy orderBy, bool descending) =>
        (orderBy, descending) switch
        {
            (InstanceOrderBy.UpdatedAt, false) => q.OrderBy(x => x.UpdatedAt).ThenBy(x => x.Id),
            (InstanceOrderBy.UpdatedAt, true) => q.OrderByDescending(x => x.UpdatedAt).ThenByDescending(x => x.Id),
            // Providers disagree on where NULL sorts; sort on "has a value" first so both put missing values lowest.
            (InstanceOrderBy.FinishedAt, false) => q.OrderBy(x => x.FinishedAt != null).ThenBy(x => x.FinishedAt).ThenBy(x => x.Id),
            (InstanceOrderBy.FinishedAt, true) => q.OrderByDescending(x => x.FinishedAt != null).ThenByDescending(x => x.FinishedAt).ThenByDescending(x => x.Id),
            (InstanceOrderBy.Name, false) => q.OrderBy(x => x.Name != null).ThenBy(x => x.Name).ThenBy(x => x.Id),
            (InstanceOrderBy.Name, true) => q.OrderByDescending(x => x.Name != null).ThenByDescending(x => x.Name).ThenByDescending(x => x.Id),
            (_, false) => q.OrderBy(x => x.CreatedAt).ThenBy(x => x.Id),
            (_, true) => q.OrderByDescending(x => x.CreatedAt).ThenByDescending(x => x.Id),
        };
}
