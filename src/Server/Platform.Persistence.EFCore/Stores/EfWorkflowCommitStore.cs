using Microsoft.EntityFrameworkCore;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>
/// Saves one burst of execution in ONE transaction: upserts the instance, replaces its bookmarks, upserts its journal
/// records, inserts its outbox messages and marks the inbox message it processed. Either all of it is stored or none of it, which is what lets a crashed run continue from the last commit.
/// </summary>
/// <remarks>
/// All rows go in one multi-statement command (upsert instance; delete bookmarks; insert bookmarks; upsert journal), so a
/// commit is one round trip plus the transaction. Serialisation to JSON happens before the write turn is taken.
/// </remarks>
public sealed class EfWorkflowCommitStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : IWorkflowCommitStore
{
    /// <inheritdoc />
    public Task CommitAsync(WorkflowCommit commit, CancellationToken ct = default) => WriteAsync(commit, rehearse: false, ct);

    /// <summary>Writes the commit as <see cref="CommitAsync"/> does, then rolls it back (the start-up warm-up).</summary>
    internal Task RehearseAsync(WorkflowCommit commit, CancellationToken ct) => WriteAsync(commit, rehearse: true, ct);

    private async Task WriteAsync(WorkflowCommit commit, bool rehearse, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(commit);
        ArgumentNullException.ThrowIfNull(commit.Instance);
        var instanceId = commit.Instance.Id;
        var bookmarks = StoreQueries.LastPerId(commit.Bookmarks, b => b.Id);
        foreach (var b in bookmarks)
            if (b.WorkflowInstanceId != instanceId)
                throw new ArgumentException($"Bookmark '{b.Id}' belongs to instance '{b.WorkflowInstanceId}', not to the committed instance '{instanceId}'.", nameof(commit));
        var journal = StoreQueries.LastPerId(commit.Journal, r => r.Id);
        foreach (var r in journal)
            if (r.WorkflowInstanceId != instanceId)
                throw new ArgumentException($"Journal record '{r.Id}' belongs to instance '{r.WorkflowInstanceId}', not to the committed instance '{instanceId}'.", nameof(commit));

        if (!commit.IncludesInstance && (bookmarks.Count > 0 || journal.Count > 0))
            throw new ArgumentException($"A commit without its instance '{instanceId}' cannot carry bookmarks or journal records.", nameof(commit));

        WorkflowInstanceEntity[] instanceRow = commit.IncludesInstance ? [EntityMapper.ToEntity(commit.Instance)] : [];
        var bookmarkRows = bookmarks.ConvertAll(EntityMapper.ToEntity);
        var journalRows = journal.ConvertAll(EntityMapper.ToEntity);

        using var turn = await gate.EnterAsync(ct).ConfigureAwait(false);
        await using var db = factory.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        if (commit.IncludesInstance || commit.Outbox.Count > 0)
        {
            await using var batch = new BatchCommand(db);
            if (commit.IncludesInstance)
                batch.Upsert(instanceRow)
                    .DeleteWhere<BookmarkEntity>(nameof(BookmarkEntity.WorkflowInstanceId), instanceId)
                    .Insert(bookmarkRows)
                    .Upsert(journalRows);
            if (commit.Outbox.Count > 0) batch.Insert(commit.Outbox);
            await batch.ExecuteAsync(ct).ConfigureAwait(false);
        }
        if (commit.ProcessedInboxMessageId is { } inboxId)
        {
            var now = commit.Instance.UpdatedAt;
            await db.Set<InboxMessage>().Where(m => m.Id == inboxId)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, InboxStatus.Processed).SetProperty(m => m.ProcessedAt, now)
                    .SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null).SetProperty(m => m.WorkflowInstanceId, instanceId), ct).ConfigureAwait(false);
        }
        if (rehearse) await tx.RollbackAsync(ct).ConfigureAwait(false);
        else await tx.CommitAsync(ct).ConfigureAwait(false);
    }
}
