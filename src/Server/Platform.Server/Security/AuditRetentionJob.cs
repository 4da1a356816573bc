using Platform.Activities;

namespace Platform.Server.Security;

/// <summary>
/// The daily retention of the audit trail: deletes entries older than <c>Platform:Audit:RetentionDays</c> (default 365). A Hangfire
/// recurring job (<see cref="RecurringJobId"/>); it takes no arguments, and this class, its namespace and <see cref="RunAsync"/> are
/// never renamed (stored jobs name them).
/// </summary>
public sealed class AuditRetentionJob(IAuditLogStore store, IConfiguration configuration, TimeProvider clock, ILogger<AuditRetentionJob> logger)
{
    /// <summary>The recurring job's id.</summary>
    public const string RecurringJobId = "platform:audit-retention";

    /// <summary>Deletes the expired entries; answers how many.</summary>
    public async Task<int> RunAsync()
    {
        var days = AuditHostExtensions.RetentionDays(configuration);
        var cutoff = clock.GetUtcNow() - TimeSpan.FromDays(days);
        var deleted = await store.DeleteOlderThanAsync(cutoff).ConfigureAwait(false);
        logger.LogInformation("Audit retention: deleted {Count} entries older than {Cutoff:o} ({Days} days)", deleted, cutoff, days);
        return deleted;
    }
}
