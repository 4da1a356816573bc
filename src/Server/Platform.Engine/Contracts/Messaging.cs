using Platform.Engine.Models;

namespace Platform.Engine.Contracts;

/// <summary>Told about outbox messages right after the commit that stored them, so they go out without waiting for a poll.</summary>
public interface IOutboxListener
{
    /// <summary>Called after the commit; must not block (hand the messages to a background sender).</summary>
    void OnCommitted(IReadOnlyList<OutboxMessage> messages);
}

/// <summary>The durable inbox: messages stored (once) before the channel is answered, then processed.</summary>
public partial interface IInboxStore
{
    /// <summary>
    /// Stores the message unless one with the same deduplication key exists. Returns the stored message: the given one
    /// (<c>Added</c> true) or the earlier copy (<c>Added</c> false).
    /// </summary>
    Task<(InboxMessage Message, bool Added)> AddAsync(InboxMessage message, CancellationToken ct = default);

    Task<InboxMessage?> FindAsync(string id, CancellationToken ct = default);

    /// <summary>Messages not yet processed whose lease is free (null or expired at <paramref name="now"/>), oldest first.</summary>
    Task<IReadOnlyList<InboxMessage>> FindClaimableAsync(DateTimeOffset now, int take, CancellationToken ct = default);

    /// <summary>Takes the lease of an unprocessed message until <paramref name="leaseUntil"/> and counts an attempt. False when another node holds it or it is done.</summary>
    Task<bool> TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct = default);

    /// <summary>Records the outcome of processing that did not go through a workflow commit (fallback answered, failure, retry later).</summary>
    Task UpdateAsync(string id, InboxStatus status, string? error, DateTimeOffset? leaseUntil, DateTimeOffset now, CancellationToken ct = default);

    /// <summary>Marks processed and queues messages in one transaction (the fallback reply when no workflow takes a message).</summary>
    Task CompleteWithOutboxAsync(string id, IReadOnlyList<OutboxMessage> outbox, DateTimeOffset now, CancellationToken ct = default);

    Task<Page<InboxMessage>> ListAsync(string? channel, InboxStatus? status, PageArgs page, CancellationToken ct = default);
}

/// <summary>The durable outbox: messages written with workflow state, delivered with retries.</summary>
public partial interface IOutboxStore
{
    Task<OutboxMessage?> FindAsync(string id, CancellationToken ct = default);

    /// <summary>Pending messages due at <paramref name="now"/>, oldest first.</summary>
    Task<IReadOnlyList<OutboxMessage>> FindDueAsync(DateTimeOffset now, int take, CancellationToken ct = default);

    /// <summary>Takes the delivery lease: a pending message whose <see cref="OutboxMessage.NextAttemptAt"/> is not after <paramref name="now"/> gets
    /// <paramref name="leaseUntil"/> as its next attempt time and one more attempt. False when another node holds it or it is not pending.</summary>
    Task<bool> TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct = default);

    /// <summary>Saves the result of an attempt (status, parts delivered, next attempt, error, sent time, the service's message ids). Leaves the
    /// delivery report fields (<see cref="OutboxMessage.DeliveryStatus"/>…) as they are: reports may arrive while an attempt is being saved.</summary>
    Task UpdateAsync(OutboxMessage message, CancellationToken ct = default);

    /// <summary>Inserts messages outside a workflow commit (sent from the API or an operator's retry).</summary>
    Task AddAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken ct = default);

    Task<Page<OutboxMessage>> ListAsync(string? channel, OutboxStatus? status, string? conversationKey, PageArgs page, CancellationToken ct = default);

    /// <summary>
    /// Records a service's delivery report on the outbox row it names (<see cref="DeliveryStatusUpdate.OutboxMessageId"/> of
    /// <see cref="DeliveryStatusUpdate.Channel"/>), or else on the row of that channel whose <see cref="OutboxMessage.ProviderMessageIds"/> is the
    /// reported id. The status only moves forward (<see cref="DeliveryStatuses"/>); a failure also sets <see cref="OutboxMessage.LastError"/>.
    /// Returns the row as stored afterwards, or null when no row matches (the report is for a message this store does not know).
    /// </summary>
    Task<OutboxMessage?> RecordDeliveryStatusAsync(DeliveryStatusUpdate update, CancellationToken ct = default);
}

/// <summary>Conversations: the inbox and outbox rows grouped by conversation key.</summary>
public interface IConversationStore
{
    /// <summary>Conversations with the newest activity first, optionally of one channel.</summary>
    Task<Page<ConversationSummary>> ListAsync(string? channel, PageArgs page, CancellationToken ct = default);

    /// <summary>The newest <paramref name="take"/> inbox and the newest <paramref name="take"/> outbox rows of a conversation, or null
    /// when it has none.</summary>
    Task<ConversationMessages?> GetAsync(string conversationKey, int take, CancellationToken ct = default);
}
