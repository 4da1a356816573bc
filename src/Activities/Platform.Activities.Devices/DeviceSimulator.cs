using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Mqtt;

namespace Platform.Activities.Devices;

/// <summary>
/// Pretends to be the registry's MQTT devices: subscribes to their command topics, applies commands to an in-memory state
/// and publishes the new state, retained, on the state topic with the command's correlation id. Used by tests and by the
/// server's <c>--simulate-devices</c> option (<c>Platform:Devices:Simulate=true</c>).
/// </summary>
/// <example><code>
/// await using var simulator = new DeviceSimulator(mqttConnection, deviceStore);
/// await simulator.StartAsync(ct); // now ControlDevice gets answers
/// </code></example>
public sealed class DeviceSimulator : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly IMqttConnection _mqtt;
    private readonly IDeviceStore _store;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, Dictionary<string, object?>> _states = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, IAsyncDisposable> _subscriptions = new(StringComparer.Ordinal);
    private volatile Dictionary<string, Device[]> _devicesByTopic = new(StringComparer.Ordinal);
    private bool _started;

    /// <summary>Creates the simulator; <see cref="StartAsync"/> starts it.</summary>
    public DeviceSimulator(IMqttConnection mqtt, IDeviceStore store, ILogger<DeviceSimulator>? logger = null)
    {
        _mqtt = mqtt ?? throw new ArgumentNullException(nameof(mqtt));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>When true (the default), <see cref="StartAsync"/> publishes every device's initial state, retained.</summary>
    public bool PublishInitialState { get; init; } = true;

    /// <summary>
    /// Ids of devices the simulator leaves alone although they are in the registry: it publishes no state for them and never
    /// answers their commands, as if they were switched off. ControlDevice then takes its Timeout outcome for them.
    /// </summary>
    public IReadOnlyCollection<string> Offline
    {
        get => _offline;
        init => _offline = new HashSet<string>(value ?? [], StringComparer.OrdinalIgnoreCase);
    }
    private readonly HashSet<string> _offline = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The number of commands answered so far.</summary>
    public int CommandsHandled => _commands;
    private int _commands;

    /// <summary>The simulated state of a device, or null.</summary>
    public IReadOnlyDictionary<string, object?>? GetState(string deviceId) =>
        _states.TryGetValue(deviceId, out var s) ? new Dictionary<string, object?>(s) : null;

    /// <summary>Subscribes to the command topics of the registry's MQTT devices and follows registry changes.</summary>
    /// <exception cref="MqttNotConfiguredException">No broker is configured.</exception>
    public async Task StartAsync(CancellationToken ct = default)
    {
        if (_started) return;
        _started = true;
        _store.Changed += OnChanged;
        await SyncAsync(ct).ConfigureAwait(false);
        _logger.LogInformation("Device simulator started for {Count} command topics on {Endpoint}", _subscriptions.Count, _mqtt.Endpoint);
    }

    /// <summary>Stops answering commands.</summary>
    public async Task StopAsync()
    {
        if (!_started) return;
        _started = false;
        _store.Changed -= OnChanged;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var s in _subscriptions.Values) await s.DisposeAsync().ConfigureAwait(false);
            _subscriptions.Clear();
        }
        finally { _gate.Release(); }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    /// <summary>The state a new simulated device starts with.</summary>
    public static Dictionary<string, object?> InitialState(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var state = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (device.Can(DeviceCapabilities.OnOff)) state["on"] = false;
        if (device.Can(DeviceCapabilities.Level)) state["level"] = 0d;
        if (device.Can(DeviceCapabilities.Temperature)) { state["target"] = 20d; state["temperature"] = 19.5; }
        if (device.Can(DeviceCapabilities.Lock)) state["locked"] = true;
        if (device.Can(DeviceCapabilities.Sensor)) { state["temperature"] = 21.5; state["humidity"] = 45d; }
        return state;
    }

    private void OnChanged(object? sender, EventArgs e) => _ = Task.Run(async () =>
    {
        try { if (_started) await SyncAsync(CancellationToken.None).ConfigureAwait(false); }
        catch (Exception ex) when (ex is not OutOfMemoryException) { _logger.LogWarning(ex, "Device simulator could not follow a registry change"); }
    });

    private async Task SyncAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var devices = (await _store.ListAsync(ct).ConfigureAwait(false))
                .Where(d => d.Transport.Kind == DeviceTransportKind.Mqtt && MqttTopics.IsValidTopic(d.CommandTopic) && !_offline.Contains(d.Id)).ToList();
            _devicesByTopic = devices.GroupBy(d => d.CommandTopic, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
            foreach (var gone in _subscriptions.Keys.Where(t => !_devicesByTopic.ContainsKey(t)).ToList())
            {
                await _subscriptions[gone].DisposeAsync().ConfigureAwait(false);
                _subscriptions.Remove(gone);
            }
            foreach (var topic in _devicesByTopic.Keys.Where(t => !_subscriptions.ContainsKey(t)).ToList())
                _subscriptions[topic] = await _mqtt.SubscribeAsync(topic, OnCommandAsync, MqttQos.AtLeastOnce, ct).ConfigureAwait(false);
            foreach (var device in devices)
            {
                if (_states.ContainsKey(device.Id)) continue;
                var state = _states.GetOrAdd(device.Id, _ => InitialState(device));
                if (PublishInitialState) await PublishAsync(device, state, null, null, ct).ConfigureAwait(false);
            }
        }
        finally { _gate.Release(); }
    }

    private async Task OnCommandAsync(MqttMessage message, CancellationToken ct)
    {
        if (!_devicesByTopic.TryGetValue(message.Topic, out var devices)) return;
        var (fields, correlationId) = DevicePayloads.ParseState(message.PayloadText);
        if (message.Retain && correlationId is null) return; // a retained leftover, not a command
        var command = DeviceCommands.Normalize(fields.GetValueOrDefault("command") as string);
        fields.TryGetValue("value", out var value);
        foreach (var device in devices)
        {
            var state = _states.GetOrAdd(device.Id, _ => InitialState(device));
            string? error;
            lock (state) error = Apply(device, state, command, value);
            Interlocked.Increment(ref _commands);
            Dictionary<string, object?> snapshot;
            lock (state) snapshot = new Dictionary<string, object?>(state);
            await PublishAsync(device, snapshot, correlationId, error, ct).ConfigureAwait(false);
        }
    }

    private static string? Apply(Device device, Dictionary<string, object?> state, string command, object? value)
    {
        if (DeviceCommands.Capability.TryGetValue(command, out var capability) ? !device.Can(capability) : !device.Can(command))
            return $"unsupported command '{command}'";
        switch (command)
        {
            case DeviceCommands.On: state["on"] = true; if (device.Can(DeviceCapabilities.Level) && DevicePayloads.AsNumber(state.GetValueOrDefault("level")) is null or 0) state["level"] = 100d; break;
            case DeviceCommands.Off: state["on"] = false; break;
            case DeviceCommands.Toggle: state["on"] = DevicePayloads.AsBool(state.GetValueOrDefault("on")) != true; break;
            case DeviceCommands.SetLevel:
                if (DevicePayloads.AsNumber(value) is not { } level || level < 0 || level > 100) return "level must be 0-100";
                state["level"] = level;
                state["on"] = level > 0;
                break;
            case DeviceCommands.SetTemperature:
                if (DevicePayloads.AsNumber(value) is not { } target) return "temperature must be a number";
                state["target"] = target;
                break;
            case DeviceCommands.Lock: state["locked"] = true; break;
            case DeviceCommands.Unlock: state["locked"] = false; break;
            default: state[command] = value ?? true; break;
        }
        return null;
    }

    private Task PublishAsync(Device device, Dictionary<string, object?> state, string? correlationId, string? error, CancellationToken ct)
    {
        var payload = new Dictionary<string, object?>(state, StringComparer.Ordinal);
        if (correlationId is not null) payload[DevicePayloads.CorrelationId] = correlationId;
        if (error is not null) payload[DevicePayloads.Error] = error;
        return _mqtt.PublishAsync(device.StateTopic, JsonSerializer.Serialize(payload, Json), MqttQos.AtLeastOnce, retain: true, ct);
    }
}

/// <summary>Runs a <see cref="DeviceSimulator"/> for the host's lifetime (<c>--simulate-devices</c>).</summary>
public sealed class DeviceSimulatorHostedService(IMqttConnection mqtt, IDeviceStore store, DevicesOptions options, ILogger<DeviceSimulator> logger) : BackgroundService
{
    private DeviceSimulator? _simulator;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!mqtt.IsConfigured)
        {
            logger.LogWarning("The device simulator needs an MQTT broker: set Platform:Mqtt:Host or enable the embedded broker (Platform:Mqtt:EmbeddedPort).");
            return;
        }
        _simulator = new DeviceSimulator(mqtt, store, logger) { Offline = options.SimulateOffline };
        try { await _simulator.StartAsync(stoppingToken).ConfigureAwait(false); }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_simulator is not null) await _simulator.DisposeAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }
}
