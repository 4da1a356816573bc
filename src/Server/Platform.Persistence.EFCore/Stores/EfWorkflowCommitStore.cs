using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>
/// Saves one burst of execution atomically: upserts the instance, replaces its bookmarks, upserts its journal records,
/// inserts its outbox messages and marks the inbox message it processed. Either all of it is stored or none of it, which is
/// what lets a crashed run continue from the last commit.
/// </summary>
/// <remarks>
/// <para>All rows of a commit go in one multi-statement command (upsert instance; delete bookmarks; insert bookmarks; upsert
/// journal; insert outbox), plus the inbox update. Serialisation to JSON happens on the caller's thread, before any wait.</para>
/// <para><b>Group commit.</b> Commits are queued to one writer (<see cref="PlatformDatabaseSettings.GroupCommitMaxBatch"/> &gt; 1,
/// the default). The writer takes every commit waiting at that moment (up to the batch size) and stores them in ONE
/// transaction, each inside its own savepoint, so a commit that fails (a constraint, a bad row) is rolled back alone and
/// reported to its caller while the others are stored. Every caller is released only after the transaction that holds its
/// commit is committed, so a caller never sees "stored" for data that a crash could still lose. There is no timer: while
/// one batch is being written the next one collects, so a lone commit waits for nothing and a busy node writes large
/// batches. On SQLite the writer holds the <see cref="PlatformWriteGate"/> per batch instead of per commit.</para>
/// </remarks>
public sealed class EfWorkflowCommitStore : IWorkflowCommitStore, IAsyncDisposable, IDisposable
{
    private readonly IDbContextFactory<PlatformDbContext> _factory;
    private readonly PlatformWriteGate _gate;
    private readonly ILogger _logger;
    private readonly int _maxBatch;
    private readonly Channel<Pending>? _queue;
    private readonly Task[] _writers = [];

