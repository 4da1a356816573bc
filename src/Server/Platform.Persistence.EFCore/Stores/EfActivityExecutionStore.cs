using Microsoft.EntityFrameworkCore;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Entities;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>Reads the journal in <c>activity_executions</c> (written by <see cref="EfWorkflowCommitStore"/>).</summary>
public sealed class EfActivityExecutionStore(IDbContextFactory<PlatformDbContext> factory) : IActivityExecutionStore
{
    /// <inheritdoc />
    public async Task<ActivityExecutionRecord?> FindAsync(string id, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await using var db = factory.CreateDbContext();
        var entity = await db.ActivityExecutions.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, ct).ConfigureAwait(false);
        return entity is null ? null : EntityMapper.ToModel(entity);
    }

    /// <summary>Ordered by sequence, then id.</summary>
    public async Task<Page<ActivityExecutionRecord>> FindManyAsync(ActivityExecutionFilter filter, PageArgs page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var (skip, take) = StoreQueries.Normalize(page);
        await using var db = factory.CreateDbContext();
        IQueryable<ActivityExecutionEntity> query = db.ActivityExecutions.AsNoTracking();
        if (filter.WorkflowInstanceId is not null) query = query.Where(x => x.WorkflowInstanceId == filter.WorkflowInstanceId);
        if (filter.ActivityNodeId is not null) query = query.Where(x => x.ActivityNodeId == filter.ActivityNodeId);
        if (filter.ActivityId is not null) query = query.Where(x => x.ActivityId == filter.ActivityId);
        var total = await query.LongCountAsync(ct).ConfigureAwait(false);
        if (take == 0 || skip >= total) return new Page<ActivityExecutionRecord>([], total);
        var rows = await query.OrderBy(x => x.Sequence).ThenBy(x => x.Id).Skip(skip).Take(take).ToListAsync(ct).ConfigureAwait(false);
        return new Page<ActivityExecutionRecord>(rows.ConvertAll(EntityMapper.ToModel), total);
    }
}
