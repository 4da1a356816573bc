namespace Platform.Engine.Models;

/// <summary>Where an outbox message is in its delivery.</summary>
public enum OutboxStatus
{
    /// <summary>Waiting for (another) delivery attempt at <see cref="OutboxMessage.NextAttemptAt"/>.</summary>
    Pending,
    /// <summary>Delivered.</summary>
    Sent,
    /// <summary>Given up on after the last attempt or a permanent failure; <see cref="OutboxMessage.LastError"/> says why.</summary>
    DeadLettered,
}

/// <summary>
/// A message waiting to be delivered, written in the same transaction as the workflow state that produced it.
/// Delivery is claimed with a lease (<see cref="NextAttemptAt"/> moves forward while a node is sending), so with several
/// nodes each message is sent by one of them.
/// </summary>
public sealed class OutboxMessage
{
    /// <summary>The delivery lease of a message written by a workflow commit: the committing node sends it at once; other nodes
    /// wait this long before they take it over.</summary>
    public static readonly TimeSpan CommitLease = TimeSpan.FromSeconds(30);

    public required string Id { get; init; }
    public string? WorkflowInstanceId { get; init; }
    public string? ActivityInstanceId { get; init; }
    /// <summary>The channel name that delivers it.</summary>
    public required string Channel { get; init; }
    public string? ConversationKey { get; init; }
    /// <summary>The channel-neutral message as JSON.</summary>
    public required string Payload { get; init; }
    public OutboxStatus Status { get; set; } = OutboxStatus.Pending;
    public int Attempts { get; set; }
    /// <summary>Parts of a split message already delivered (retries skip them).</summary>
    public int PartsDelivered { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When the next attempt is due; while a node holds the delivery lease, the end of that lease.</summary>
    public DateTimeOffset NextAttemptAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public string? LastError { get; set; }

    /// <summary>The ids the service gave the delivered parts (Twilio <c>SM…</c>, Telegram <c>chat:message</c>, Slack <c>ts</c>), comma-separated in
    /// part order; null until a part is delivered.</summary>
    public string? ProviderMessageIds { get; set; }

    /// <summary>What the service reported about the delivery after it accepted the message (Twilio status callbacks: <c>queued</c>, <c>sent</c>,
    /// <c>delivered</c>, <c>undelivered</c>, <c>failed</c>…); null when it reported nothing. See <see cref="DeliveryStatuses"/>.</summary>
    public string? DeliveryStatus { get; set; }

    /// <summary>The service's error code with a failed <see cref="DeliveryStatus"/> (Twilio <c>30003</c>), or null.</summary>
    public string? DeliveryErrorCode { get; set; }

    /// <summary>When <see cref="DeliveryStatus"/> was last recorded.</summary>
    public DateTimeOffset? DeliveryUpdatedAt { get; set; }

    /// <summary>
    /// The W3C <c>traceparent</c> of the span the message was written in (taken from <see cref="System.Diagnostics.Activity.Current"/>
    /// when the row is created; null when nothing was traced). A delivery after a restart, or by another node, continues that
    /// trace from it.
    /// </summary>
    public string? TraceParent { get; init; } = System.Diagnostics.Activity.Current is { IdFormat: System.Diagnostics.ActivityIdFormat.W3C } current ? current.Id : null;
}

/// <summary>A delivery report from a service about a message it accepted (a Twilio status callback).</summary>
public sealed record DeliveryStatusUpdate
{
    /// <summary>The channel that received the report; only its own outbox rows are updated.</summary>
    public required string Channel { get; init; }

    /// <summary>The outbox message the report names (the status callback URL carries it), or null to find it by <see cref="ProviderMessageId"/>.</summary>
    public string? OutboxMessageId { get; init; }

    /// <summary>The service's id of the message (Twilio <c>MessageSid</c>).</summary>
    public required string ProviderMessageId { get; init; }

    /// <summary>The reported status, lower case (<c>delivered</c>, <c>undelivered</c>…).</summary>
    public required string Status { get; init; }

    /// <summary>The service's error code, or null.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>The reason to show as <see cref="OutboxMessage.LastError"/> when the status is a failure.</summary>
    public string? Error { get; init; }

    /// <summary>When the report arrived.</summary>
    public DateTimeOffset At { get; init; }
}

/// <summary>
/// The order of reported delivery statuses. Reports can arrive out of order (a late <c>sent</c> after <c>delivered</c>), so a row only moves
/// forward: queued/accepted/scheduled → sending → sent → delivered → read; a failure (<c>failed</c>, <c>undelivered</c>, <c>canceled</c>) is
/// final. For a message split into parts the row shows the furthest status any part reached, and a failed part marks the whole message failed.
/// </summary>
public static class DeliveryStatuses
{
    private static readonly Dictionary<string, int> Ranks = new(StringComparer.Ordinal)
    {
        ["accepted"] = 1, ["scheduled"] = 1, ["queued"] = 1, ["sending"] = 2, ["sent"] = 3, ["delivered"] = 4, ["read"] = 5,
        ["undelivered"] = 6, ["failed"] = 6, ["canceled"] = 6,
    };

