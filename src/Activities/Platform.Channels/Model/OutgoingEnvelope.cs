using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Channels;

/// <summary>
/// The JSON payload of an outbox message: what a workflow asked to send, before any channel renders it. Activities
/// write it; the outbox dispatcher reads it back, finds the channel and calls <see cref="IChannelSender.SendAsync"/>.
/// </summary>
public sealed record OutgoingEnvelope
{
    /// <summary>The text in the Markdown subset.</summary>
    public string Text { get; init; } = "";

    /// <summary>A subject line, for channels that have one (e-mail).</summary>
    public string? Subject { get; init; }

    /// <summary>The recipient when the message does not answer a conversation (an e-mail address, a phone number, a chat id).
    /// When null, the chat of the outbox message's conversation is the recipient.</summary>
    public string? To { get; init; }

    /// <summary>Buttons offered with the message.</summary>
    public IReadOnlyList<QuickReply> QuickReplies { get; init; } = [];

    /// <summary>The channel message id this answers, or null.</summary>
    public string? ReplyToChannelMessageId { get; init; }

    /// <summary>The thread to post in, or null (the conversation's thread is used).</summary>
    public string? ThreadId { get; init; }

    /// <summary>The person who wrote it (a hand-off agent's user name, from the Conversations page); null when the bot wrote it.</summary>
    public string? Agent { get; init; }

    /// <summary>True when the sending activity waits for the delivery: the dispatcher tells it when the message is sent or
    /// dead-lettered (see <see cref="MessagingNames.DeliveryBookmark"/>).</summary>
    public bool NotifyDelivery { get; init; }

    /// <summary>The id of the streamed partial reply (see <c>IReplyStreams</c>) this message replaces, or null.</summary>
    public string? PartialReplyId { get; init; }

    /// <summary>Files to send: stored attachments by id, or public URLs, never their bytes (rows stay small); null for none.</summary>
    public IReadOnlyList<EnvelopeAttachment>? Attachments { get; init; }

    /// <summary>Serialisation options for envelopes (camelCase).</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The envelope as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// True when <paramref name="json"/>, written by <see cref="ToJson"/>, asks for a delivery notice. A cheap test for the
    /// dispatcher's hot path: <see cref="ToJson"/> writes compact camelCase JSON, and a text that merely contains the words
    /// cannot match because string values are escaped inside quotes.
    /// </summary>
    public static bool RequestsDeliveryNotice(string json) =>
        json is not null && json.Contains(NotifyDeliveryJson, StringComparison.Ordinal);

    private const string NotifyDeliveryJson = "\"notifyDelivery\":true";

    /// <summary>Reads an envelope.</summary>
    /// <exception cref="JsonException">The payload is not an envelope.</exception>
    public static OutgoingEnvelope FromJson(string json) =>
        JsonSerializer.Deserialize<OutgoingEnvelope>(json, JsonOptions) ?? throw new JsonException("The outbox payload is empty.");

    /// <summary>The channel message, for a delivery attempt.</summary>
    /// <param name="skipParts">Parts an earlier attempt delivered.</param>
    /// <param name="idempotencyKey">The outbox message id.</param>
    /// <param name="conversationThreadId">The thread of the conversation, used when the envelope names none.</param>
    public OutgoingMessage ToMessage(int skipParts, string? idempotencyKey, string? conversationThreadId) => new()
    {
        Text = Text,
        QuickReplies = QuickReplies,
        ReplyToChannelMessageId = ReplyToChannelMessageId,
        ThreadId = ThreadId ?? conversationThreadId,
        SkipParts = skipParts,
        IdempotencyKey = idempotencyKey,
        Subject = Subject,
        PartialReplyId = PartialReplyId,
        Agent = Agent,
        Attachments = Attachments is null ? [] : [.. Attachments.Select(a => a.ToAttachment())],
    };
}

/// <summary>A file of an <see cref="OutgoingEnvelope"/>: a stored attachment (<see cref="Id"/>) or a public URL.</summary>
public sealed record EnvelopeAttachment
{
    /// <summary>The <see cref="IAttachmentStore"/> id, or null for a URL.</summary>
    public string? Id { get; init; }

    /// <summary>A public http(s) URL, or null for a stored attachment.</summary>
    public string? Url { get; init; }

    /// <summary>The file name.</summary>
    public string Name { get; init; } = "attachment";

    /// <summary>The MIME type.</summary>
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>The size in bytes, or -1 when unknown.</summary>
    public long Size { get; init; } = -1;

    /// <summary>As a <see cref="MessageAttachment"/> (without content: the dispatcher reads stored files when the channel needs bytes).</summary>
    public MessageAttachment ToAttachment() => new()
    {
        Name = Name, ContentType = ContentType, Size = Size,
        BlobReference = Id is null ? null : AttachmentStoreUrls.Scheme + Id, SourceUri = Url,
    };
}
