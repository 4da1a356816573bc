using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Channels;
using Platform.Mqtt;

namespace Platform.Messaging.Mqtt;

/// <summary>
/// The broker connections of MQTT channels: the platform's shared <see cref="IMqttConnection"/> (<c>Platform:Mqtt</c>), or one
/// connection of its own per channel that sets <c>host</c>. A channel's own connection is replaced when its settings change.
/// </summary>
public sealed class MqttChannelConnections(IServiceProvider services, ILoggerFactory loggers) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, (string Key, MqttConnection Connection)> _own = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>The connection for a channel.</summary>
    /// <exception cref="ChannelConfigurationException">The channel has no broker of its own and the platform has none configured.</exception>
    public IMqttConnection For(MqttChannelSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Broker is { } broker)
        {
            var key = $"{broker.Host}:{broker.Port}:{broker.Username}:{broker.Password}";
            MqttConnection? stale = null;
            MqttConnection connection;
            lock (_gate)
            {
                if (_own.TryGetValue(settings.ChannelName, out var current) && current.Key == key) return current.Connection;
                if (current.Connection is not null) stale = current.Connection;
                connection = new MqttConnection(broker, loggers.CreateLogger<MqttConnection>());
                _own[settings.ChannelName] = (key, connection);
            }
            if (stale is not null) _ = stale.DisposeAsync().AsTask();
            return connection;
        }
        var shared = services.GetService<IMqttConnection>();
        return shared is { IsConfigured: true } ? shared
            : throw new ChannelConfigurationException($"Channel '{settings.ChannelName}' (Mqtt) has no broker: set its 'host' (and 'port'), or configure the platform's " +
                                                      $"{MqttOptions.SectionName}:Host (or leave it empty with {MqttOptions.SectionName}:EmbeddedPort > 0 for the embedded broker).");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var (_, (_, connection)) in _own) await connection.DisposeAsync().ConfigureAwait(false);
        _own.Clear();
    }
}

/// <summary>
/// Publishes replies of an MQTT channel to its reply topic (<see cref="MqttChannelSettings.ReplyTopicFor"/>) with the channel's
/// QoS (1 by default: the call returns when the broker acknowledged it). No broker connection within 15 s is retryable; a broker
/// that refuses the message and a recipient that makes no valid topic are permanent.
/// </summary>
public sealed class MqttChannelSender(MqttChannelSettings settings, IMqttConnection connection) : IChannelSender
{
    private static readonly TimeSpan ConnectWait = TimeSpan.FromSeconds(15);

    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Mqtt;

    /// <inheritdoc />
    public string ChannelName => settings.ChannelName;

