using Hangfire;
using Hangfire.States;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Engine.Runtime;

namespace Platform.Scheduling.Hangfire;

/// <summary>
/// Schedules timed bookmarks as Hangfire jobs (through <see cref="IBackgroundJobClient"/>, never the static API) and records each
/// job id in the <see cref="BookmarkJobIndex"/> for the recovery sweep.
/// </summary>
public sealed class HangfireBookmarkScheduler(IBackgroundJobClient jobs, JobStorage storage, TimeProvider clock) : IBookmarkScheduler
{
    public ValueTask ScheduleAsync(string instanceId, string bookmarkId, DateTimeOffset resumeAt, CancellationToken ct)
    {
        var jobId = jobs.Schedule<ResumeBookmarkJob>(j => j.RunAsync(instanceId, bookmarkId), resumeAt);
        var untilDue = resumeAt - clock.GetUtcNow();
        BookmarkJobIndex.Record(storage, bookmarkId, jobId, (untilDue > TimeSpan.Zero ? untilDue : TimeSpan.Zero) + TimeSpan.FromDays(1));
        return ValueTask.CompletedTask;
    }
}

/// <summary>Runs background activities as <see cref="RunActivityJob"/> jobs (ids only), recording each job id in the <see cref="BookmarkJobIndex"/>.</summary>
public sealed class HangfireBackgroundDispatcher(IBackgroundJobClient jobs, JobStorage storage) : IBackgroundActivityDispatcher
{
    public ValueTask DispatchAsync(string instanceId, string bookmarkId, CancellationToken ct)
    {
        var jobId = jobs.Enqueue<RunActivityJob>(j => j.RunAsync(instanceId, bookmarkId, CancellationToken.None));
        BookmarkJobIndex.Record(storage, bookmarkId, jobId, TimeSpan.FromDays(1));
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Keeps one recurring job per published cron trigger (<c>cron:{definitionId}:{activityId}</c>) and per published Timer trigger
/// (<c>timer:{definitionId}:{activityId}</c>, firing every <see cref="TimerSchedule.Tick"/>); removes them when the workflow is retracted or deleted.
/// </summary>
public sealed class CronPublicationHandler(IRecurringJobManager recurring, JobStorage storage, ILogger<CronPublicationHandler> logger) : IWorkflowPublicationHandler
{
    public Task OnPublishedAsync(WorkflowDefinition definition, IReadOnlyList<StoredTrigger> triggers, CancellationToken ct)
    {
        var crons = triggers.Where(t => t.Name == CronTriggerNames.Cron && !string.IsNullOrWhiteSpace(t.Key)).ToList();
        var timers = new List<(StoredTrigger Trigger, TimeSpan Interval)>();
        foreach (var t in triggers.Where(t => t.Name == CronTriggerNames.Timer))
            if (TimerSchedule.TryParseKey(t.Key, out var interval)) timers.Add((t, interval));
            else logger.LogWarning("Timer trigger {ActivityId} of {DefinitionId} has no valid interval (at least 1 s, a literal); it is not scheduled.", t.ActivityId, t.DefinitionId);
        var wantedIds = crons.Select(t => JobId(t.DefinitionId, t.ActivityId)).Concat(timers.Select(t => TimerJobId(t.Trigger.DefinitionId, t.Trigger.ActivityId))).ToHashSet();
        RemoveStale(definition.DefinitionId, wantedIds);
        var options = new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc };
        foreach (var t in crons)
        {
            var definitionId = t.DefinitionId;
            var activityId = t.ActivityId;
            recurring.AddOrUpdate<CronTriggerJob>(JobId(definitionId, activityId), j => j.RunAsync(definitionId, activityId, null), t.Key!, options);
            logger.LogInformation("Cron trigger {ActivityId} of {DefinitionId} scheduled: {Cron}.", activityId, definitionId, t.Key);
        }
        foreach (var (t, interval) in timers)
        {
            var definitionId = t.DefinitionId;
            var activityId = t.ActivityId;
            var cron = TimerSchedule.Cron(interval);
            recurring.AddOrUpdate<TimerTriggerJob>(TimerJobId(definitionId, activityId), j => j.RunAsync(definitionId, activityId, null), cron, options);
            logger.LogInformation("Timer trigger {ActivityId} of {DefinitionId} scheduled every {Interval} (recurring job {Cron}).", activityId, definitionId, interval, cron);
        }
        return Task.CompletedTask;
    }

    public Task OnRetractedAsync(string definitionId, CancellationToken ct)
    {
        RemoveStale(definitionId, []);
        return Task.CompletedTask;
    }

    private void RemoveStale(string definitionId, HashSet<string> keep)
    {
        using var connection = storage.GetConnection();
        foreach (var job in connection.GetRecurringJobs())
            if ((job.Id.StartsWith(JobPrefix(definitionId), StringComparison.Ordinal) || job.Id.StartsWith(TimerJobPrefix(definitionId), StringComparison.Ordinal))
                && !keep.Contains(job.Id))
                recurring.RemoveIfExists(job.Id);
    }

    private static string JobPrefix(string definitionId) => $"cron:{definitionId}:";
    private static string TimerJobPrefix(string definitionId) => $"timer:{definitionId}:";

    /// <summary>The recurring job id of a cron trigger.</summary>
    public static string JobId(string definitionId, string activityId) => JobPrefix(definitionId) + activityId;

    /// <summary>The recurring job id of a Timer trigger.</summary>
    public static string TimerJobId(string definitionId, string activityId) => TimerJobPrefix(definitionId) + activityId;
}

/// <summary>
/// At start-up, schedules a job for every timed bookmark in the engine's own tables that has no job waiting for it. The engine
/// store is the source of truth: with in-memory job storage nothing survives a restart, and with PostgreSQL a timer whose job
/// is still scheduled is left alone (duplicates would be harmless, since resuming is idempotent, but cost work).
/// With in-memory storage it also queues again every background activity (its job died with the previous process); with
/// PostgreSQL, <see cref="JobRecoveryService"/> queues those whose job was lost.
/// </summary>
public sealed class TimerRecoveryService(IBookmarkStore bookmarks, IBookmarkScheduler scheduler, IBackgroundActivityDispatcher background, JobStorage storage,
    TimeProvider clock, ILogger<TimerRecoveryService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var inMemory = storage is global::Hangfire.InMemory.InMemoryStorage;
        var timed = await bookmarks.FindDueAsync(DateTimeOffset.MaxValue, int.MaxValue, cancellationToken);
        var rescheduled = 0;
        using (var connection = storage.GetConnection())
        {
            foreach (var b in timed)
            {
                if (!inMemory && BookmarkJobIndex.HasWaitingJob(connection, b.Id)) continue;
                await scheduler.ScheduleAsync(b.WorkflowInstanceId, b.Id, b.ResumeAt ?? clock.GetUtcNow(), cancellationToken);
                rescheduled++;
            }
        }
        if (rescheduled > 0) logger.LogInformation("Rescheduled {Count} timer(s) from the workflow store.", rescheduled);
        if (inMemory)
        {
            var pending = await bookmarks.FindAsync(BackgroundActivities.BookmarkName, null, cancellationToken);
            foreach (var b in pending) await background.DispatchAsync(b.WorkflowInstanceId, b.Id, cancellationToken);
            if (pending.Count > 0) logger.LogInformation("Queued {Count} background activit(ies) again from the workflow store.", pending.Count);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Hangfire storage choices.</summary>
public enum HangfireStorageKind
{
    /// <summary>Hangfire.InMemory (embedded default; the engine reschedules from its own tables at start).</summary>
    InMemory,
    /// <summary>Hangfire.PostgreSql (production, multi-node).</summary>
    PostgreSql,
}

public static class HangfireSchedulingExtensions
{
    /// <summary>
    /// Runs the engine's timers and cron triggers on Hangfire, replacing the in-process timer. Adds a Hangfire server
    /// (<paramref name="workerCount"/> workers) unless <paramref name="addServer"/> is false.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="storage">Where Hangfire keeps its jobs.</param>
    /// <param name="postgresConnectionString">The PostgreSQL connection string (PostgreSql storage).</param>
    /// <param name="addServer">Whether this process runs jobs.</param>
    /// <param name="workerCount">Hangfire workers.</param>
    /// <param name="shutdownTimeout">How long stopping waits for running jobs (default 30 s, like the engine's shutdown).</param>
    public static IServiceCollection AddHangfireScheduling(this IServiceCollection services, HangfireStorageKind storage, string? postgresConnectionString = null,
        bool addServer = true, int workerCount = 4, TimeSpan? shutdownTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<HangfireSchedulingOptions>(); // recovery interval and grace period; the host binds Platform:Scheduling
        if (storage == HangfireStorageKind.PostgreSql && string.IsNullOrWhiteSpace(postgresConnectionString))
            throw new InvalidOperationException("Hangfire on PostgreSQL needs a connection string: set ConnectionStrings:Platform (the platform database is used).");

        // In-memory storage belongs to this host's container, not to the process-wide JobStorage.Current: several hosts in one
        // process (tests) must not share, or use after disposal, each other's storage (Hangfire#2151).
        // PostgreSQL storage likewise: JobStorage.Current is whichever host configured Hangfire last.
        if (storage == HangfireStorageKind.InMemory)
            services.AddSingleton<JobStorage>(_ => new global::Hangfire.InMemory.InMemoryStorage());
        else
            services.AddSingleton<JobStorage>(sp =>
            {
                var options = new global::Hangfire.PostgreSql.PostgreSqlStorageOptions();
                if (sp.GetService<IOptions<HangfireSchedulingOptions>>()?.Value.QueuePollInterval is { } poll && poll > TimeSpan.Zero)
                    options.QueuePollInterval = poll;
                return new global::Hangfire.PostgreSql.PostgreSqlStorage(
                    new global::Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(postgresConnectionString!, options), options);
            });
        // The job activator too: Hangfire's default is JobActivator.Current, the container of whichever host configured Hangfire
        // last, so a job could run with another host's services.
        services.AddSingleton<JobActivator>(sp => new global::Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, config) =>
            config.SetDataCompatibilityLevel(CompatibilityLevel.Version_180).UseSimpleAssemblyNameTypeSerializer().UseRecommendedSerializerSettings()
                .UseStorage(sp.GetRequiredService<JobStorage>()));
        if (addServer)
            services.AddHangfireServer(o =>
            {
                o.WorkerCount = workerCount;
                o.SchedulePollingInterval = TimeSpan.FromMilliseconds(250);
                o.ServerName = $"{Environment.MachineName}:{Environment.ProcessId}";
                o.ShutdownTimeout = shutdownTimeout ?? TimeSpan.FromSeconds(30);
            });

        // Replace the in-process timer with Hangfire jobs (the in-process loop then stays idle).
        services.RemoveAll<IBookmarkScheduler>();
        services.AddSingleton<IBookmarkScheduler, HangfireBookmarkScheduler>();
        services.AddTransient<ResumeBookmarkJob>();
        services.AddTransient<CronTriggerJob>();
        services.AddTransient<TimerTriggerJob>();
        services.RemoveAll<IBackgroundActivityDispatcher>();
        services.AddSingleton<IBackgroundActivityDispatcher, HangfireBackgroundDispatcher>();
        services.AddTransient<RunActivityJob>();
        services.AddSingleton<IWorkflowPublicationHandler, CronPublicationHandler>();
        services.AddHostedService<TimerRecoveryService>();
        // Lost jobs (a crash between a commit and its enqueue) are queued again; after TimerRecoveryService, which reschedules at start.
        services.TryAddSingleton<JobRecoveryService>();
        services.AddHostedService(sp => sp.GetRequiredService<JobRecoveryService>());

        // Multi-node: each instance runs on one node at a time (a PostgreSQL advisory lock instead of the in-process one), and each
        // background activity is claimed by one job at a time.
        if (storage == HangfireStorageKind.PostgreSql)
        {
            services.RemoveAll<IInstanceLock>();
            services.AddSingleton<IInstanceLock>(new PostgresInstanceLock(postgresConnectionString!));
            services.RemoveAll<IBackgroundActivityClaim>();
            services.AddSingleton<IBackgroundActivityClaim>(new PostgresBackgroundActivityClaim(postgresConnectionString!));
        }
        else
        {
            services.TryAddSingleton<IBackgroundActivityClaim, InProcessBackgroundActivityClaim>();
        }
        return services;
    }
}
