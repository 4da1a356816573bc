using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Descriptors;

namespace Platform.Packs;

/// <summary>Registers run-time activity packs.</summary>
public static class PackServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="PackManager"/> and the <see cref="PackSyncService"/>. Needs the engine (its
    /// <see cref="ActivityRegistry"/>) and <see cref="IConfigurationDocuments"/> (the platform database).
    /// </summary>
    public static IServiceCollection AddPlatformPacks(this IServiceCollection services, Action<PackOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<PackOptions>();
        if (configure is not null) builder.Configure(configure);
        services.TryAddSingleton(sp => new PackManager(sp.GetRequiredService<ActivityRegistry>(), sp.GetRequiredService<IConfigurationDocuments>(),
            sp.GetRequiredService<IOptions<PackOptions>>(), sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<ILogger<PackManager>>(), sp.GetService<IAuditLog>()));
        // Pack activities get only what their manifest permits (HttpClient, secrets, data sources, MQTT).
        services.TryAddSingleton<IActivityServiceGate, PackServiceGate>();
        // Pack activities run by their isolation: 'process' packs in a pack host process, 'shared' ones with the per-call limit.
        services.TryAddSingleton<IActivityRunner, PackActivityRunner>();
        services.TryAddSingleton<IPackSecrets>(sp => new ConfigurationPackSecrets(sp.GetRequiredService<IConfiguration>()));
        services.TryAddSingleton<PackSyncService>();
        services.AddHostedService(sp => sp.GetRequiredService<PackSyncService>());
        return services;
    }
}
