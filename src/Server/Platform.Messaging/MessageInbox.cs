using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
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
/// <remarks>
/// Every channel comes through here, so this is where inbound text is cleaned (<see cref="InboundText.Normalize"/>) and
/// capped: a text over <see cref="MessagingOptions.MaxMessageLength"/> is stored cut to the cap and marked, and the
/// processor answers it with <see cref="MessagingOptions.TooLongReplyText"/> instead of running a workflow.
/// </remarks>
public sealed class MessageInbox(IInboxStore store, InboxProcessor processor, TimeProvider clock, ILogger<MessageInbox> logger,
    IOptions<MessagingOptions>? options = null)
{
    private readonly int _maxLength = options?.Value.MaxMessageLength ?? MessagingOptions.DefaultMaxMessageLength;

    /// <summary>The longest text handed to a workflow.</summary>
    public int MaxMessageLength => _maxLength;

    /// <summary>Stores the message and queues it for processing.</summary>
    public async Task<InboxReceipt> ReceiveAsync(IncomingMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        message = Bound(message);
        using var span = MessagingTelemetry.Source.StartActivity("inbox receive");
        span?.SetTag("messaging.channel", message.ChannelName);
        span?.SetTag("messaging.conversation", message.Conversation.ToString());
        // The trace continues across the durable hop: the row keeps this span's W3C traceparent, so the processing span
        // joins the trace even when it runs after a restart or on another node.
        if (span is not null && span.IdFormat == System.Diagnostics.ActivityIdFormat.W3C)
            message = message with { Metadata = new Dictionary<string, string>(message.Metadata) { [MessagingTelemetry.TraceParentMetadataKey] = span.Id! } };
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

    private IncomingMessage Bound(IncomingMessage message)
    {
        var text = InboundText.Normalize(message.Text);
        // Web chat enforces its channel's own maxMessageLength (which may be set higher) before a message gets here.
        if (text.Length <= _maxLength || message.ChannelKind == ChannelKind.WebChat) return ReferenceEquals(text, message.Text) ? message : message with { Text = text };
        logger.LogWarning("Message {Key} on channel {Channel} has {Length} characters, over the limit of {Max} (Platform:Messaging:MaxMessageLength); it gets the too-long reply.",
            message.DeduplicationKey, message.ChannelName, text.Length, _maxLength);
        var metadata = new Dictionary<string, string>(message.Metadata) { [MessagingOptions.TooLongMetadataKey] = text.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        // The raw payload is not kept either: it may be as large as the text.
        return message with { Text = text[.._maxLength], Metadata = metadata, RawPayload = "" };
    }
}
