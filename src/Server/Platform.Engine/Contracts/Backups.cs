namespace Platform.Engine.Contracts;

/// <summary><c>Platform:Backups</c>: the scheduled database backups (docs/operations.md).</summary>
public sealed class BackupOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Backups";

    /// <summary>Run the recurring backup job. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>When it runs (cron, UTC). Default daily at 02:41.</summary>
    public string Cron { get; set; } = "41 2 * * *";

    /// <summary>How many backup files are kept (the oldest are deleted). Default 30.</summary>
    public int Keep { get; set; } = 30;

    /// <summary>Where the files go. Default <c>backups</c> in the data directory; put it on another disk.</summary>
    public string? Directory { get; set; }

    /// <summary>The message naming the first bad value, or null when the options are usable.</summary>
    public string? Validate()
    {
        if (Keep < 1) return $"{SectionName}:Keep is {Keep}; keep at least 1 backup (default 30).";
        if (string.IsNullOrWhiteSpace(Cron)) return $"{SectionName}:Cron is empty; use a cron expression such as '41 2 * * *' (daily).";
        return null;
    }
}

/// <summary>Writes a consistent copy of the platform database to a file while the platform serves (implemented by the persistence).</summary>
public interface IDatabaseBackup
{
    /// <summary>The file extension of this provider's backups (<c>.db</c> for SQLite, <c>.dump</c> for PostgreSQL).</summary>
    string FileExtension { get; }

    /// <summary>Writes the backup to <paramref name="file"/> (replaced if it exists).</summary>
    Task BackupAsync(string file, CancellationToken ct = default);
}
