using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Platform.Mqtt;

/// <summary>
/// The in-process MQTT broker (MQTTnet.Server) of the embedded default: started when no <see cref="MqttOptions.Host"/> is
/// configured, on <see cref="MqttOptions.EmbeddedPort"/>. When <see cref="MqttOptions.Username"/> is set, clients must present
/// it and the password. A port that is already in use is logged, not fatal: the shared connection then talks to whatever
/// broker listens there.
/// </summary>
public sealed class EmbeddedMqttBroker : IHostedService, IAsyncDisposable
{
    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private MqttServer? _server;

    /// <summary>Creates the broker; <see cref="StartAsync"/> starts it.</summary>
    public EmbeddedMqttBroker(MqttOptions options, ILogger<EmbeddedMqttBroker>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>True while the broker is listening.</summary>
    public bool IsRunning => _server?.IsStarted == true;

    /// <summary>The port it listens on (0 when it does not run).</summary>
    public int Port => IsRunning ? _options.EmbeddedPort : 0;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.StartsEmbeddedBroker || _server is not null) return;
        var address = IPAddress.Parse(_options.EmbeddedBindAddress);
        var builder = new MqttServerOptionsBuilder().WithDefaultEndpoint().WithDefaultEndpointPort(_options.EmbeddedPort);
        builder = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? builder.WithDefaultEndpointBoundIPV6Address(address)
            : builder.WithDefaultEndpointBoundIPAddress(address);
        var server = new MqttServerFactory().CreateMqttServer(builder.Build());
        if (!string.IsNullOrEmpty(_options.Username))
        {
            server.ValidatingConnectionAsync += e =>
            {
                if (!string.Equals(e.UserName, _options.Username, StringComparison.Ordinal) || !string.Equals(e.Password, _options.Password ?? "", StringComparison.Ordinal))
                    e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
                return Task.CompletedTask;
            };
        }
        try
        {
            await server.StartAsync().ConfigureAwait(false);
            _server = server;
            _logger.LogInformation("Embedded MQTT broker listening on {Address}:{Port}", address, _options.EmbeddedPort);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            server.Dispose();
            _logger.LogWarning("The embedded MQTT broker cannot listen on {Address}:{Port} ({Reason}). Another broker may already use the port: " +
                               "set {Section}:EmbeddedPort to a free port, or {Section}:Host to use that broker.",
                address, _options.EmbeddedPort, e.Message, MqttOptions.SectionName, MqttOptions.SectionName);
        }
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var server = Interlocked.Exchange(ref _server, null);
        if (server is null) return;
        try { await server.StopAsync().ConfigureAwait(false); }
        finally { server.Dispose(); }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}
