using System.Buffers;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace Platform.Mqtt;

/// <summary>
/// The shared MQTT client connection (MQTTnet): connects on first use, reconnects with exponential backoff, renews
/// subscriptions after every reconnect, and dispatches received messages to handlers one at a time off the network loop.
/// </summary>
public sealed class MqttConnection : IMqttConnection, IAsyncDisposable
{
    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private readonly IMqttClient _client;
    private readonly object _sync = new();
    private readonly SemaphoreSlim _subscriptionGate = new(1, 1);
    private readonly Dictionary<string, FilterEntry> _filters = new(StringComparer.Ordinal);
    private readonly Channel<MqttMessage> _inbox = Channel.CreateUnbounded<MqttMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _connected = NewSignal();
    private TaskCompletionSource _disconnected = NewSignal();
    private Task? _loop;
    private Task? _dispatcher;
    private bool _disposed;

    /// <summary>Creates the connection; nothing connects until it is first used.</summary>
    public MqttConnection(MqttOptions options, ILogger<MqttConnection>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _client = new MqttClientFactory().CreateMqttClient();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            var m = e.ApplicationMessage;
            _inbox.Writer.TryWrite(new MqttMessage(m.Topic, m.Payload.ToArray(), m.Retain));
            return Task.CompletedTask;
        };
        _client.DisconnectedAsync += _ =>
        {
            lock (_sync)
            {
                if (_connected.Task.IsCompleted) _connected = NewSignal();
                _disconnected.TrySetResult();
            }
            return Task.CompletedTask;
        };
        var prefix = string.IsNullOrWhiteSpace(options.ClientIdPrefix) ? "platform" : options.ClientIdPrefix.Trim();
        if (prefix.Length > 40) prefix = prefix[..40];
        ClientId = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];
    }

    /// <summary>The client id this connection presents to the broker.</summary>
    public string ClientId { get; }

    /// <inheritdoc />
    public bool IsConfigured => _options.IsConfigured;

    /// <inheritdoc />
    public bool IsConnected => _client.IsConnected;

    /// <inheritdoc />
    public string? Endpoint => _options.Endpoint;

    /// <inheritdoc />
    public async Task ConnectAsync(CancellationToken ct = default)
    {
        Start();
        Task signal;
        lock (_sync) signal = _connected.Task;
        await signal.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQos qos = MqttQos.AtLeastOnce, bool retain = false, CancellationToken ct = default)
    {
        if (!MqttTopics.IsValidTopic(topic))
            throw new ArgumentException($"'{topic}' is not a topic one can publish to: it must be non-empty and contain no '+' or '#'.", nameof(topic));
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload.ToArray())
            .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)qos).WithRetainFlag(retain).Build();
        while (true)
        {
            await ConnectAsync(ct).ConfigureAwait(false);
            try
            {
                var result = await _client.PublishAsync(message, ct).ConfigureAwait(false);
                if (!result.IsSuccess)
                    throw new MqttPublishException($"The MQTT broker at {Endpoint} refused the message to '{topic}': {result.ReasonCode} {result.ReasonString}. " +
                                                   "Check the broker's access rules for this topic.");
                return;
            }
            catch (Exception e) when (e is MqttCommunicationException or MqttClientNotConnectedException && !ct.IsCancellationRequested && !_disposed)
            {
                _logger.LogDebug(e, "Publishing to {Topic} failed because the connection dropped; retrying after reconnecting", topic);
            }
        }
    }

    /// <inheritdoc />
    public async Task<IAsyncDisposable> SubscribeAsync(string filter, Func<MqttMessage, CancellationToken, Task> handler, MqttQos qos = MqttQos.AtLeastOnce,
        CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (!MqttTopics.IsValidFilter(filter))
            throw new ArgumentException($"'{filter}' is not a valid MQTT topic filter: '+' and '#' must fill a whole level, and '#' must be last.", nameof(filter));
        await ConnectAsync(ct).ConfigureAwait(false);
        await _subscriptionGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            FilterEntry entry;
            var subscription = new Subscription(this, filter, handler);
            lock (_sync)
            {
                if (!_filters.TryGetValue(filter, out entry!)) _filters[filter] = entry = new FilterEntry(filter, qos);
                entry.Handlers.Add(subscription);
            }
            if (entry.Handlers.Count == 1 && _client.IsConnected)
            {
                try { await SendSubscribeAsync(entry, ct).ConfigureAwait(false); }
                catch (Exception e) when (e is MqttCommunicationException or MqttClientNotConnectedException)
                {
                    _logger.LogDebug(e, "Subscribing to {Filter} failed because the connection dropped; it is renewed on reconnect", filter);
                }
            }
            return subscription;
        }
        finally
        {
            _subscriptionGate.Release();
        }
    }

    /// <summary>Starts connecting in the background (idempotent).</summary>
    /// <exception cref="MqttNotConfiguredException">No broker is configured.</exception>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_options.IsConfigured) throw new MqttNotConfiguredException();
        lock (_sync)
        {
            if (_loop is not null) return;
            _dispatcher = Task.Run(DispatchAsync);
            _loop = Task.Run(RunAsync);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _stop.CancelAsync().ConfigureAwait(false);
        lock (_sync) _connected.TrySetException(new ObjectDisposedException(nameof(MqttConnection), "The MQTT connection was disposed (the host is stopping)."));
        _inbox.Writer.TryComplete();
        try { if (_loop is not null) await _loop.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        try
        {
            if (_client.IsConnected)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().Build(), timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is MqttCommunicationException or OperationCanceledException or MqttClientNotConnectedException) { }
        try { if (_dispatcher is not null) await _dispatcher.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        _client.Dispose();
        _stop.Dispose();
        _subscriptionGate.Dispose();
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        var delay = _options.ReconnectDelay > TimeSpan.Zero ? _options.ReconnectDelay : TimeSpan.FromMilliseconds(250);
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            Task disconnected;
            lock (_sync)
            {
                _disconnected = NewSignal();
                disconnected = _disconnected.Task;
            }
            try
            {
                await ConnectOnceAsync(ct).ConfigureAwait(false);
                if (failures > 0) _logger.LogInformation("Reconnected to the MQTT broker at {Endpoint} as {ClientId}", Endpoint, ClientId);
                else _logger.LogInformation("Connected to the MQTT broker at {Endpoint} as {ClientId}", Endpoint, ClientId);
                failures = 0;
                delay = _options.ReconnectDelay > TimeSpan.Zero ? _options.ReconnectDelay : TimeSpan.FromMilliseconds(250);
                lock (_sync) _connected.TrySetResult();
                await disconnected.WaitAsync(ct).ConfigureAwait(false);
                _logger.LogWarning("Lost the connection to the MQTT broker at {Endpoint}; reconnecting", Endpoint);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                failures++;
                if (failures == 1 || failures % 20 == 0)
                    _logger.LogWarning("Cannot connect to the MQTT broker at {Endpoint} ({Reason}); retrying with backoff (attempt {Attempt}). " +
                                       "Check {Section}:Host and Port, or that the embedded broker started.", Endpoint, e.Message, failures, MqttOptions.SectionName);
                else _logger.LogDebug(e, "MQTT connection attempt {Attempt} to {Endpoint} failed", failures, Endpoint);
                try { await Task.Delay(delay, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                var max = _options.MaxReconnectDelay > TimeSpan.Zero ? _options.MaxReconnectDelay : TimeSpan.FromSeconds(30);
                delay = TimeSpan.FromTicks(Math.Min(max.Ticks, delay.Ticks * 2));
            }
        }
    }

    private async Task ConnectOnceAsync(CancellationToken ct)
    {
        if (!_client.IsConnected)
        {
            var builder = new MqttClientOptionsBuilder()
                .WithTcpServer(_options.HasExternalBroker ? _options.Host!.Trim() : _options.EmbeddedClientHost,
                    _options.HasExternalBroker ? _options.Port : _options.UsesEmbeddedTls ? _options.Broker.Tls.Port : _options.EmbeddedPort)
                .WithClientId(ClientId)
                .WithCleanSession(true)
                .WithKeepAlivePeriod(TimeSpan.FromSeconds(30))
                .WithTimeout(_options.ConnectTimeout > TimeSpan.Zero ? _options.ConnectTimeout : TimeSpan.FromSeconds(5));
            if (!string.IsNullOrEmpty(_options.Username)) builder = builder.WithCredentials(_options.Username, _options.Password ?? "");
            if (_options.UsesEmbeddedTls)
            {
                // Only the TLS listener runs: the platform talks to its own broker over TLS and trusts exactly the certificate it serves
                // (whatever name it was issued for), read from the same files.
                var expected = MqttBrokerCertificate.Load(_options.Broker.Tls).GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
                builder = builder.WithTlsOptions(tls => tls.UseTls().WithSslProtocols(MqttBrokerTlsOptions.Protocols)
                    .WithCertificateValidationHandler(e => e.Certificate is { } served
                        && served.GetCertHash(System.Security.Cryptography.HashAlgorithmName.SHA256).AsSpan().SequenceEqual(expected)));
            }
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(_options.ConnectTimeout > TimeSpan.Zero ? _options.ConnectTimeout : TimeSpan.FromSeconds(5));
            var result = await _client.ConnectAsync(builder.Build(), timeout.Token).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
                throw new MqttCommunicationException($"the broker refused the connection: {result.ResultCode} {result.ReasonString}");
        }
        // Clean session: the broker forgot our subscriptions, so renew them before anyone is told we are connected.
        await _subscriptionGate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            List<FilterEntry> entries;
            lock (_sync) entries = _filters.Values.Where(f => f.Handlers.Count > 0).ToList();
            foreach (var entry in entries) await SendSubscribeAsync(entry, ct).ConfigureAwait(false);
        }
        finally
        {
            _subscriptionGate.Release();
        }
    }

    private async Task SendSubscribeAsync(FilterEntry entry, CancellationToken ct)
    {
        var options = new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter(f => f.WithTopic(entry.Filter).WithQualityOfServiceLevel((MqttQualityOfServiceLevel)entry.Qos)).Build();
        var result = await _client.SubscribeAsync(options, ct).ConfigureAwait(false);
        foreach (var item in result.Items)
        {
            if ((int)item.ResultCode > 2)
                _logger.LogWarning("The MQTT broker at {Endpoint} refused the subscription to {Filter}: {Code}. Check the broker's access rules.",
                    Endpoint, entry.Filter, item.ResultCode);
        }
    }

    private async Task RemoveAsync(Subscription subscription)
    {
        if (_disposed) return;
        await _subscriptionGate.WaitAsync().ConfigureAwait(false);
        try
        {
            FilterEntry? empty = null;
            lock (_sync)
            {
                if (_filters.TryGetValue(subscription.Filter, out var entry) && entry.Handlers.Remove(subscription) && entry.Handlers.Count == 0)
                {
                    _filters.Remove(subscription.Filter);
                    empty = entry;
                }
            }
            if (empty is not null && _client.IsConnected)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await _client.UnsubscribeAsync(new MqttClientUnsubscribeOptionsBuilder().WithTopicFilter(empty.Filter).Build(), timeout.Token)
                        .ConfigureAwait(false);
                }
                catch (Exception e) when (e is MqttCommunicationException or MqttClientNotConnectedException or OperationCanceledException)
                {
                    _logger.LogDebug(e, "Unsubscribing from {Filter} failed; the broker forgets it on reconnect", empty.Filter);
                }
            }
        }
        finally
        {
            _subscriptionGate.Release();
        }
    }

    private async Task DispatchAsync()
    {
        await foreach (var message in _inbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            List<Subscription> targets;
            lock (_sync)
                targets = _filters.Values.Where(f => MqttTopics.Matches(f.Filter, message.Topic)).SelectMany(f => f.Handlers).ToList();
            foreach (var target in targets)
            {
                if (target.IsDisposed) continue;
                try { await target.Handler(message, _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _logger.LogError(e, "The handler of MQTT subscription {Filter} failed on a message to {Topic}", target.Filter, message.Topic);
                }
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class FilterEntry(string filter, MqttQos qos)
    {
        public string Filter { get; } = filter;
        public MqttQos Qos { get; } = qos;
        public List<Subscription> Handlers { get; } = [];
    }

    private sealed class Subscription(MqttConnection owner, string filter, Func<MqttMessage, CancellationToken, Task> handler) : IAsyncDisposable
    {
        private int _disposed;
        public string Filter { get; } = filter;
        public Func<MqttMessage, CancellationToken, Task> Handler { get; } = handler;
        public bool IsDisposed => Volatile.Read(ref _disposed) != 0;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            await owner.RemoveAsync(this).ConfigureAwait(false);
        }
    }
}
