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
