using Platform.Engine.Contracts;
using Platform.Scheduling.Hangfire;
using Platform.Server.Extensions;

namespace Platform.Server.Observability;

/// <summary>The recurring maintenance jobs: retention (<c>Platform:Retention</c>) and backups (<c>Platform:Backups</c>), docs/operations.md.</summary>
public static class MaintenanceHostExtensions
{
    /// <summary>Binds and checks <c>Platform:Retention</c> and <c>Platform:Backups</c> and registers their recurring jobs.</summary>
    /// <exception cref="InvalidOperationException">A value is out of range; the message names the key.</exception>
    public static WebApplicationBuilder AddPlatformMaintenance(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var section = builder.Configuration.GetSection(RetentionOptions.SectionName);
        var retention = section.Get<RetentionOptions>() ?? new RetentionOptions();
        if (retention.Validate() is { } error) throw new InvalidOperationException(error);
        builder.Services.AddOptions<RetentionOptions>().Bind(section);

        var backupSection = builder.Configuration.GetSection(BackupOptions.SectionName);
        var backups = backupSection.Get<BackupOptions>() ?? new BackupOptions();
        if (backups.Validate() is { } backupError) throw new InvalidOperationException(backupError);
        var directory = BackupDirectory(builder, backups.Directory);
        builder.Services.AddOptions<BackupOptions>().Bind(backupSection).PostConfigure(o => o.Directory = directory);

        builder.Services.AddMaintenanceJobs();
        return builder;
    }

    /// <summary>The backup directory: <c>Platform:Backups:Directory</c> (relative to the data directory), default <c>{data}/backups</c>.</summary>
    internal static string BackupDirectory(WebApplicationBuilder builder, string? configured)
    {
        var data = PlatformHostExtensions.ResolveDataDirectory(builder.Configuration["Platform:DataDirectory"], builder.Environment.ContentRootPath);
        return Path.GetFullPath(string.IsNullOrWhiteSpace(configured) ? Path.Combine(data, "backups") : Path.Combine(data, configured.Trim()));
    }
}