    /// <summary>The payload published for <paramref name="message"/>.</summary>
    public string Payload(string recipient, OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (settings.ReplyFormat == MqttReplyFormat.Text) return message.Text;
        var json = new JsonObject
        {
            ["id"] = message.IdempotencyKey,
            ["text"] = message.Text,
            ["to"] = recipient,
            ["channel"] = settings.ChannelName,
            ["direction"] = "out",
        };
        if (message.ReplyToChannelMessageId is { } answered) json["inReplyTo"] = answered;
        if (message.Subject is { } subject) json["subject"] = subject;
        if (message.QuickReplies.Count > 0)
            json["quickReplies"] = new JsonArray([.. message.QuickReplies.Select(q => (JsonNode)new JsonObject { ["label"] = q.Label, ["value"] = q.Value })]);
        return json.ToJsonString();
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.IsNullOrWhiteSpace(recipient)) return SendResult.Permanent("The message has no recipient (an MQTT conversation or topic).", "no_recipient");
        var topic = settings.ReplyTopicFor(recipient.Trim());
        if (!MqttTopics.IsValidTopic(topic))
            return SendResult.Permanent($"'{topic}' (replyTopic '{settings.ReplyTopic}' for '{recipient}') is not a topic one can publish to: it must not contain '+' or '#'.", "invalid_topic");
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(ConnectWait);
        try
        {
            await connection.PublishAsync(topic, Encoding.UTF8.GetBytes(Payload(recipient, message)), settings.Qos, retain: false, wait.Token).ConfigureAwait(false);
            return new SendResult { Status = SendStatus.Sent, ChannelMessageIds = [message.IdempotencyKey ?? topic], PartsDelivered = 1, TotalParts = 1 };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException)
        {
            return new SendResult { Status = SendStatus.RetryableFailure, Error = $"No connection to the MQTT broker at {connection.Endpoint} within {ConnectWait.TotalSeconds:0} s; the outbox retries." };
        }
        catch (MqttNotConfiguredException e)
        {
            return SendResult.Permanent(e.Message, "no_broker");
        }
        catch (MqttPublishException e)
        {
            return SendResult.Permanent(e.Message, "refused");
        }
        catch (ArgumentException e)
        {
            return SendResult.Permanent(e.Message, "invalid_topic");
        }
        catch (Exception e) when (e is not OutOfMemoryException and not ObjectDisposedException)
        {
            return new SendResult { Status = SendStatus.RetryableFailure, Error = $"Publishing to {topic} on {connection.Endpoint} failed: {e.Message}" };
        }
    }
}

/// <summary>Builds <see cref="MqttChannelSender"/>s for <see cref="ChannelKind.Mqtt"/> channels.</summary>
public sealed class MqttChannelProvider(MqttChannelConnections connections) : IChannelProvider
{
    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Mqtt;

    /// <inheritdoc />
    public IChannelSender Create(ChannelConfig channel)
    {
        var settings = MqttChannelSettings.Read(channel);
        return new MqttChannelSender(settings, connections.For(settings));
    }
}

/// <summary>Turns MQTT messages into incoming messages.</summary>
public static class MqttMessageParser
{
    /// <summary>
    /// The payload is text, or JSON <c>{"text", "from", "id", "name"}</c> (<c>message</c> is accepted for <c>text</c>). The
    /// conversation's chat is <c>from</c> when given, else the topic; the channel message id is <c>id</c> when given (a redelivery
    /// with the same id is dropped by the inbox), else a new id. Returns null for the channel's own replies
    /// (JSON with <c>"direction": "out"</c>).
    /// </summary>
    public static IncomingMessage? Parse(string channelName, MqttMessage message, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(message);
        var raw = message.PayloadText;
        string text = raw, from = "", id = "", name = "";
        if (raw.TrimStart().StartsWith('{'))
        {
            try
            {
                if (JsonNode.Parse(raw) is JsonObject json)
                {
                    if (Str(json, "direction") == "out") return null;
                    text = Str(json, "text") ?? Str(json, "message") ?? raw;
                    from = Str(json, "from") ?? "";
                    id = Str(json, "id") ?? "";
                    name = Str(json, "name") ?? "";
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: the payload is the text.
            }
        }
        var chat = from.Length > 0 ? from : message.Topic;
        return new IncomingMessage
        {
            ChannelKind = ChannelKind.Mqtt,
            ChannelName = channelName,
            ChannelMessageId = id.Length > 0 ? id : Guid.CreateVersion7().ToString("N"),
            Conversation = new ConversationId(ChannelKind.Mqtt, channelName, chat),
            Sender = new ChannelUser(chat, name.Length > 0 ? name : null),
            Text = text.Trim(),
            ReceivedAt = receivedAt,
            RawPayload = raw,
            Metadata = new Dictionary<string, string>(StringComparer.Ordinal) { ["mqtt.topic"] = message.Topic },
        };
    }

    private static string? Str(JsonObject json, string key) =>
        json.TryGetPropertyValue(key, out var v) && v is JsonValue value
            ? value.TryGetValue<string>(out var s) ? (s.Length > 0 ? s : null) : value.ToJsonString()
            : null;
}
