using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Mqtt;

/// <summary>Registers the shared MQTT connection and the embedded broker.</summary>
public static class MqttServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="MqttOptions"/>, the embedded broker (a hosted service that starts only when no Host is configured
    /// and <see cref="MqttOptions.EmbeddedPort"/> is not 0) and one shared <see cref="IMqttConnection"/>. Idempotent: the first
    /// call's options win.
    /// </summary>
    /// <exception cref="InvalidOperationException">The options are not valid; the message says how to fix them.</exception>
    public static IServiceCollection AddPlatformMqtt(this IServiceCollection services, MqttOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (services.Any(d => d.ServiceType == typeof(MqttOptions))) return services;
        options.EnsureEmbeddedCredentials(); // the embedded broker never accepts anonymous clients
        _ = new MqttBrokerAccess(options); // fails at start when a client entry is incomplete
        services.AddSingleton(options);
        services.TryAddSingleton(sp => new EmbeddedMqttBroker(options, sp.GetService<ILogger<EmbeddedMqttBroker>>()));
        // Registered before anything that uses the connection, so the broker listens before the first connection attempt.
        services.AddHostedService(sp => sp.GetRequiredService<EmbeddedMqttBroker>());
        services.TryAddSingleton(sp => new MqttConnection(options, sp.GetService<ILogger<MqttConnection>>()));
        services.TryAddSingleton<IMqttConnection>(sp => sp.GetRequiredService<MqttConnection>());
        return services;
    }
}
