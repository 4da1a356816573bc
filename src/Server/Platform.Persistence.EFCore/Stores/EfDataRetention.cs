using Microsoft.EntityFrameworkCore;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>
/// Deletes old rows in batches of <see cref="RetentionOptions.BatchSize"/>: the ids are read first (no lock), then each batch is
/// deleted in a short transaction of its own, inside the SQLite write gate, so serving never waits long behind it.
/// </summary>
public sealed class EfDataRetention(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : IDataRetention
{
    /// <inheritdoc />
    public async Task<RetentionResult> PurgeAsync(RetentionOptions options, DateTimeOffset now, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } error) throw new ArgumentException(error, nameof(options));
        int instances = 0, journal = 0, bookmarks = 0, inbox = 0, outbox = 0, dead = 0;
        var size = options.BatchSize;

        if (options.Instances > TimeSpan.Zero)
        {
            var cutoff = now - options.Instances;
            while (true)
            {
                List<string> ids;
                await using (var read = factory.CreateDbContext())
                    ids = await read.WorkflowInstances.AsNoTracking()
                        .Where(i => (i.SubStatus == WorkflowSubStatus.Finished || i.SubStatus == WorkflowSubStatus.Cancelled || i.SubStatus == WorkflowSubStatus.Faulted)
                            && i.UpdatedAt < cutoff)
                        .OrderBy(i => i.Id).Select(i => i.Id).Take(size).ToListAsync(ct).ConfigureAwait(false);
                if (ids.Count == 0) break;
                using (await gate.EnterAsync(ct).ConfigureAwait(false))
                {
                    await using var db = factory.CreateDbContext();
                    await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
                    journal += await db.ActivityExecutions.Where(e => ids.Contains(e.WorkflowInstanceId)).ExecuteDeleteAsync(ct).ConfigureAwait(false);
                    bookmarks += await db.Bookmarks.Where(b => ids.Contains(b.WorkflowInstanceId)).ExecuteDeleteAsync(ct).ConfigureAwait(false);
                    instances += await db.WorkflowInstances.Where(i => ids.Contains(i.Id)).ExecuteDeleteAsync(ct).ConfigureAwait(false);
                    await tx.CommitAsync(ct).ConfigureAwait(false);
                }
                if (ids.Count < size) break;
            }
        }

        if (options.Messages > TimeSpan.Zero)
        {
            var cutoff = now - options.Messages;
            inbox += await DeleteAsync<InboxMessage>(q => q.Where(m => m.Status == InboxStatus.Processed && m.ReceivedAt < cutoff).Select(m => m.Id),
                (q, ids) => q.Where(m => ids.Contains(m.Id)), size, ct).ConfigureAwait(false);
            outbox += await DeleteAsync<OutboxMessage>(q => q.Where(m => m.Status == OutboxStatus.Sent && m.CreatedAt < cutoff).Select(m => m.Id),
                (q, ids) => q.Where(m => ids.Contains(m.Id)), size, ct).ConfigureAwait(false);
        }

        if (options.DeadLetters > TimeSpan.Zero)
        {
            var cutoff = now - options.DeadLetters;
            dead += await DeleteAsync<OutboxMessage>(q => q.Where(m => m.Status == OutboxStatus.DeadLettered && m.CreatedAt < cutoff).Select(m => m.Id),
                (q, ids) => q.Where(m => ids.Contains(m.Id)), size, ct).ConfigureAwait(false);
            dead += await DeleteAsync<InboxMessage>(q => q.Where(m => m.Status == InboxStatus.Failed && m.ReceivedAt < cutoff).Select(m => m.Id),
                (q, ids) => q.Where(m => ids.Contains(m.Id)), size, ct).ConfigureAwait(false);
        }
        return new RetentionResult(instances, journal, bookmarks, inbox, outbox, dead);
    }

    private async Task<int> DeleteAsync<T>(Func<IQueryable<T>, IQueryable<string>> select, Func<IQueryable<T>, List<string>, IQueryable<T>> byIds,
        int size, CancellationToken ct) where T : class
    {
        var total = 0;
        while (true)
        {
            List<string> ids;
            await using (var read = factory.CreateDbContext())
                ids = await select(read.Set<T>().AsNoTracking()).OrderBy(id => id).Take(size).ToListAsync(ct).ConfigureAwait(false);
            if (ids.Count == 0) return total;
            using (await gate.EnterAsync(ct).ConfigureAwait(false))
            {
                await using var db = factory.CreateDbContext();
                total += await byIds(db.Set<T>(), ids).ExecuteDeleteAsync(ct).ConfigureAwait(false);
            }
            if (ids.Count < size) return total;
        }
    }
}
