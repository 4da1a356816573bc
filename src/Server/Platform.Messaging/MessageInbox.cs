using Microsoft.Extensions.Logging;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Messaging;

/// <summary>The result of storing an incoming message.</summary>
/// <param name="InboxMessageId">The stored message's id (the earlier copy's on a duplicate).</param>
/// <param name="Duplicate">True when the channel delivered this message before.</param>
public sealed record InboxReceipt(string InboxMessageId, bool Duplicate);

/// <summary>
/// Where channel endpoints hand incoming messages: the message is stored (deduplicated by channel and channel message id)
/// before the caller answers the channel, and processing is dispatched after.
/// </summary>
public sealed class MessageInbox(IInboxStore store, InboxProcessor processor, TimeProvider clock, ILogger<MessageInbox> logger)
{
    /// <summary>Stores the message and queues it for processing.</summary>
    public async Task<InboxReceipt> ReceiveAsync(IncomingMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var span = MessagingTelemetry.Source.StartActivity("inbox receive");
        span?.SetTag("messaging.channel", message.ChannelName);
        span?.SetTag("messaging.conversation", message.Conversation.ToString());
        var row = new InboxMessage
        {
            Id = message.Id.ToString("N"), DeduplicationKey = message.DeduplicationKey, Channel = message.ChannelName,
            ConversationKey = message.Conversation.ToString(), Payload = MessageJson.Serialize(message), ReceivedAt = clock.GetUtcNow(),
            // Stored already claimed by this node, which processes it at once; another node takes it only if this lease ends.
            Attempts = 1, LeaseUntil = clock.GetUtcNow() + processor.Lease,
        };
        var (stored, added) = await store.AddAsync(row, ct).ConfigureAwait(false);
        MessagingTelemetry.RecordReceived(message.ChannelName, !added);
        span?.SetTag("messaging.inbox_id", stored.Id);
        if (!added)
        {
            logger.LogInformation("Duplicate delivery {Key} ignored (stored as {Id}).", message.DeduplicationKey, stored.Id);
            return new InboxReceipt(stored.Id, true);
        }
        MessagingTelemetry.RememberParent(stored.Id);
        processor.Enqueue(stored);
        return new InboxReceipt(stored.Id, false);
    }
}
