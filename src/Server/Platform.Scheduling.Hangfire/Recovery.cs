using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Engine.Contracts;
using Platform.Engine.Runtime;

namespace Platform.Scheduling.Hangfire;

/// <summary>Options of Hangfire scheduling (<c>Platform:Scheduling</c> in the server's configuration).</summary>
public sealed class HangfireSchedulingOptions
{
    /// <summary>The configuration section the server binds.</summary>
    public const string SectionName = "Platform:Scheduling";

    /// <summary>Hangfire workers per node (default 4).</summary>
    public int WorkerCount { get; set; } = 4;

    /// <summary>
    /// How often an idle Hangfire worker asks PostgreSQL for a queued job (null: Hangfire.PostgreSql's default, 15 s). A node's
    /// own enqueues wake its workers at once; the other nodes see a job only when they poll, so with two or more nodes a shorter
    /// interval spreads due timers over all of them, at the cost of one cheap query per idle worker and interval.
    /// </summary>
    public TimeSpan? QueuePollInterval { get; set; }

    /// <summary>How often the recovery sweep looks for lost jobs (default 5 s; zero or less turns the periodic sweep off).</summary>
    public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How old a background-activity bookmark, or how overdue a timer, must be before the sweep treats its missing job as lost
    /// (default 10 s). It covers the moment between a commit and its enqueue on a live node. A job that merely runs long is never
    /// taken: its node holds the bookmark's claim (a PostgreSQL session lock) until it has resumed the instance. With the defaults a
    /// job lost in a crash runs again within grace + interval (15 s) of the crash, plus the time to pick it up.
    /// </summary>
    public TimeSpan RecoveryGracePeriod { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// Which Hangfire job was last queued for a bookmark: a Hangfire hash <c>platform:bookmark-job:{bookmarkId}</c> with the field
/// <c>jobId</c>, written after the enqueue and expiring on its own. The recovery sweep reads it to tell a lost job from a
/// waiting one.
/// </summary>
public static class BookmarkJobIndex
{
    private const string Field = "jobId";

    /// <summary>The hash key of a bookmark.</summary>
    public static string Key(string bookmarkId) => "platform:bookmark-job:" + bookmarkId;

    /// <summary>Records <paramref name="jobId"/> as the job of <paramref name="bookmarkId"/> for <paramref name="keepFor"/>.</summary>
    public static void Record(JobStorage storage, string bookmarkId, string jobId, TimeSpan keepFor)
    {
        using var connection = storage.GetConnection();
        using var transaction = connection.CreateWriteTransaction();
        transaction.SetRangeInHash(Key(bookmarkId), [new KeyValuePair<string, string>(Field, jobId)]);
        if (transaction is JobStorageTransaction expiring) expiring.ExpireHash(Key(bookmarkId), keepFor);
        transaction.Commit();
    }

    private static readonly HashSet<string> WaitingStates = new(StringComparer.OrdinalIgnoreCase)
    {
        EnqueuedState.StateName, ScheduledState.StateName, AwaitingState.StateName,
    };

    /// <summary>True when the bookmark's last recorded job still waits to run (Enqueued, Scheduled or Awaiting).</summary>
    public static bool HasWaitingJob(IStorageConnection connection, string bookmarkId) =>
        Find(connection, bookmarkId) is { } jobId && connection.GetJobData(jobId)?.State is { } state && WaitingStates.Contains(state);

    /// <summary>The recorded job id, or null.</summary>
    public static string? Find(IStorageConnection connection, string bookmarkId) =>
        connection.GetAllEntriesFromHash(Key(bookmarkId)) is { } entries && entries.TryGetValue(Field, out var id) ? id : null;
}

/// <summary>
/// Cross-node claim of a background activity: a session-level <c>pg_try_advisory_lock</c> on a dedicated connection, held while
/// the activity runs and until its instance has been resumed. A node killed mid-run loses its session, and with it the claim.
/// </summary>
public sealed class PostgresBackgroundActivityClaim : IBackgroundActivityClaim
{
    /// <summary>The application name of the claim connections.</summary>
    public const string ApplicationName = "platform-background-claim";

    private readonly string _connectionString;

    public PostgresBackgroundActivityClaim(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = ApplicationName, NoResetOnClose = false }.ConnectionString;
    }

    /// <inheritdoc />
    public async ValueTask<IAsyncDisposable?> TryClaimAsync(string bookmarkId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(bookmarkId);
        var key = "platform-background:" + bookmarkId; // not an instance id: the instance lock uses those
        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended(@key, 0))", connection);
            command.Parameters.AddWithValue("key", key);
            if (await command.ExecuteScalarAsync(ct).ConfigureAwait(false) is true) return new Held(connection, key);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    private sealed class Held(NpgsqlConnection connection, string key) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended(@key, 0))", connection);
                command.Parameters.AddWithValue("key", key);
                await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The session is gone (and its lock with it), or DISCARD ALL drops the lock when the connection returns to the pool.
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

/// <summary>What one recovery sweep queued again.</summary>
/// <param name="BackgroundActivities">Background activities whose job was lost.</param>
/// <param name="Timers">Overdue timers whose job was lost.</param>
public sealed record RecoverySweepResult(int BackgroundActivities, int Timers);

/// <summary>
/// Queues again the jobs a crash lost. The workflow store is the source of truth: a node killed after committing an instance
/// and before enqueuing its job leaves a bookmark without a job. At start-up and every <see cref="HangfireSchedulingOptions.RecoveryInterval"/>,
/// this sweep finds background-activity bookmarks older than <see cref="HangfireSchedulingOptions.RecoveryGracePeriod"/> and timers
/// overdue by more than it, and queues a job for each one that has no live job: not claimed by a running job, and its last
/// recorded job (see <see cref="BookmarkJobIndex"/>) not waiting in Hangfire (Enqueued, Scheduled or Awaiting). Queuing twice is
/// harmless: <see cref="RunActivityJob"/> claims the bookmark, and <see cref="ResumeBookmarkJob"/> skips a resumed bookmark.
/// One node sweeps at a time (a Hangfire distributed lock).
/// </summary>
public sealed class JobRecoveryService(IBookmarkStore bookmarks, IBookmarkScheduler scheduler, IBackgroundActivityDispatcher background,
    IBackgroundActivityClaim claims, JobStorage storage, TimeProvider clock, IOptions<HangfireSchedulingOptions> options, ILogger<JobRecoveryService> logger)
    : BackgroundService
{
    private const string LockResource = "platform:job-recovery";
    private const int MaxTimersPerSweep = 1_000;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.RecoveryInterval;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e)
            {
                logger.LogError(e, "The job recovery sweep failed; it runs again in {Interval}.", interval);
            }
            if (interval <= TimeSpan.Zero) break;
            try { await Task.Delay(interval, clock, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>Runs one sweep now; skipped (zero counts) while another node sweeps.</summary>
    public async Task<RecoverySweepResult> SweepAsync(CancellationToken ct = default)
    {
        using var connection = storage.GetConnection();
        IDisposable sweepLock;
        try { sweepLock = connection.AcquireDistributedLock(LockResource, TimeSpan.FromSeconds(1)); }
        catch (DistributedLockTimeoutException)
        {
            logger.LogDebug("Another node is sweeping for lost jobs.");
            return new RecoverySweepResult(0, 0);
        }
        using (sweepLock)
        {
            var grace = options.Value.RecoveryGracePeriod;
            var now = clock.GetUtcNow();
            var requeued = 0;
            foreach (var b in await bookmarks.FindAsync(BackgroundActivities.BookmarkName, null, ct))
            {
                if (b.CreatedAt > now - grace || await IsRunningAsync(b.Id, ct) || BookmarkJobIndex.HasWaitingJob(connection, b.Id)) continue;
                if (await bookmarks.FindByIdAsync(b.Id, ct) is null) continue; // resumed meanwhile
                logger.LogWarning("Background activity {ActivityId} of {InstanceId} (bookmark {BookmarkId}) has no job; queuing it again.",
                    b.ActivityId, b.WorkflowInstanceId, b.Id);
                await background.DispatchAsync(b.WorkflowInstanceId, b.Id, ct);
                requeued++;
            }

            var timers = 0;
            foreach (var b in await bookmarks.FindDueAsync(now - grace, MaxTimersPerSweep, ct))
            {
                if (BookmarkJobIndex.HasWaitingJob(connection, b.Id)) continue;
                logger.LogWarning("Timer {BookmarkId} of {InstanceId} was due at {ResumeAt:o} and has no job; scheduling it now.", b.Id, b.WorkflowInstanceId, b.ResumeAt);
                await scheduler.ScheduleAsync(b.WorkflowInstanceId, b.Id, now, ct);
                timers++;
            }
            if (requeued + timers > 0)
                logger.LogInformation("Job recovery: queued {Background} background activit(ies) and {Timers} timer(s) again.", requeued, timers);
            return new RecoverySweepResult(requeued, timers);
        }
    }

    /// <summary>True when a job holds the bookmark's claim now (the probe releases it at once).</summary>
    private async Task<bool> IsRunningAsync(string bookmarkId, CancellationToken ct)
    {
        await using var probe = await claims.TryClaimAsync(bookmarkId, ct);
        return probe is null;
    }
}
