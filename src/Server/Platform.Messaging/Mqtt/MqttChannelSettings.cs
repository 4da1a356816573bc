using System.Text.Json.Nodes;
using Platform.Channels;
using Platform.Mqtt;

namespace Platform.Messaging.Mqtt;

/// <summary>How replies are published.</summary>
public enum MqttReplyFormat
{
    /// <summary><c>{"id", "text", "to", "conversation", "inReplyTo", "quickReplies", "direction": "out"}</c>.</summary>
    Json,

    /// <summary>The plain text only.</summary>
    Text,
}

/// <summary>
/// The settings of an <see cref="ChannelKind.Mqtt"/> channel: <c>topics</c> (filters to subscribe to, comma separated or a JSON
/// array, <c>+</c>/<c>#</c> allowed), <c>replyTopic</c> (may contain <c>{conversation}</c> and <c>{wildcard}</c>), <c>qos</c>
/// (default 1), <c>replyFormat</c> (<c>json</c> or <c>text</c>), and optionally <c>host</c>, <c>port</c>, <c>username</c>,
/// <c>password</c> for a broker of its own (otherwise the platform's shared connection, <c>Platform:Mqtt</c>).
/// </summary>
public sealed record MqttChannelSettings
{
    /// <summary>The channel name.</summary>
    public required string ChannelName { get; init; }

    /// <summary>The topic filters subscribed to.</summary>
    public required IReadOnlyList<string> Topics { get; init; }

    /// <summary>The reply topic template.</summary>
    public required string ReplyTopic { get; init; }

    /// <summary>The QoS of subscriptions and replies.</summary>
    public MqttQos Qos { get; init; } = MqttQos.AtLeastOnce;

    /// <summary>The reply payload format.</summary>
    public MqttReplyFormat ReplyFormat { get; init; } = MqttReplyFormat.Json;

    /// <summary>The channel's own broker, or null for the shared connection.</summary>
    public MqttOptions? Broker { get; init; }

    /// <summary>Reads and checks the settings of <paramref name="channel"/>.</summary>
    /// <exception cref="ChannelConfigurationException">A setting is missing or invalid; the message says how to fix it.</exception>
    public static MqttChannelSettings Read(ChannelConfig channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var topics = ReadTopics(channel);
        if (topics.Count == 0)
            throw new ChannelConfigurationException($"Channel '{channel.Name}' (Mqtt) needs 'topics': the topic filters to listen on, for example 'chat/in/+'.");
        foreach (var t in topics)
            if (!MqttTopics.IsValidFilter(t))
                throw new ChannelConfigurationException($"Channel '{channel.Name}' (Mqtt): '{t}' in 'topics' is not a valid topic filter ('+' stands for one whole level, '#' for the rest and only at the end).");
        var reply = channel.Get("replyTopic") is { Length: > 0 } r ? r.Trim() : "{conversation}/reply";
        if (!MqttTopics.IsValidTopic(reply.Replace("{conversation}", "x", StringComparison.Ordinal).Replace("{wildcard}", "x", StringComparison.Ordinal)))
            throw new ChannelConfigurationException($"Channel '{channel.Name}' (Mqtt): replyTopic '{reply}' is not a topic one can publish to (no '+' or '#'); use e.g. 'chat/out/{{wildcard}}'.");
        var qos = (channel.Get("qos") ?? "1").Trim() switch
        {
            "0" => MqttQos.AtMostOnce,
            "1" => MqttQos.AtLeastOnce,
            "2" => MqttQos.ExactlyOnce,
            var other => throw new ChannelConfigurationException($"Channel '{channel.Name}' (Mqtt): qos is '{other}'; use 0, 1 or 2."),
        };
        var format = (channel.Get("replyFormat") ?? "json").Trim().ToLowerInvariant() switch
        {
            "json" or "" => MqttReplyFormat.Json,
            "text" => MqttReplyFormat.Text,
            var other => throw new ChannelConfigurationException($"Channel '{channel.Name}' (Mqtt): replyFormat is '{other}'; use 'json' or 'text'."),
        };
        MqttOptions? broker = null;
        if (channel.Get("host") is { Length: > 0 } host)
        {
            var portText = channel.Get("port");
            var port = MqttOptions.DefaultPort;
            if (!string.IsNullOrWhiteSpace(portText) && (!int.TryParse(portText, out port) || port is <= 0 or > 65535))
                throw new ChannelConfigurationException($"Channel '{channel.Name}' (Mqtt): port is '{portText}'; use a TCP port from 1 to 65535 (MQTT's default is 1883).");
            broker = new MqttOptions
            {
                Host = host.Trim(), Port = port, Username = channel.Get("username"), Password = channel.Get("password"), Embedded = false,
                ClientIdPrefix = $"platform-{channel.Name}",
            };
        }
        return new MqttChannelSettings { ChannelName = channel.Name, Topics = topics, ReplyTopic = reply, Qos = qos, ReplyFormat = format, Broker = broker };
    }

    private static List<string> ReadTopics(ChannelConfig channel)
    {
        if (channel.Settings.TryGetPropertyValue("topics", out var node) && node is JsonArray array)
            return [.. array.Select(n => n?.ToString().Trim() ?? "").Where(t => t.Length > 0).Distinct(StringComparer.Ordinal)];
        var text = channel.Get("topics") ?? channel.Get("topic") ?? "";
        if (text.TrimStart().StartsWith('[') && JsonNode.Parse(text) is JsonArray parsed)
            return [.. parsed.Select(n => n?.ToString().Trim() ?? "").Where(t => t.Length > 0).Distinct(StringComparer.Ordinal)];
        return [.. text.Split([',', ';', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The reply topic for a conversation: <c>{conversation}</c> is the conversation's chat id (the <c>from</c> of the message, or
    /// its topic), <c>{wildcard}</c> the topic levels a <c>+</c> or <c>#</c> of <see cref="Topics"/> matched in it (the chat id itself
    /// when it is not a topic of this channel): with topics <c>chat/in/+</c> and replyTopic <c>chat/out/{wildcard}</c>, a message
    /// on <c>chat/in/alice</c> is answered on <c>chat/out/alice</c>.
    /// </summary>
    public string ReplyTopicFor(string conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var wildcard = conversation;
        foreach (var filter in Topics)
        {
            if (!MqttTopics.Matches(filter, conversation)) continue;
            var f = filter.Split('/');
            var t = conversation.Split('/');
            var parts = new List<string>();
            for (var i = 0; i < f.Length; i++)
            {
                if (f[i] == "+") parts.Add(t[i]);
                else if (f[i] == "#") { parts.AddRange(t.Skip(i)); break; }
            }
            if (parts.Count > 0) wildcard = string.Join('/', parts);
            break;
        }
        return ReplyTopic.Replace("{conversation}", conversation, StringComparison.Ordinal).Replace("{wildcard}", wildcard, StringComparison.Ordinal);
    }
}
