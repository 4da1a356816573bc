using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Platform.Engine.Runtime;

namespace Platform.Messaging;

/// <summary>
/// The message path's metrics and trace spans (System.Diagnostics only; the host exports them). Names and labels are listed
/// in docs/operations.md. Labels are channel names and fixed outcome words, so recording allocates nothing per message.
/// </summary>
public static class MessagingTelemetry
{
    /// <summary>The message path's trace source: receive, process and deliver spans.</summary>
    public const string ActivitySourceName = "Platform.Messaging";

    internal static readonly ActivitySource Source = new(ActivitySourceName);
    private static readonly Meter Meter = new(EngineTelemetry.MeterName);

    private static readonly Counter<long> Received = Meter.CreateCounter<long>("messages_received_total",
        description: "Incoming messages by channel and outcome (stored, duplicate).");
    private static readonly Counter<long> Sent = Meter.CreateCounter<long>("messages_sent_total",
        description: "Outbox delivery attempts by channel and outcome (sent, retry, dead_letter).");
    private static readonly Histogram<double> Latency = Meter.CreateHistogram<double>("message_latency_seconds", "s",
        "From the message's arrival in the inbox until its processing committed (the replies are in the outbox), by channel.");
    private static readonly Histogram<double> Delivery = Meter.CreateHistogram<double>("outbox_delivery_seconds", "s",
        "From an outbox message's creation until the channel accepted it, by channel.");
    private static readonly UpDownCounter<long> ChatSockets = Meter.CreateUpDownCounter<long>("chat_sockets_open",
        description: "Open web chat sockets on this node.");

    // The span a message was received in, until it is processed (the lane worker runs on another async flow).
    private static readonly ConcurrentDictionary<string, ActivityContext> Parents = new(StringComparer.Ordinal);

    internal static void RecordReceived(string channel, bool duplicate) =>
        Received.Add(1, new KeyValuePair<string, object?>("channel", channel), new KeyValuePair<string, object?>("outcome", duplicate ? "duplicate" : "stored"));

    internal static void RecordSent(string channel, string outcome) =>
        Sent.Add(1, new KeyValuePair<string, object?>("channel", channel), new KeyValuePair<string, object?>("outcome", outcome));

    internal static void RecordProcessed(string channel, TimeSpan latency) =>
        Latency.Record(latency.TotalSeconds, new KeyValuePair<string, object?>("channel", channel));

    internal static void RecordDelivered(string channel, TimeSpan latency) =>
        Delivery.Record(latency.TotalSeconds, new KeyValuePair<string, object?>("channel", channel));

    internal static void ChatSocketOpened() => ChatSockets.Add(1);

    internal static void ChatSocketClosed() => ChatSockets.Add(-1);

    /// <summary>Keeps the current span as the parent of the later work on <paramref name="id"/> (only while tracing).</summary>
    internal static void RememberParent(string id)
    {
        if (Activity.Current is { } current && Parents.Count < 10_000) Parents[id] = current.Context;
    }

    /// <summary>
    /// Starts a span under the one remembered for <paramref name="id"/>, else under the stored W3C
    /// <paramref name="traceParent"/> (a message taken up after a restart or by another node), else under the current one.
    /// </summary>
    internal static Activity? StartLinked(string name, string id, ActivityKind kind = ActivityKind.Internal, string? traceParent = null)
    {
        if (!Source.HasListeners())
        {
            if (!Parents.IsEmpty) Parents.TryRemove(id, out _);
            return null;
        }
        if (Parents.TryRemove(id, out var parent)) return Source.StartActivity(name, kind, parent);
        if (traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var stored))
            return Source.StartActivity(name, kind, stored);
        return Source.StartActivity(name, kind);
    }

    /// <summary>
    /// Starts a span that begins a trace of its own, linked to the current span (only while tracing). A web chat socket's
    /// request span lasts as long as the socket: each message on it gets its own trace instead of one trace for hours.
    /// Call it from an async method: the current span is restored when that method returns.
    /// </summary>
    internal static Activity? StartRoot(string name, ActivityKind kind)
    {
        if (!Source.HasListeners()) return null;
        var outer = Activity.Current;
        Activity.Current = null;
        var span = Source.StartActivity(name, kind, default(ActivityContext), links: outer is null ? null : [new ActivityLink(outer.Context)]);
        if (span is null) Activity.Current = outer;
        return span;
    }

    /// <summary>The metadata key under which an incoming message keeps the W3C <c>traceparent</c> of its receive span.</summary>
    public const string TraceParentMetadataKey = "traceparent";
}