    /// <summary>The statuses that mean the message did not arrive.</summary>
    public static IReadOnlyList<string> Failures { get; } = ["undelivered", "failed", "canceled"];

    /// <summary>The rank of a status: unknown statuses rank like <c>queued</c> (recorded only on a row with no status yet); null ranks 0.</summary>
    public static int Rank(string? status) => status is null ? 0 : Ranks.GetValueOrDefault(status, 1);

    /// <summary>True for <c>failed</c>, <c>undelivered</c> and <c>canceled</c>.</summary>
    public static bool IsFailure(string? status) => Rank(status) == 6;

    /// <summary>The known statuses a row with <paramref name="status"/> may move forward from.</summary>
    public static IReadOnlyList<string> Before(string status)
    {
        var rank = Rank(status);
        return [.. Ranks.Where(r => r.Value < rank).Select(r => r.Key)];
    }

    /// <summary>True when a row whose status is <paramref name="current"/> takes <paramref name="reported"/>.</summary>
    public static bool Advances(string? current, string reported) => current is null || Before(reported).Contains(current);
}

/// <summary>Where an inbox message is in its processing.</summary>
public enum InboxStatus
{
    /// <summary>Stored; not yet processed (or its processor died: see <see cref="InboxMessage.LeaseUntil"/>).</summary>
    Received,
    /// <summary>Processed: a workflow started or resumed (committed in the same transaction), or the fallback answered.</summary>
    Processed,
    /// <summary>Processing failed on every attempt; <see cref="InboxMessage.Error"/> says why.</summary>
    Failed,
}

/// <summary>A message received on a channel, stored (and deduplicated) before the channel gets its 2xx.</summary>
public sealed class InboxMessage
{
    public required string Id { get; init; }
    /// <summary><c>kind:channel:channelMessageId</c>; unique, so a retried delivery is stored once.</summary>
    public required string DeduplicationKey { get; init; }
    public required string Channel { get; init; }
    public required string ConversationKey { get; init; }
    /// <summary>The unified incoming message as JSON (raw payload included, for audit).</summary>
    public required string Payload { get; init; }
    public InboxStatus Status { get; set; } = InboxStatus.Received;
    public int Attempts { get; set; }
    /// <summary>While a node processes the message, until when it holds it; after that another node may take it.</summary>
    public DateTimeOffset? LeaseUntil { get; set; }
    public DateTimeOffset ReceivedAt { get; init; }
    public DateTimeOffset? ProcessedAt { get; set; }
    public string? WorkflowInstanceId { get; set; }
    public string? Error { get; set; }
}

/// <summary>Which way a message went.</summary>
public enum MessageDirection
{
    /// <summary>Received (an inbox row).</summary>
    In,
    /// <summary>Sent, or to be sent (an outbox row).</summary>
    Out,
}

/// <summary>One conversation (the inbox and outbox rows that share a conversation key), as listed.</summary>
public sealed record ConversationSummary
{
    /// <summary>The conversation key (<c>kind:channel:chat[:thread]</c>).</summary>
    public required string Key { get; init; }

    /// <summary>The channel name.</summary>
    public required string Channel { get; init; }

    /// <summary>Messages received.</summary>
    public long InboundCount { get; init; }

    /// <summary>Messages sent or queued.</summary>
    public long OutboundCount { get; init; }

    /// <summary>The newest message's time: received at, or queued at for replies.</summary>
    public DateTimeOffset LastActivityAt { get; init; }

    /// <summary>Which way the newest message went.</summary>
    public MessageDirection LastDirection { get; init; }

    /// <summary>The newest message's payload (inbox: the incoming message JSON; outbox: the envelope JSON).</summary>
    public string? LastPayload { get; init; }
}

/// <summary>The newest messages of one conversation, each list in time order.</summary>
/// <param name="Key">The conversation key.</param>
/// <param name="Channel">The channel name.</param>
/// <param name="Inbound">The newest inbox rows, oldest first.</param>
/// <param name="Outbound">The newest outbox rows, oldest first.</param>
/// <param name="InboundCount">All inbox rows of the conversation.</param>
/// <param name="OutboundCount">All outbox rows of the conversation.</param>
public sealed record ConversationMessages(string Key, string Channel, IReadOnlyList<InboxMessage> Inbound, IReadOnlyList<OutboxMessage> Outbound,
    long InboundCount, long OutboundCount);
