using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Mqtt;

namespace Platform.Activities.Devices;

/// <summary>
/// Keeps <see cref="DeviceStateCache"/> current: subscribes to the state topic of every MQTT device in the registry (the broker
/// first delivers the retained state, then every report) and follows registry changes.
/// </summary>
public sealed partial class DeviceStateListener : BackgroundService
{
    private readonly IDeviceStore _store;
    private readonly DeviceStateCache _cache;
    private readonly IMqttConnection _mqtt;
    private readonly TimeProvider _clock;
    private readonly ILogger<DeviceStateListener> _logger;
    private readonly Dictionary<string, IAsyncDisposable> _subscriptions = new(StringComparer.Ordinal);
    private volatile Dictionary<string, string[]> _devicesByTopic = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changed = new(0, 1);

    /// <summary>Creates the listener.</summary>
    public DeviceStateListener(IDeviceStore store, DeviceStateCache cache, IMqttConnection mqtt, TimeProvider clock, ILogger<DeviceStateListener> logger)
    {
        _store = store;
        _cache = cache;
        _mqtt = mqtt;
        _clock = clock;
        _logger = logger;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_mqtt.IsConfigured)
        {
            LogNoBroker(_logger);
            return;
        }
        _store.Changed += OnChanged;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try { await SyncAsync(stoppingToken).ConfigureAwait(false); }
                catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
                {
                    _logger.LogWarning(e, "Could not subscribe to the device state topics; retrying on the next registry change");
                }
                await _changed.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            _store.Changed -= OnChanged;
            foreach (var s in _subscriptions.Values)
            {
                try { await s.DisposeAsync().ConfigureAwait(false); }
                catch (ObjectDisposedException) { }
            }
            _subscriptions.Clear();
        }
    }

    private void OnChanged(object? sender, EventArgs e)
    {
        try { _changed.Release(); }
        catch (SemaphoreFullException) { } // a sync is already pending
    }

    private async Task SyncAsync(CancellationToken ct)
    {
        var devices = await _store.ListAsync(ct).ConfigureAwait(false);
        var wanted = devices.Where(d => d.Transport.Kind == DeviceTransportKind.Mqtt && MqttTopics.IsValidTopic(d.StateTopic))
            .GroupBy(d => d.StateTopic, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(d => d.Id).ToArray(), StringComparer.Ordinal);
        _devicesByTopic = wanted;
        foreach (var gone in _subscriptions.Keys.Where(t => !wanted.ContainsKey(t)).ToList())
        {
            await _subscriptions[gone].DisposeAsync().ConfigureAwait(false);
            _subscriptions.Remove(gone);
        }
        foreach (var topic in wanted.Keys.Where(t => !_subscriptions.ContainsKey(t)).ToList())
            _subscriptions[topic] = await _mqtt.SubscribeAsync(topic, OnStateAsync, MqttQos.AtLeastOnce, ct).ConfigureAwait(false);
    }

    private Task OnStateAsync(MqttMessage message, CancellationToken ct)
    {
        if (!_devicesByTopic.TryGetValue(message.Topic, out var ids)) return Task.CompletedTask;
        var (values, _) = DevicePayloads.ParseState(message.PayloadText);
        values.Remove(DevicePayloads.Error);
        foreach (var id in ids) _cache.Set(new DeviceState(id, values, _clock.GetUtcNow(), message.Retain));
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "No MQTT broker is configured: device states are not cached. Set Platform:Mqtt:Host or enable the embedded broker.")]
    private static partial void LogNoBroker(ILogger logger);
}
