using System.Globalization;
using Platform.Activities;

namespace Platform.Server.Extensions;

/// <summary>
/// Intent sets, devices and data sources live in the platform database (<see cref="IConfigurationDocuments"/>, table
/// <c>configuration_documents</c>) so that every node sharing the database sees them. Each node keeps them in memory and looks
/// for other nodes' changes every <c>Platform:ConfigurationRefreshInterval</c> (default 2 s). On first start, the JSON file a
/// node kept before (<c>intent-sets.json</c>, <c>devices.json</c>, <c>data-sources.json</c>) is imported once.
/// </summary>
public static class ConfigurationDocumentsHostExtensions
{
    /// <summary>The configuration key of the refresh interval: a time span (<c>00:00:02</c>) or seconds (<c>2</c>, <c>0.5</c>).</summary>
    public const string RefreshIntervalSetting = "Platform:ConfigurationRefreshInterval";

    /// <summary>The default refresh interval.</summary>
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromSeconds(2);

    /// <summary>The document kind that records which kinds were imported (or seeded) already, one document per kind.</summary>
    public const string ImportsKind = "platform-imports";

    /// <summary>The configured refresh interval, or 2 s.</summary>
    /// <exception cref="InvalidOperationException">The value is not a time span or a number of seconds; the message says how to fix it.</exception>
    public static TimeSpan RefreshInterval(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var text = configuration[RefreshIntervalSetting]?.Trim();
        if (string.IsNullOrEmpty(text)) return DefaultRefreshInterval;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 && seconds <= 3600)
            return TimeSpan.FromSeconds(seconds);
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero && span <= TimeSpan.FromHours(1)) return span;
        throw new InvalidOperationException($"{RefreshIntervalSetting} is '{text}', which is not a valid interval. Use a time span such as " +
            "00:00:02 or a number of seconds such as 2 (more than 0, at most one hour).");
    }

    /// <summary>True when the platform database's documents are registered (<c>AddPlatformPersistence</c> was called before).</summary>
    public static bool HasConfigurationDocuments(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.Any(d => d.ServiceType == typeof(IConfigurationDocuments));
    }

    /// <summary>
    /// Imports <paramref name="path"/> into the documents of <paramref name="kind"/> once, on the first start with the database:
    /// when no document of that kind exists yet and the file does, <paramref name="import"/> copies it (and the ids are logged);
    /// when neither exists, <paramref name="seed"/> (if any) writes the defaults. Later starts do nothing, so deleting every
    /// item does not bring the file's or the seed's items back.
    /// </summary>
    public static IServiceCollection AddConfigurationFileImport(this IServiceCollection services, string kind, string path,
        Func<IServiceProvider, CancellationToken, Task<IReadOnlyList<string>>> import, Func<IServiceProvider, CancellationToken, Task<IReadOnlyList<string>>>? seed = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IHostedService>(sp => new ConfigurationFileImport(sp, sp.GetRequiredService<IConfigurationDocuments>(), kind, path, import, seed,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<ConfigurationFileImport>()));
        return services;
    }
}

/// <summary>
/// Imports a node's old JSON file into the platform database on the first start (see
/// <see cref="ConfigurationDocumentsHostExtensions.AddConfigurationFileImport"/>). Runs in <see cref="IHostedLifecycleService.StartingAsync"/>,
/// after the database migration and before the services that read the stores start.
/// </summary>
internal sealed class ConfigurationFileImport(IServiceProvider services, IConfigurationDocuments documents, string kind, string path,
    Func<IServiceProvider, CancellationToken, Task<IReadOnlyList<string>>> import, Func<IServiceProvider, CancellationToken, Task<IReadOnlyList<string>>>? seed,
    ILogger<ConfigurationFileImport> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (await documents.FindAsync(ConfigurationDocumentsHostExtensions.ImportsKind, kind, cancellationToken) is not null) return;
        string source;
        if ((await documents.ListRevisionsAsync(kind, cancellationToken)).Count > 0)
        {
            source = "none: the database already had documents";
        }
        else if (File.Exists(path))
        {
            var ids = await import(services, cancellationToken);
            logger.LogInformation("Imported {Count} {Kind} from {Path} into the platform database: {Ids}. The file is no longer read; keep it as a " +
                "backup or delete it", ids.Count, kind, path, string.Join(", ", ids));
            source = path;
        }
        else if (seed is not null)
        {
            var ids = await seed(services, cancellationToken);
            logger.LogInformation("Seeded {Count} {Kind} into the platform database: {Ids}", ids.Count, kind, string.Join(", ", ids));
            source = "seed";
        }
        else source = "none";
        var marker = System.Text.Json.JsonSerializer.Serialize(new { kind, source, at = DateTimeOffset.UtcNow });
        await documents.SaveAsync(ConfigurationDocumentsHostExtensions.ImportsKind, kind, marker, cancellationToken);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
