namespace Platform.Channels;

/// <summary>Who sent a message, as the channel knows them.</summary>
/// <param name="Id">The channel's user id (Telegram user id, Slack user id, phone number, e-mail address…).</param>
/// <param name="DisplayName">A human-readable name when the channel gives one.</param>
public sealed record ChannelUser(string Id, string? DisplayName = null);

/// <summary>
/// A file on a message. Inbound, a channel usually gives only a reference (<see cref="SourceUri"/>) that the inbox
/// downloads into blob storage (<see cref="BlobReference"/>); outbound, either <see cref="Content"/> or a public
/// <see cref="SourceUri"/> is sent.
/// </summary>
public sealed record MessageAttachment
{
    /// <summary>The file name.</summary>
    public required string Name { get; init; }

    /// <summary>The MIME type; <c>application/octet-stream</c> when unknown.</summary>
    public string ContentType { get; init; } = "application/octet-stream";

    /// <summary>The size in bytes, when known (otherwise -1).</summary>
    public long Size { get; init; } = -1;

    /// <summary>Where the stored copy lives: <c>attachment:&lt;id&gt;</c> in the <see cref="IAttachmentStore"/> (set by the
    /// gateway once the file is stored, see <see cref="StoredId"/>).</summary>
    public string? BlobReference { get; init; }

    /// <summary>The <see cref="IAttachmentStore"/> id of the stored copy, or null when it is not stored.</summary>
    public string? StoredId => BlobReference is { } blob && blob.StartsWith(AttachmentStoreUrls.Scheme, StringComparison.Ordinal)
        ? blob[AttachmentStoreUrls.Scheme.Length..]
        : null;

    /// <summary>The bytes, when they travel with the message.</summary>
    public ReadOnlyMemory<byte>? Content { get; init; }

    /// <summary>The channel's own reference: a URL (Slack <c>url_private</c>, Twilio <c>MediaUrlN</c>) or
    /// <c>telegram-file:&lt;file_id&gt;</c>.</summary>
    public string? SourceUri { get; init; }
}

/// <summary>A message that arrived on a channel, in one shape for every channel.</summary>
public sealed record IncomingMessage
{
    /// <summary>The platform's id for this message (a version-7 GUID, so ids sort by arrival).</summary>
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>The channel kind.</summary>
    public required ChannelKind ChannelKind { get; init; }

    /// <summary>The configured channel name.</summary>
    public required string ChannelName { get; init; }

    /// <summary>The channel's own id for the message. With the channel it is the deduplication key
    /// (<see cref="DeduplicationKey"/>): Slack, Telegram and Twilio all retry deliveries.</summary>
    public required string ChannelMessageId { get; init; }

    /// <summary>The conversation: channel plus chat and thread. Replies go here.</summary>
    public required ConversationId Conversation { get; init; }

    /// <summary>The sender.</summary>
    public required ChannelUser Sender { get; init; }

    /// <summary>The text, as plain text (channel markup removed where the channel has markup).</summary>
    public string Text { get; init; } = "";

    /// <summary>The attachments.</summary>
    public IReadOnlyList<MessageAttachment> Attachments { get; init; } = [];

    /// <summary>The channel message id this message answers, when the channel says so.</summary>
    public string? ReplyToChannelMessageId { get; init; }

    /// <summary>When the platform received it.</summary>
    public required DateTimeOffset ReceivedAt { get; init; }

    /// <summary>When the channel says it was sent, if it says.</summary>
    public DateTimeOffset? SentAt { get; init; }

    /// <summary>The raw payload exactly as received (JSON or form body), kept for audit.</summary>
    public required string RawPayload { get; init; }

    /// <summary>Channel-specific extras, for example <c>slack.event_id</c> or <c>telegram.callback_query_id</c>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary><c>kind:channel:channelMessageId</c>: the key the inbox deduplicates on.</summary>
    public string DeduplicationKey =>
        $"{ChannelKind.ToString().ToLowerInvariant()}:{ChannelName}:{ChannelMessageId}";
}

/// <summary>A button offered with a message; pressing it sends <see cref="Value"/> back as a message.</summary>
/// <param name="Label">What the button shows.</param>
/// <param name="Value">What comes back when it is pressed (Telegram allows at most 64 bytes).</param>
public sealed record QuickReply(string Label, string Value);

/// <summary>A message to send on a channel.</summary>
public sealed record OutgoingMessage
{
    /// <summary>The text in the Markdown subset (paragraphs, headings, <c>**bold**</c>, <c>*italic*</c>,
    /// <c>~~strike~~</c>, <c>`code`</c>, fenced code, links, lists, quotes). Each adapter renders it into the
    /// channel's own format.</summary>
    public string Text { get; init; } = "";

    /// <summary>Buttons offered with the message (Telegram inline keyboard, Slack buttons, numbered options in SMS).</summary>
    public IReadOnlyList<QuickReply> QuickReplies { get; init; } = [];

    /// <summary>Files to send.</summary>
    public IReadOnlyList<MessageAttachment> Attachments { get; init; } = [];

    /// <summary>A subject line, for channels that have one (e-mail); others ignore it.</summary>
    public string? Subject { get; init; }

    /// <summary>The channel message id to answer (Telegram <c>reply_parameters</c>), or null.</summary>
    public string? ReplyToChannelMessageId { get; init; }

    /// <summary>The thread to post in (Slack <c>thread_ts</c>, Telegram <c>message_thread_id</c>), or null.</summary>
    public string? ThreadId { get; init; }

    /// <summary>
    /// How many leading parts an earlier attempt already delivered. A long text is split into several channel
    /// messages; when part 3 of 5 fails, the outbox retries with <c>SkipParts = 2</c> (from
    /// <see cref="SendResult.PartsDelivered"/>) so the reader never sees parts twice.
    /// </summary>
    public int SkipParts { get; init; }

    /// <summary>A stable id for this message across retries (the outbox row id), or null. Channels that support
    /// idempotency use it: the webhook channel sends it as the payload <c>id</c> and <c>X-Platform-Delivery</c>, so the
    /// receiver can drop a retried delivery.</summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>The id of the streamed partial reply this final message replaces (web chat), or null.</summary>
    public string? PartialReplyId { get; init; }

    /// <summary>The person who wrote it (a hand-off agent's user name); null when the bot wrote it. The web chat shows it.</summary>
    public string? Agent { get; init; }

    /// <summary>A reply into the conversation and thread of <paramref name="incoming"/>, answering that message.</summary>
    public static OutgoingMessage ReplyTo(IncomingMessage incoming, string markdown) => new()
    {
        Text = markdown,
        ReplyToChannelMessageId = incoming.ChannelMessageId,
        ThreadId = incoming.Conversation.ThreadId,
    };
}
