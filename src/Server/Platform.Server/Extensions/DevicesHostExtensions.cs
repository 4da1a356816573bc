using Platform.Activities.Devices;
using Platform.Engine;
using Platform.Mqtt;

namespace Platform.Server.Extensions;

/// <summary>The devices pack's services and the shared MQTT connection (with the embedded broker of the embedded default).</summary>
public static class DevicesHostExtensions
{
    /// <summary>The command-line switch that starts the device simulator.</summary>
    public const string SimulateSwitch = "--simulate-devices";

    /// <summary>
    /// Registers MQTT (<c>Platform:Mqtt</c>: an external broker when Host is set, else the embedded broker on EmbeddedPort,
    /// default 1883, 0 = off), the device registry (in the platform database when <c>AddPlatformPersistence</c> came first,
    /// importing <c>{dataDirectory}/devices.json</c> once; else in that file; seeded with demo devices on first
    /// start of the embedded default unless <c>Platform:Devices:SeedDemoDevices=false</c>), the state cache, the audit log
    /// (the audit trail, table audit_log, with persistence, importing <c>{dataDirectory}/audit/devices.jsonl</c> once; else that file) and, with <c>--simulate-devices</c> or <c>Platform:Devices:Simulate=true</c>,
    /// the device simulator (which leaves the devices listed in <c>Platform:Devices:SimulateOffline</c> unanswered), and
    /// registers <see cref="ControlDevice"/> and <see cref="GetDeviceState"/> with the engine.
    /// Call it after <c>AddWorkflowEngine</c>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The MQTT settings are not valid; the message says how to fix them.</exception>
    public static IServiceCollection AddPlatformDevices(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var mqtt = new MqttOptions();
        configuration.GetSection(MqttOptions.SectionName).Bind(mqtt);
        mqtt.CredentialsDirectory ??= dataDirectory; // the embedded broker's generated platform password (issue 16, H2)
        services.AddPlatformMqtt(mqtt);

        var section = configuration.GetSection(DevicesOptions.SectionName);
        var simulate = Flag(section["Simulate"]) ?? Flag(configuration["simulate-devices"])
                       ?? (Environment.GetCommandLineArgs().Contains(SimulateSwitch, StringComparer.OrdinalIgnoreCase) ? true : (bool?)null) ?? false;
        var seed = Flag(section["SeedDemoDevices"]) ?? !mqtt.HasExternalBroker;
        // SimulateOffline: "porch-light,garage-door", or one id per index (SimulateOffline:0, SimulateOffline:1, ...).
        var offline = section.GetSection("SimulateOffline").GetChildren().Select(c => c.Value).Append(section["SimulateOffline"])
            .SelectMany(v => (v ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        var devicesFile = Path.Combine(dataDirectory, "devices.json");
        if (services.HasConfigurationDocuments() && !services.Any(d => d.ServiceType == typeof(IDeviceStore)))
        {
            // Shared by all nodes through the platform database; the old file is imported once, else the demo devices are seeded once.
            var interval = ConfigurationDocumentsHostExtensions.RefreshInterval(configuration);
            services.AddSingleton<IDeviceStore>(sp => new DocumentDeviceStore(sp.GetRequiredService<Platform.Activities.IConfigurationDocuments>(), interval,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<DocumentDeviceStore>()));
            services.AddConfigurationFileImport(DocumentDeviceStore.Kind, devicesFile, async (sp, ct) =>
            {
                var devices = await new JsonFileDeviceStore(devicesFile).ListAsync(ct);
                return await SaveAllAsync(sp.GetRequiredService<IDeviceStore>(), devices, ct);
            }, seed ? (sp, ct) => SaveAllAsync(sp.GetRequiredService<IDeviceStore>(), DemoDevices.Create(sp.GetRequiredService<TimeProvider>().GetUtcNow()), ct) : null);
        }
        if (services.Any(d => d.ServiceType == typeof(Platform.Activities.IAuditLogStore)) && !services.Any(d => d.ServiceType == typeof(IDeviceAuditLog)))
        {
            // Device commands are entries of the audit trail (audit_log) of all nodes; the node's old audit/devices.jsonl is imported once.
            var auditFile = Path.Combine(dataDirectory, "audit", "devices.jsonl");
            services.AddSingleton<IDeviceAuditLog>(sp => new TrailDeviceAuditLog(sp.GetRequiredService<Platform.Activities.IAuditLogStore>()));
            services.AddConfigurationFileImport(TrailDeviceAuditLog.ImportKind, auditFile, async (sp, ct) =>
            {
                var entries = await new JsonLinesDeviceAuditLog(auditFile).ReadLatestAsync(int.MaxValue, ct);
                var log = sp.GetRequiredService<IDeviceAuditLog>();
                foreach (var entry in entries.Reverse()) await log.AppendAsync(entry, ct);
                return [$"{entries.Count} entries"];
            });
        }
        services.AddDevices(new DevicesOptions { DataDirectory = dataDirectory, SeedDemoDevices = seed, Simulate = simulate, SimulateOffline = offline });
        // The engine's registry is created by the first AddWorkflowEngine call; single activities added later are picked up by it.
        services.AddWorkflowEngine(engine => engine.AddActivity<ControlDevice>().AddActivity<GetDeviceState>());
        return services;
    }

    private static async Task<IReadOnlyList<string>> SaveAllAsync(IDeviceStore store, IReadOnlyList<Device> devices, CancellationToken ct)
    {
        foreach (var device in devices) await store.SaveAsync(device, ct);
        return devices.Select(d => d.Id).ToList();
    }

    private static bool? Flag(string? value) => bool.TryParse(value?.Trim(), out var b) ? b : null;
}
