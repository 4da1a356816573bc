using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Platform.Mqtt;

namespace Platform.Activities.Devices;

/// <summary>Options of the devices pack (<c>Platform:Devices</c>).</summary>
public sealed class DevicesOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Devices";

    /// <summary>The folder of <c>devices.json</c> and <c>audit/devices.jsonl</c>.</summary>
    public string DataDirectory { get; set; } = "App_Data";

    /// <summary>When true, the demo devices are written to a registry that does not exist yet.</summary>
    public bool SeedDemoDevices { get; set; }

    /// <summary>When true, a <see cref="DeviceSimulator"/> answers the registry's MQTT devices.</summary>
    public bool Simulate { get; set; }

    /// <summary>Ids of registry devices the simulator leaves unanswered, to try out what happens when a device is offline.</summary>
    public IReadOnlyCollection<string> SimulateOffline { get; set; } = [];

    /// <summary>The registry file.</summary>
    public string RegistryPath => Path.Combine(DataDirectory, "devices.json");

    /// <summary>The audit log file.</summary>
    public string AuditPath => Path.Combine(DataDirectory, "audit", "devices.jsonl");
}

/// <summary>Registers the devices pack's services.</summary>
public static class DevicesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the registry (<see cref="JsonFileDeviceStore"/>), the state cache and its MQTT listener, the audit log
    /// (<see cref="TrailDeviceAuditLog"/> when an <see cref="IAuditLogStore"/> is registered, else <see cref="JsonLinesDeviceAuditLog"/>),
    /// <see cref="DeviceCommandService"/> and, when <see cref="DevicesOptions.Simulate"/> is set, the simulator. Register MQTT
    /// (<c>AddPlatformMqtt</c>) and the pack's activities (<c>AddActivitiesFrom&lt;DevicesPack&gt;()</c>) as well.
    /// </summary>
    public static IServiceCollection AddDevices(this IServiceCollection services, DevicesOptions options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IDeviceStore>(sp => new JsonFileDeviceStore(options.RegistryPath,
            options.SeedDemoDevices ? DemoDevices.Create(sp.GetRequiredService<TimeProvider>().GetUtcNow()) : null));
        services.TryAddSingleton<DeviceStateCache>();
        // The host's audit trail when it keeps one (the platform database), else a JSON lines file in the data directory.
        services.TryAddSingleton<IDeviceAuditLog>(sp => sp.GetService<IAuditLogStore>() is { } trail
            ? new TrailDeviceAuditLog(trail) : new JsonLinesDeviceAuditLog(options.AuditPath));
        services.TryAddSingleton(sp => new DeviceCommandService(sp.GetRequiredService<IDeviceStore>(), sp.GetRequiredService<DeviceStateCache>(),
            sp.GetRequiredService<IDeviceAuditLog>(), sp.GetService<IMqttConnection>(), sp.GetService<IHttpClientFactory>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetService<ILogger<DeviceCommandService>>(), sp.GetService<IAuditLog>()));
        services.AddHttpClient(DeviceCommandService.HttpClientName);
        // The AI agent's device tools (a high-risk command comes back as "confirmation required").
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAgentTool, GetDeviceStateTool>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IAgentTool, ControlDeviceTool>());
        if (services.Any(d => d.ServiceType == typeof(IMqttConnection)))
        {
            services.AddHostedService<DeviceStateListener>();
            if (options.Simulate) services.AddHostedService<DeviceSimulatorHostedService>();
        }
        return services;
    }
}
