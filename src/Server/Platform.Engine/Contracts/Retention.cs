namespace Platform.Engine.Contracts;

/// <summary><c>Platform:Retention</c>: how long finished work is kept before the retention job deletes it (docs/operations.md).</summary>
public sealed class RetentionOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Retention";

    /// <summary>Run the recurring retention job. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>When the job runs (cron, UTC). Default hourly at minute 23.</summary>
    public string Cron { get; set; } = "23 * * * *";

    /// <summary>Finished, cancelled and faulted instances (with their journal and bookmarks), by last update. Default 30 days; 0 keeps them.</summary>
    public TimeSpan Instances { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Processed inbox rows and sent outbox rows (the conversation turns), by arrival or creation. Default 30 days; 0 keeps them.</summary>
    public TimeSpan Messages { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Dead-lettered outbox rows and failed inbox rows. Default 90 days (they are evidence to inspect); 0 keeps them.</summary>
    public TimeSpan DeadLetters { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Rows deleted per statement; each batch is a short transaction of its own. Default 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>The message naming the first bad value, or null when the options are usable.</summary>
    public string? Validate()
    {
        if (BatchSize is < 1 or > 10_000) return $"{SectionName}:BatchSize is {BatchSize}; use 1 to 10000 (default 500).";
        foreach (var (name, age) in new[] { (nameof(Instances), Instances), (nameof(Messages), Messages), (nameof(DeadLetters), DeadLetters) })
            if (age < TimeSpan.Zero) return $"{SectionName}:{name} is {age}; use an age such as 30.00:00:00 (30 days), or 0 to keep everything.";
        if (string.IsNullOrWhiteSpace(Cron)) return $"{SectionName}:Cron is empty; use a cron expression such as '23 * * * *' (hourly).";
        return null;
    }
}

/// <summary>What one retention run deleted.</summary>
public sealed record RetentionResult(int Instances, int JournalEntries, int Bookmarks, int InboxMessages, int OutboxMessages, int DeadLetters)
{
    /// <summary>All rows deleted.</summary>
    public int Total => Instances + JournalEntries + Bookmarks + InboxMessages + OutboxMessages + DeadLetters;
}

/// <summary>Deletes finished work older than the configured ages, in small batches (implemented by the persistence).</summary>
public interface IDataRetention
{
    /// <summary>Deletes everything older than <paramref name="options"/>' ages at <paramref name="now"/>, batch by batch.</summary>
    Task<RetentionResult> PurgeAsync(RetentionOptions options, DateTimeOffset now, CancellationToken ct = default);
}

/// <summary>Data outside the database tables that the retention job purges as well (attachment files): registered as a
/// service, run after <see cref="IDataRetention"/> with the same options.</summary>
public interface IRetentionParticipant
{
    /// <summary>What it purges, for the log (<c>attachments</c>).</summary>
    string Name { get; }

    /// <summary>Deletes what is older than <paramref name="options"/>' ages at <paramref name="now"/>; returns how many items.</summary>
    Task<int> PurgeAsync(RetentionOptions options, DateTimeOffset now, CancellationToken ct = default);
}
