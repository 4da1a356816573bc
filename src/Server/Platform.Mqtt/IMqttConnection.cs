using System.Text;

namespace Platform.Mqtt;

/// <summary>The MQTT quality of service levels.</summary>
public enum MqttQos
{
    /// <summary>QoS 0: fire and forget.</summary>
    AtMostOnce = 0,
    /// <summary>QoS 1: acknowledged, may arrive twice.</summary>
    AtLeastOnce = 1,
    /// <summary>QoS 2: exactly once.</summary>
    ExactlyOnce = 2,
}

/// <summary>A received MQTT message.</summary>
/// <param name="Topic">The topic it was published to.</param>
/// <param name="Payload">The payload bytes.</param>
/// <param name="Retain">True when the broker delivered it as the retained message of the topic (on subscribe).</param>
public sealed record MqttMessage(string Topic, ReadOnlyMemory<byte> Payload, bool Retain)
{
    /// <summary>The payload as UTF-8 text.</summary>
    public string PayloadText => Encoding.UTF8.GetString(Payload.Span);
}

/// <summary>
/// A shared connection to the MQTT broker. It connects on first use, reconnects with backoff when the broker goes away, and
/// renews every subscription after a reconnect. Handlers run one at a time, off the network loop, so they may publish.
/// </summary>
/// <example><code>
/// await using var subscription = await mqtt.SubscribeAsync("devices/+/state", (message, ct) =>
/// {
///     Console.WriteLine($"{message.Topic}: {message.PayloadText}");
///     return Task.CompletedTask;
/// }, ct);
/// await mqtt.PublishAsync("devices/lamp/set", "{\"command\":\"on\"}"u8.ToArray(), MqttQos.AtLeastOnce, retain: false, ct);
/// </code></example>
public interface IMqttConnection
{
    /// <summary>True when a broker is configured (external, or the embedded one).</summary>
    bool IsConfigured { get; }

    /// <summary>True while connected.</summary>
    bool IsConnected { get; }

    /// <summary>The broker as <c>host:port</c>, or null when none is configured.</summary>
    string? Endpoint { get; }

    /// <summary>Starts the connection if needed and waits until it is up.</summary>
    /// <exception cref="MqttNotConfiguredException">No broker is configured.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled first (for example the broker is down).</exception>
    Task ConnectAsync(CancellationToken ct = default);

    /// <summary>Publishes a message, waiting for the connection first; with QoS 1 or 2 it returns once the broker acknowledged it.</summary>
    /// <exception cref="MqttNotConfiguredException">No broker is configured.</exception>
    /// <exception cref="MqttPublishException">The broker refused the message.</exception>
    Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, MqttQos qos = MqttQos.AtLeastOnce, bool retain = false, CancellationToken ct = default);

    /// <summary>
    /// Subscribes to a topic filter (<c>+</c> and <c>#</c> wildcards allowed), waiting for the connection and the broker's
    /// acknowledgement. Dispose the result to unsubscribe. Several subscriptions to the same filter share one broker subscription.
    /// </summary>
    /// <exception cref="MqttNotConfiguredException">No broker is configured.</exception>
    /// <exception cref="ArgumentException">The filter is not a valid MQTT topic filter.</exception>
    Task<IAsyncDisposable> SubscribeAsync(string filter, Func<MqttMessage, CancellationToken, Task> handler, MqttQos qos = MqttQos.AtLeastOnce, CancellationToken ct = default);
}

/// <summary>Convenience overloads of <see cref="IMqttConnection"/>.</summary>
public static class MqttConnectionExtensions
{
    /// <summary>Publishes a UTF-8 text payload.</summary>
    public static Task PublishAsync(this IMqttConnection connection, string topic, string payload, MqttQos qos = MqttQos.AtLeastOnce,
        bool retain = false, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return connection.PublishAsync(topic, Encoding.UTF8.GetBytes(payload ?? ""), qos, retain, ct);
    }
}

/// <summary>No MQTT broker is configured, so nothing can be published or subscribed.</summary>
public sealed class MqttNotConfiguredException : InvalidOperationException
{
    /// <summary>Creates the exception with the standard message.</summary>
    public MqttNotConfiguredException()
        : base($"No MQTT broker is configured. Set {MqttOptions.SectionName}:Host (and Port) to use an external broker, or leave Host empty " +
               $"and set {MqttOptions.SectionName}:EmbeddedPort to a free port (it is 0, which disables the embedded broker).") { }

    /// <summary>Creates the exception with a message.</summary>
    public MqttNotConfiguredException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public MqttNotConfiguredException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The broker refused a published message.</summary>
public sealed class MqttPublishException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MqttPublishException() { }

    /// <summary>Creates the exception with a message.</summary>
    public MqttPublishException(string message) : base(message) { }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public MqttPublishException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>MQTT topic helpers.</summary>
public static class MqttTopics
{
    /// <summary>True when <paramref name="topic"/> matches <paramref name="filter"/> (<c>+</c> one level, <c>#</c> the rest).</summary>
    public static bool Matches(string filter, string topic)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(topic);
        var f = filter.Split('/');
        var t = topic.Split('/');
        for (var i = 0; i < f.Length; i++)
        {
            if (f[i] == "#") return i > 0 || topic.Length == 0 || topic[0] != '$';
            if (i >= t.Length) return false;
            if (f[i] == "+") { if (i == 0 && t[0].StartsWith('$')) return false; continue; }
            if (!string.Equals(f[i], t[i], StringComparison.Ordinal)) return false;
        }
        return f.Length == t.Length;
    }

    /// <summary>True when <paramref name="topic"/> is a valid topic to publish to (non-empty, no wildcards, no NUL).</summary>
    public static bool IsValidTopic(string? topic) =>
        !string.IsNullOrEmpty(topic) && topic.Length <= 1024 && topic.IndexOfAny(['+', '#', '\0']) < 0;

    /// <summary>True when <paramref name="filter"/> is a valid subscription filter.</summary>
    public static bool IsValidFilter(string? filter)
    {
        if (string.IsNullOrEmpty(filter) || filter.Length > 1024 || filter.Contains('\0')) return false;
        var levels = filter.Split('/');
        for (var i = 0; i < levels.Length; i++)
        {
            var level = levels[i];
            if (level.Contains('#') && (level != "#" || i != levels.Length - 1)) return false;
            if (level.Contains('+') && level != "+") return false;
        }
        return true;
    }
}
