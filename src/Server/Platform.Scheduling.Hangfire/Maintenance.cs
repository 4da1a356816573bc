using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Engine.Contracts;

namespace Platform.Scheduling.Hangfire;

/// <summary>
/// Deletes old finished work (<see cref="RetentionOptions"/>). Takes no arguments. NEVER rename this class, its namespace or
/// its method: the recurring job refers to them. One run at a time across all nodes.
/// </summary>
public sealed class DataRetentionJob(IDataRetention retention, IOptions<RetentionOptions> options, TimeProvider clock, ILogger<DataRetentionJob> logger,
    IEnumerable<IRetentionParticipant>? participants = null)
{
    /// <summary>The recurring job's id.</summary>
    public const string JobId = "platform-retention";

    /// <summary>One retention run.</summary>
    [DisableConcurrentExecution(timeoutInSeconds: 10 * 60)]
    [AutomaticRetry(Attempts = 0)] // the next occurrence retries
    public async Task RunAsync()
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var result = await retention.PurgeAsync(options.Value, clock.GetUtcNow()).ConfigureAwait(false);
        // The audit trail (another module) would record this run here.
        logger.LogInformation("Retention deleted {Total} rows in {Elapsed} ms: {Instances} instances with {Journal} journal entries and {Bookmarks} bookmarks, "
            + "{Inbox} inbox and {Outbox} outbox messages, {DeadLetters} dead letters.", result.Total,
            (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, result.Instances, result.JournalEntries, result.Bookmarks,
            result.InboxMessages, result.OutboxMessages, result.DeadLetters);
        foreach (var participant in participants ?? [])
        {
            // Files outside the database (attachments): a failure is logged and the next run tries again.
            try
            {
                var purged = await participant.PurgeAsync(options.Value, clock.GetUtcNow()).ConfigureAwait(false);
                logger.LogInformation("Retention deleted {Count} {Participant}.", purged, participant.Name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                logger.LogWarning(e, "Retention of {Participant} failed; the next run tries again.", participant.Name);
            }
        }
    }
}

/// <summary>
/// Writes a database backup into <see cref="BackupOptions.Directory"/> and keeps the newest <see cref="BackupOptions.Keep"/>.
/// Takes no arguments. NEVER rename this class, its namespace or its method. One run at a time across all nodes.
/// </summary>
public sealed class DatabaseBackupJob(IDatabaseBackup backup, IOptions<BackupOptions> options, TimeProvider clock, ILogger<DatabaseBackupJob> logger)
{
    /// <summary>The recurring job's id.</summary>
    public const string JobId = "platform-backup";

    /// <summary>Backup files are named <c>platform-yyyyMMdd-HHmmss-fff</c> plus the provider's extension.</summary>
    public const string FilePrefix = "platform-";

    /// <summary>One backup; returns the file written.</summary>
    [DisableConcurrentExecution(timeoutInSeconds: 60 * 60)]
    [AutomaticRetry(Attempts = 1)]
    public async Task<string> RunAsync()
    {
        var directory = options.Value.Directory ?? throw new InvalidOperationException($"{BackupOptions.SectionName}:Directory is not set.");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, FilePrefix + clock.GetUtcNow().ToString("yyyyMMdd-HHmmss-fff", System.Globalization.CultureInfo.InvariantCulture) + backup.FileExtension);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await backup.BackupAsync(file).ConfigureAwait(false);
        logger.LogInformation("Backup {File} written ({Bytes} bytes) in {Elapsed} ms.", file, new FileInfo(file).Length,
            (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        // The names sort by time; only this job's files are considered.
        var old = Directory.GetFiles(directory, FilePrefix + "*" + backup.FileExtension).Order(StringComparer.Ordinal).ToList();
        foreach (var stale in old.Take(Math.Max(0, old.Count - options.Value.Keep)))
        {
            File.Delete(stale);
            logger.LogInformation("Backup {File} deleted (Platform:Backups:Keep is {Keep}).", stale, options.Value.Keep);
        }
        return file;
    }
}

/// <summary>Adds or removes the platform's recurring maintenance jobs when the host starts.</summary>
public sealed class MaintenanceJobRegistration(IRecurringJobManager recurring, IOptions<RetentionOptions> retention, IOptions<BackupOptions> backups,
    ILogger<MaintenanceJobRegistration> logger) : IHostedService
{
    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var options = new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc };
        if (retention.Value.Enabled)
        {
            recurring.AddOrUpdate<DataRetentionJob>(DataRetentionJob.JobId, j => j.RunAsync(), retention.Value.Cron, options);
            logger.LogInformation("Retention job '{JobId}' scheduled ({Cron} UTC): instances after {Instances}, messages after {Messages}, dead letters after {DeadLetters}.",
                DataRetentionJob.JobId, retention.Value.Cron, retention.Value.Instances, retention.Value.Messages, retention.Value.DeadLetters);
        }
        else recurring.RemoveIfExists(DataRetentionJob.JobId);
        if (backups.Value.Enabled)
        {
            recurring.AddOrUpdate<DatabaseBackupJob>(DatabaseBackupJob.JobId, j => j.RunAsync(), backups.Value.Cron, options);
            logger.LogInformation("Backup job '{JobId}' scheduled ({Cron} UTC) into {Directory}, keeping {Keep}.",
                DatabaseBackupJob.JobId, backups.Value.Cron, backups.Value.Directory, backups.Value.Keep);
        }
        else recurring.RemoveIfExists(DatabaseBackupJob.JobId);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Registers the maintenance jobs.</summary>
public static class MaintenanceJobExtensions
{
    /// <summary>The retention and backup jobs (need <see cref="IDataRetention"/>, <see cref="IDatabaseBackup"/> and bound options).</summary>
    public static IServiceCollection AddMaintenanceJobs(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddTransient<DataRetentionJob>();
        services.TryAddTransient<DatabaseBackupJob>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, MaintenanceJobRegistration>());
        return services;
    }
}
