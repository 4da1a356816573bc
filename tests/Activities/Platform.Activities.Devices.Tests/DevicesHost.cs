using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Mqtt;
using Platform.Testing;

namespace Platform.Activities.Devices.Tests;

/// <summary>
/// An engine with the devices pack, a registry and audit log in a temp directory, and MQTT on a real broker: mosquitto
/// (<see cref="MosquittoFixture"/>: <c>MQTT_PORT</c>, else started by the fixture) or the embedded broker on a free port. One per test; device ids are unique per test, so tests sharing
/// mosquitto never see each other's topics.
/// </summary>
public sealed class DevicesHost : IAsyncDisposable
{
    public const string Mosquitto = "mosquitto";
    public const string Embedded = "embedded";

    private readonly TempDirectory _dir = new("devices-pack");
    private readonly List<IHostedService> _started = [];
    private readonly List<DeviceSimulator> _simulators = [];

    private DevicesHost(string broker, bool seedDemoDevices)
    {
        Mqtt = Options(broker);
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>().AddActivitiesFrom<DevicesPack>());
        services.AddPlatformMqtt(Mqtt);
        services.AddDevices(new DevicesOptions { DataDirectory = _dir.Path, SeedDemoDevices = seedDemoDevices });
        Services = services.BuildServiceProvider();
    }

    public MqttOptions Mqtt { get; }
    public ServiceProvider Services { get; }
    public string Directory => _dir.Path;
    public IDeviceStore Store => Services.GetRequiredService<IDeviceStore>();
    public IMqttConnection Connection => Services.GetRequiredService<IMqttConnection>();
    public DeviceStateCache Cache => Services.GetRequiredService<DeviceStateCache>();
    public IDeviceAuditLog Audit => Services.GetRequiredService<IDeviceAuditLog>();

    /// <summary>Starts a host on the given broker; the embedded broker (if any) is listening when this returns.</summary>
    public static async Task<DevicesHost> StartAsync(string broker, bool seedDemoDevices = false)
    {
        var host = new DevicesHost(broker, seedDemoDevices);
        await host.StartHostedAsync(host.Services.GetRequiredService<EmbeddedMqttBroker>());
        return host;
    }

    /// <summary>MQTT options for mosquitto or for an embedded broker on a free port.</summary>
    public static MqttOptions Options(string broker) => broker switch
    {
        Mosquitto => new MqttOptions { Host = "127.0.0.1", Port = MosquittoPort(), EmbeddedPort = 0, ClientIdPrefix = "devices-tests" },
        Embedded => new MqttOptions { EmbeddedPort = FreePort(), ClientIdPrefix = "devices-tests" },
        _ => throw new ArgumentOutOfRangeException(nameof(broker), broker, "mosquitto or embedded"),
    };

    public static int MosquittoPort() => MosquittoFixture.Port;

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A device id no other test uses.</summary>
    public static string UniqueId(string name) => $"{name}-{Guid.NewGuid():N}"[..(name.Length + 9)];

    /// <summary>Starts the state listener (a hosted service the real server runs).</summary>
    public Task StartListenerAsync() =>
        StartHostedAsync(Services.GetServices<IHostedService>().OfType<DeviceStateListener>().Single());

    /// <summary>Starts a simulator for the registry's devices.</summary>
    public async Task<DeviceSimulator> StartSimulatorAsync()
    {
        var simulator = new DeviceSimulator(Connection, Store);
        await simulator.StartAsync();
        _simulators.Add(simulator);
        return simulator;
    }

    public async Task<Device> AddAsync(Device device)
    {
        await Store.SaveAsync(device);
        return device;
    }

    /// <summary>Saves, publishes and runs a flowchart; returns the instance id.</summary>
    public async Task<RunWorkflowResult> RunAsync(JsonObject model)
    {
        var saved = await Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(model, publish: true);
        return await Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest(saved.Definition.DefinitionId));
    }

    public async Task<IReadOnlyList<ActivityExecutionRecord>> JournalAsync(string instanceId) =>
        (await Services.GetRequiredService<IActivityExecutionStore>()
            .FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = instanceId }, new PageArgs(0, 100))).Items;

    /// <summary>Runs a one-activity workflow; returns the activity's journal record.</summary>
    public async Task<ActivityExecutionRecord> RunActivityAsync(string type, object inputs)
    {
        var run = await RunAsync(new Flow().Activity("a1", type, inputs).Build());
        return (await JournalAsync(run.InstanceId)).Single(r => r.ActivityId == "a1");
    }

    private async Task StartHostedAsync(IHostedService service)
    {
        await service.StartAsync(CancellationToken.None);
        _started.Add(service);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _simulators) await s.DisposeAsync();
        for (var i = _started.Count - 1; i >= 0; i--) await _started[i].StopAsync(CancellationToken.None);
        await Services.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>Builds flowchart JSON as the Studio saves it.</summary>
public sealed class Flow
{
    private readonly JsonArray _activities = [];
    private readonly JsonArray _connections = [];

    public Flow Activity(string id, string type, object? inputs = null)
    {
        var activity = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1, ["name"] = id };
        foreach (var p in inputs?.GetType().GetProperties() ?? [])
        {
            var name = char.ToLowerInvariant(p.Name[0]) + p.Name[1..];
            activity[name] = p.GetValue(inputs) switch
            {
                JsonNode node => node.DeepClone(),
                var v => Literal(v is bool b ? (b ? "true" : "false") : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)),
            };
        }
        _activities.Add(activity);
        return this;
    }

    public Flow Connect(string source, string target, string port = "Done")
    {
        _connections.Add(new JsonObject
        {
            ["source"] = new JsonObject { ["activity"] = source, ["port"] = port },
            ["target"] = new JsonObject { ["activity"] = target, ["port"] = "In" },
        });
        return this;
    }

    public JsonObject Build() => new()
    {
        ["name"] = "devices test",
        ["root"] = new JsonObject
        {
            ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
            ["activities"] = _activities.DeepClone(), ["connections"] = _connections.DeepClone(),
        },
    };

    public static JsonObject Literal(string? value) => Expression("Literal", value);

    public static JsonObject JavaScript(string code) => Expression("JavaScript", code);

    private static JsonObject Expression(string type, string? value) => new()
    {
        ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = type, ["value"] = value },
    };
}

public static class RecordExtensions
{
    public static string Outcome(this ActivityExecutionRecord r) => Assert.Single(r.Outcomes);

    public static string? Out(this ActivityExecutionRecord r, string name) => r.Outputs.GetValueOrDefault(name) switch
    {
        null => null,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
        JsonElement { ValueKind: JsonValueKind.Null } => null,
        var v => JsonSerializer.Serialize(v),
    };

    /// <summary>An output object's field, as JSON text ("true", "40", "\"x\"") or null.</summary>
    public static string? Field(this ActivityExecutionRecord r, string output, string field) =>
        JsonNode.Parse(JsonSerializer.Serialize(r.Outputs.GetValueOrDefault(output)))?[field]?.ToJsonString();
}