    /// <summary>Creates the store; with a batch size above one it starts its writers (one on SQLite, two on PostgreSQL).</summary>
    public EfWorkflowCommitStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate, PlatformDatabaseSettings? settings = null,
        ILogger<EfWorkflowCommitStore>? logger = null)
    {
        _factory = factory;
        _gate = gate;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _maxBatch = settings?.GroupCommitMaxBatch ?? PlatformDatabaseSettings.DefaultGroupCommitMaxBatch;
        if (_maxBatch <= 1) return;
        _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
        var writers = settings?.Provider == PlatformDatabaseProvider.PostgreSql ? 2 : 1; // SQLite has one writer anyway
        _writers = new Task[writers];
        for (var i = 0; i < writers; i++) _writers[i] = Task.Run(WriteLoopAsync);
    }

    /// <summary>How many transactions the group committer wrote, and how many commits they held (for tests and benchmarks).</summary>
    public (long Transactions, long Commits) GroupCommitCounts => (Interlocked.Read(ref _transactions), Interlocked.Read(ref _committed));
    private long _transactions;
    private long _committed;

    /// <inheritdoc />
    public Task CommitAsync(WorkflowCommit commit, CancellationToken ct = default)
    {
        var rows = Prepare(commit);
        if (_queue is null) return WriteAsync([rows], rehearse: false, ct);
        var pending = new Pending(rows);
        if (!_queue.Writer.TryWrite(pending)) throw new ObjectDisposedException(nameof(EfWorkflowCommitStore), "The platform database is shutting down.");
        // Not cancelled once queued: the commit may be in a transaction already, and a caller told "cancelled" must not find it stored.
        return pending.Done.Task;
    }

    /// <summary>Writes the commit as <see cref="CommitAsync"/> does, then rolls it back (the start-up warm-up).</summary>
    internal Task RehearseAsync(WorkflowCommit commit, CancellationToken ct) => WriteAsync([Prepare(commit)], rehearse: true, ct);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_queue is null) return;
        _queue.Writer.TryComplete();
        try { await Task.WhenAll(_writers).ConfigureAwait(false); }
        catch (Exception e) when (e is not OutOfMemoryException) { _logger.LogDebug(e, "Group commit writer ended with an error."); }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_queue is null) return;
        _queue.Writer.TryComplete(); // the writers finish what is queued, then end
    }

    private sealed record Rows(WorkflowCommit Commit, WorkflowInstanceEntity[] Instance, List<BookmarkEntity> Bookmarks, List<ActivityExecutionEntity> Journal);

    private sealed class Pending(Rows rows)
    {
        public Rows Rows { get; } = rows;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static Rows Prepare(WorkflowCommit commit)
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
        return new Rows(commit, instanceRow, bookmarks.ConvertAll(EntityMapper.ToEntity), journal.ConvertAll(EntityMapper.ToEntity));
    }

    private async Task WriteLoopAsync()
    {
        var reader = _queue!.Reader;
        var batch = new List<Pending>(_maxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            batch.Clear();
            while (batch.Count < _maxBatch && reader.TryRead(out var p)) batch.Add(p);
            if (batch.Count == 0) continue;
            await WriteBatchAsync(batch).ConfigureAwait(false);
        }
    }

    private async Task WriteBatchAsync(List<Pending> batch)
    {
        Exception?[] failures;
        try
        {
            failures = await WriteCoreAsync(batch.ConvertAll(p => p.Rows), rehearse: false, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The transaction itself failed (connection lost, disk full, commit refused): nothing of the batch is stored.
            _logger.LogWarning(e, "A group commit of {Count} workflow commit(s) failed; each caller gets the error.", batch.Count);
            foreach (var p in batch) p.Done.TrySetException(e);
            return;
        }
        Interlocked.Increment(ref _transactions);
        for (var i = 0; i < batch.Count; i++)
        {
            if (failures[i] is { } failure) batch[i].Done.TrySetException(failure);
            else
            {
                Interlocked.Increment(ref _committed);
                batch[i].Done.TrySetResult();
            }
        }
    }

    private async Task WriteAsync(Rows[] commits, bool rehearse, CancellationToken ct)
    {
        var failures = await WriteCoreAsync(commits, rehearse, ct).ConfigureAwait(false);
        if (failures[0] is { } failure) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>Writes the commits in one transaction (a savepoint each when there are several); the failure of each, or null.</summary>
    private async Task<Exception?[]> WriteCoreAsync(IReadOnlyList<Rows> commits, bool rehearse, CancellationToken ct)
    {
        var failures = new Exception?[commits.Count];
        using var turn = await _gate.EnterAsync(ct).ConfigureAwait(false);
        await using var db = _factory.CreateDbContext();
        await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
        if (commits.Count == 1)
        {
            // Alone: a failure fails the transaction and goes to the caller as before.
            await WriteOneAsync(db, commits[0], ct).ConfigureAwait(false);
        }
        else
        {
            for (var i = 0; i < commits.Count; i++)
            {
                var savepoint = "c" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await tx.CreateSavepointAsync(savepoint, ct).ConfigureAwait(false);
                try
                {
                    await WriteOneAsync(db, commits[i], ct).ConfigureAwait(false);
                    await tx.ReleaseSavepointAsync(savepoint, ct).ConfigureAwait(false);
                }
                catch (DbUpdateException e)
                {
                    failures[i] = e;
                    await tx.RollbackToSavepointAsync(savepoint, ct).ConfigureAwait(false);
                    await tx.ReleaseSavepointAsync(savepoint, ct).ConfigureAwait(false);
                }
            }
        }
        if (rehearse) await tx.RollbackAsync(ct).ConfigureAwait(false);
        else await tx.CommitAsync(ct).ConfigureAwait(false);
        return failures;
    }

    private static async Task WriteOneAsync(PlatformDbContext db, Rows rows, CancellationToken ct)
    {
        var commit = rows.Commit;
        var instanceId = commit.Instance.Id;
        // One round trip: the instance, its bookmarks and journal, the outbox rows and the inbox mark.
        await using var batch = new BatchCommand(db);
        if (commit.IncludesInstance)
            batch.Upsert(rows.Instance)
                .DeleteWhere<BookmarkEntity>(nameof(BookmarkEntity.WorkflowInstanceId), instanceId)
                .Insert(rows.Bookmarks)
                .Upsert(rows.Journal);
        if (commit.Outbox.Count > 0) batch.Insert(commit.Outbox);
        if (commit.ProcessedInboxMessageId is { } inboxId)
            batch.Update<InboxMessage>(inboxId,
            [
                (nameof(InboxMessage.Status), InboxStatus.Processed), (nameof(InboxMessage.ProcessedAt), commit.Instance.UpdatedAt),
                (nameof(InboxMessage.LeaseUntil), null), (nameof(InboxMessage.WorkflowInstanceId), instanceId),
            ]);
        await batch.ExecuteAsync(ct).ConfigureAwait(false);
    }
}
