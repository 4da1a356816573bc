using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace Platform.Mqtt;

/// <summary>
/// The in-process MQTT broker (MQTTnet.Server) of the embedded default: started when no <see cref="MqttOptions.Host"/> is
/// configured, on <see cref="MqttOptions.EmbeddedPort"/>. Every client must authenticate: the platform with
/// <see cref="MqttOptions.Username"/> and its password (generated when not configured), devices and bridges with an entry of
/// <see cref="MqttOptions.Clients"/>. A topic ACL lets devices publish only their own state topic, and only the platform
/// publish commands (<c>devices/+/set</c>); see <see cref="MqttBrokerAccess"/>. A port that is already in use is logged, not
/// fatal: the shared connection then talks to whatever broker listens there.
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
        options.EnsureEmbeddedCredentials();
        _access = new MqttBrokerAccess(options);
    }

    private const string AccessItem = "platform.access";
    private readonly MqttBrokerAccess _access;

    /// <summary>True while the broker is listening.</summary>
    public bool IsRunning => _server?.IsStarted == true;

    /// <summary>The plain TCP port it listens on (0 when it does not run or has no plain listener).</summary>
    public int Port => IsRunning && _options.Broker.PlainTcp ? _options.EmbeddedPort : 0;

    /// <summary>The TLS port it listens on (0 when it does not run or has no TLS listener).</summary>
    public int TlsPort => IsRunning && _options.Broker.Tls.IsEnabled ? _options.Broker.Tls.Port : 0;

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.StartsEmbeddedBroker || _server is not null) return;
        var address = IPAddress.Parse(_options.EmbeddedBindAddress);
        var v6 = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        var builder = new MqttServerOptionsBuilder();
        if (_options.Broker.PlainTcp)
        {
            builder = builder.WithDefaultEndpoint().WithDefaultEndpointPort(_options.EmbeddedPort);
            builder = v6 ? builder.WithDefaultEndpointBoundIPV6Address(address) : builder.WithDefaultEndpointBoundIPAddress(address);
        }
        else
        {
            builder = builder.WithoutDefaultEndpoint();
        }
        var tls = _options.Broker.Tls;
        // Loaded here, outside the try below: a missing or unreadable certificate stops the start with a message that says what to fix.
        var certificate = tls.IsEnabled ? new MqttBrokerCertificate(tls) : null;
        if (certificate is not null)
        {
            builder = builder.WithEncryptedEndpoint().WithEncryptedEndpointPort(tls.Port).WithEncryptionSslProtocol(MqttBrokerTlsOptions.Protocols);
            builder = v6 ? builder.WithEncryptedEndpointBoundIPV6Address(address) : builder.WithEncryptedEndpointBoundIPAddress(address);
        }
        var serverOptions = builder.Build();
        if (certificate is not null) serverOptions.TlsEndpointOptions.CertificateProvider = certificate;
        var server = new MqttServerFactory().CreateMqttServer(serverOptions);
        server.ValidatingConnectionAsync += e =>
        {
            var access = _access.Authenticate(e.UserName, e.Password);
            if (access is null)
            {
                e.ReasonCode = string.IsNullOrEmpty(e.UserName) ? MqttConnectReasonCode.NotAuthorized : MqttConnectReasonCode.BadUserNameOrPassword;
                _logger.LogWarning("Embedded MQTT broker refused client {ClientId} from {Endpoint}: {Reason}. Give it credentials under {Section}:Clients.",
                    e.ClientId, e.RemoteEndPoint, string.IsNullOrEmpty(e.UserName) ? "no credentials" : $"bad user name or password for '{e.UserName}'", MqttOptions.SectionName);
                return Task.CompletedTask;
            }
            e.SessionItems[AccessItem] = access;
            return Task.CompletedTask;
        };
        server.InterceptingPublishAsync += e =>
        {
            var access = e.SessionItems[AccessItem] as MqttClientAccess;
            var topic = e.ApplicationMessage.Topic;
            if (access?.MayPublish(topic) == true) return Task.CompletedTask;
            e.ProcessPublish = false;
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            _logger.LogWarning("Embedded MQTT broker dropped a message of {User} ({ClientId}) to {Topic}: not allowed{Hint}.", access?.Name ?? "?", e.ClientId, topic,
                MqttTopics.Matches(MqttClientAccess.CommandTopicFilter, topic) ? " (only the platform sends device commands)" : $"; list the topic under {MqttOptions.SectionName}:Clients:N:Publish");
            return Task.CompletedTask;
        };
        server.InterceptingSubscriptionAsync += e =>
        {
            var access = e.SessionItems[AccessItem] as MqttClientAccess;
            if (access?.MaySubscribe(e.TopicFilter.Topic) == true) return Task.CompletedTask;
            e.ProcessSubscription = false;
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            _logger.LogWarning("Embedded MQTT broker refused a subscription of {User} ({ClientId}) to {Filter}; list it under {Section}:Clients:N:Subscribe.",
                access?.Name ?? "?", e.ClientId, e.TopicFilter.Topic, MqttOptions.SectionName);
            return Task.CompletedTask;
        };
        try
        {
            await server.StartAsync().ConfigureAwait(false);
            _server = server;
            if (_options.Broker.PlainTcp) _logger.LogInformation("Embedded MQTT broker listening on {Address}:{Port}", address, _options.EmbeddedPort);
            if (certificate is not null)
                _logger.LogInformation("Embedded MQTT broker listening with TLS on {Address}:{Port} ({Subject}, {Thumbprint})", address, tls.Port,
                    certificate.Certificate.Subject, certificate.Certificate.Thumbprint);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            server.Dispose();
            _logger.LogWarning("The embedded MQTT broker cannot listen on {Address}:{Port} ({Reason}). Another broker may already use the port: " +
                               "set {Section}:EmbeddedPort (and {Section}:Broker:Tls:Port) to a free port, or {Section}:Host to use that broker.",
                address, certificate is not null && !_options.Broker.PlainTcp ? tls.Port : _options.EmbeddedPort, e.Message, MqttOptions.SectionName,
                MqttOptions.SectionName, MqttOptions.SectionName);
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
