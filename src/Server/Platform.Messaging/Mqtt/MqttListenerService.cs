using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Channels;
using Platform.Mqtt;

namespace Platform.Messaging.Mqtt;

/// <summary>
/// Subscribes every enabled MQTT channel to its <c>topics</c> and hands each message to the <see cref="MessageInbox"/>.
/// Retained messages are skipped (they are old news, redelivered on every subscribe). The connection reconnects with backoff and
/// renews the subscriptions; a channel's subscriptions are renewed when the channel changes (<see cref="IChannelStore.Changed"/>).
/// </summary>
public sealed class MqttListenerService : BackgroundService
{
    private readonly IChannelStore _store;
    private readonly MessageInbox _inbox;
    private readonly MqttChannelConnections _connections;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly Channel<string?> _changes = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, Running> _running = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Creates the service.</summary>
    public MqttListenerService(IChannelStore store, MessageInbox inbox, MqttChannelConnections connections, TimeProvider clock, ILogger<MqttListenerService> logger)
    {
        _store = store;
        _inbox = inbox;
        _connections = connections;
        _clock = clock;
        _logger = logger;
        store.Changed += name => _changes.Writer.TryWrite(name);
    }

    /// <summary>Raised when a channel's subscriptions are acknowledged by the broker (the channel name); tests wait on it.</summary>
    public event Action<string>? Subscribed;

    /// <summary>The channels whose subscriptions the broker acknowledged.</summary>
    public IReadOnlyCollection<string> SubscribedChannels
    {
        get { lock (_gate) return [.. _running.Where(p => p.Value.Ready).Select(p => p.Key)]; }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _changes.Writer.TryWrite(null);
        try
        {
            await foreach (var name in _changes.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    if (name is null)
                    {
                        foreach (var c in await _store.ListAsync(stoppingToken).ConfigureAwait(false))
                            if (c.Kind == ChannelKind.Mqtt) await ReconcileAsync(c.Name, stoppingToken).ConfigureAwait(false);
                    }
                    else await ReconcileAsync(name, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _logger.LogError(e, "Starting the MQTT channel subscriptions failed; retrying in 10 s.");
                    _ = RetryLaterAsync(name, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private async Task RetryLaterAsync(string? name, CancellationToken ct)
    {
        try { await Task.Delay(TimeSpan.FromSeconds(10), _clock, ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { return; }
        _changes.Writer.TryWrite(name);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        List<string> names;
        lock (_gate) names = [.. _running.Keys];
        await Task.WhenAll(names.Select(StopAsync)).ConfigureAwait(false);
    }

    private async Task ReconcileAsync(string name, CancellationToken ct)
    {
        var config = await _store.FindAsync(name, ct).ConfigureAwait(false);
        var fingerprint = config is { Kind: ChannelKind.Mqtt, Enabled: true } ? config.Settings.ToJsonString() : null;
        lock (_gate)
            if (_running.TryGetValue(name, out var current) && current.Fingerprint == fingerprint) return;
        await StopAsync(name).ConfigureAwait(false);
        if (fingerprint is null) return;

        MqttChannelSettings settings;
        IMqttConnection connection;
        try
        {
            settings = MqttChannelSettings.Read(config!);
            connection = _connections.For(settings);
        }
        catch (ChannelConfigurationException e)
        {
            _logger.LogError("MQTT channel {Channel} cannot receive: {Error}", name, e.Message);
            return;
        }
        var running = new Running(fingerprint, new CancellationTokenSource());
        lock (_gate) _running[name] = running;
        running.Task = Task.Run(() => SubscribeAsync(settings, connection, running), CancellationToken.None);
    }

    private async Task SubscribeAsync(MqttChannelSettings settings, IMqttConnection connection, Running running)
    {
        var ct = running.Cancel.Token;
        var subscriptions = new List<IAsyncDisposable>();
        try
        {
            foreach (var filter in settings.Topics)
                subscriptions.Add(await connection.SubscribeAsync(filter, (m, token) => ReceiveAsync(settings, m, token), settings.Qos, ct).ConfigureAwait(false));
            running.Ready = true;
            _logger.LogInformation("MQTT channel {Channel}: listening on {Topics} at {Endpoint}.", settings.ChannelName, string.Join(", ", settings.Topics), connection.Endpoint);
            Subscribed?.Invoke(settings.ChannelName);
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogError("MQTT channel {Channel} cannot subscribe to {Topics}: {Error}", settings.ChannelName, string.Join(", ", settings.Topics), e.Message);
        }
        finally
        {
            foreach (var s in subscriptions)
            {
                try { await s.DisposeAsync().ConfigureAwait(false); }
                catch (Exception e) when (e is not OutOfMemoryException) { _logger.LogDebug(e, "Unsubscribing MQTT channel {Channel} failed.", settings.ChannelName); }
            }
        }
    }

    private async Task ReceiveAsync(MqttChannelSettings settings, MqttMessage message, CancellationToken ct)
    {
        if (message.Retain)
        {
            _logger.LogDebug("MQTT channel {Channel}: skipped the retained message on {Topic}.", settings.ChannelName, message.Topic);
            return;
        }
        var incoming = MqttMessageParser.Parse(settings.ChannelName, message, _clock.GetUtcNow());
        if (incoming is null) return;
        var receipt = await _inbox.ReceiveAsync(incoming, ct).ConfigureAwait(false);
        _logger.LogDebug("MQTT channel {Channel}: message on {Topic} stored as {Id}{Duplicate}.", settings.ChannelName, message.Topic, receipt.InboxMessageId,
            receipt.Duplicate ? " (duplicate, ignored)" : "");
    }

    private async Task StopAsync(string name)
    {
        Running? running;
        lock (_gate) _running.Remove(name, out running);
        if (running is null) return;
        await running.Cancel.CancelAsync().ConfigureAwait(false);
        if (running.Task is { } task) await task.ConfigureAwait(false);
        running.Cancel.Dispose();
    }

    private sealed class Running(string fingerprint, CancellationTokenSource cancel)
    {
        public string Fingerprint { get; } = fingerprint;
        public CancellationTokenSource Cancel { get; } = cancel;
        public Task? Task { get; set; }
        public volatile bool Ready;
    }
}

/// <summary>Registration of the MQTT channel.</summary>
public static class MqttChannelServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="ChannelKind.Mqtt"/> channel: the reply publisher (an <see cref="IChannelProvider"/>) and the subscriptions
    /// (a hosted service). Channels without a <c>host</c> use the platform's shared <see cref="IMqttConnection"/> (<c>AddPlatformMqtt</c>).
    /// </summary>
    public static IServiceCollection AddMqttChannels(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(MqttListenerService))) return services;
        services.TryAddSingleton<MqttChannelConnections>();
        services.AddSingleton<IChannelProvider, MqttChannelProvider>();
        services.AddSingleton<MqttListenerService>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<MqttListenerService>());
        return services;
    }
}
