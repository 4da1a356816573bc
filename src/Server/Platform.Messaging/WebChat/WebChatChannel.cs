using System.Globalization;
using System.Text.Json.Nodes;
using Platform.Channels;
using Platform.Channels.Rendering;

namespace Platform.Messaging.WebChat;

/// <summary>The JSON frames the chat socket sends (see docs/channels.md, "Web chat").</summary>
public static class WebChatFrames
{
    /// <summary><c>{type:"message", id, text, plainText, quickReplies:[{label,value}], at}</c>: a reply. <c>text</c> is the
    /// Markdown subset, <c>plainText</c> the same without markup; clients render Markdown themselves, never as raw HTML.</summary>
    /// <param name="id">The reply's id (the outbox message id).</param>
    /// <param name="message">The reply.</param>
    /// <param name="at">When it was sent.</param>
    /// <param name="replayed">True when it is sent again after a reconnect.</param>
    /// <param name="links">Signs the links of stored attachments (<c>attachments: [{name, contentType, size, url, image}]</c>); without
    /// it only attachments with a public URL are listed.</param>
    public static string Message(string id, OutgoingMessage message, DateTimeOffset at, bool replayed = false, AttachmentLinks? links = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        var frame = new JsonObject
        {
            ["type"] = "message",
            ["id"] = id,
            ["text"] = message.Text,
            ["plainText"] = MessageRenderer.Render(message.Text, TextFormat.PlainText),
            ["quickReplies"] = new JsonArray(message.QuickReplies.Select(q => (JsonNode?)new JsonObject { ["label"] = q.Label, ["value"] = q.Value }).ToArray()),
            ["at"] = at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
        };
        if (message.ReplyToChannelMessageId is { } replyTo) frame["replyTo"] = replyTo;
        if (message.PartialReplyId is { } partial) frame["replaces"] = partial;
        if (replayed) frame["replayed"] = true;
        if (message.Agent is { Length: > 0 } agent) frame["agent"] = agent; // written by a person (hand-off), shown apart from the bot
        var files = Attachments(message.Attachments, links);
        if (files.Count > 0) frame["attachments"] = files;
        return frame.ToJsonString();
    }

    /// <summary>The attachments of a frame: <c>{name, contentType, size, url, image}</c>, <c>url</c> a signed link for stored
    /// files (see <see cref="AttachmentLinks"/>) or the file's public URL; <c>image</c> true for PNG, JPEG, GIF and WebP, which the
    /// chat shows inline.</summary>
    public static JsonArray Attachments(IEnumerable<MessageAttachment> attachments, AttachmentLinks? links)
    {
        var array = new JsonArray();
        foreach (var a in attachments ?? [])
        {
            var url = a.StoredId is { } stored ? links?.Url(stored) : AttachmentPolicy.IsHttpUrl(a.SourceUri) ? a.SourceUri : null;
            if (url is null) continue;
            array.Add(new JsonObject
            {
                ["name"] = a.Name, ["contentType"] = a.ContentType, ["size"] = a.Size, ["url"] = url,
                ["image"] = a.ContentType.Split(';')[0].Trim().ToLowerInvariant() is "image/png" or "image/jpeg" or "image/gif" or "image/webp",
            });
        }
        return array;
    }

    /// <summary><c>{type:"error", code, message[, id]}</c>.</summary>
    public static string Error(string code, string message, string? id = null)
    {
        var frame = new JsonObject { ["type"] = "error", ["code"] = code, ["message"] = message };
        if (id is not null) frame["id"] = id;
        return frame.ToJsonString();
    }

    /// <summary><c>{type:"partial", id, text}</c>: a reply being written, <c>text</c> being the whole text so far (Markdown
    /// subset); a later <c>partial</c> with the same id replaces it, and so does the <c>message</c> whose <c>replaces</c> is
    /// this id. <c>{type:"partial", id, text:"", discarded:true}</c> removes it (the answer failed).</summary>
    public static string Partial(string id, string text, bool discarded = false)
    {
        var frame = new JsonObject { ["type"] = "partial", ["id"] = id, ["text"] = text };
        if (discarded) frame["discarded"] = true;
        return frame.ToJsonString();
    }

    /// <summary>A frame with just a type (<c>typing</c>, <c>ping</c>, <c>pong</c>).</summary>
    public static string Simple(string type) => new JsonObject { ["type"] = type }.ToJsonString();
}

/// <summary>
/// Sends replies of a web chat channel to the sockets of the conversation connected to this server. It answers
/// <see cref="SendStatus.Sent"/> also when no socket is connected: the reply stays in the outbox, and the client gets it
/// from the replay when it reconnects with its conversation token.
/// </summary>
public sealed class WebChatChannel(string channelName, WebChatSettings settings, WebChatConnections connections, TimeProvider clock,
    AttachmentLinks? links = null)
    : IChannelSender, ITypingChannel, IPartialReplyChannel
{
    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.WebChat;

    /// <inheritdoc />
    public string ChannelName { get; } = channelName;

    /// <summary>The channel's settings.</summary>
    public WebChatSettings Settings { get; } = settings;

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.IsNullOrEmpty(recipient)) return SendResult.Permanent("A web chat reply needs the conversation's chat id as its recipient.", "no_recipient");
        var id = message.IdempotencyKey ?? Guid.CreateVersion7().ToString("N");
        var conversation = new ConversationId(ChannelKind.WebChat, ChannelName, recipient, message.ThreadId).ToString();
        await connections.PushAsync(conversation, WebChatFrames.Message(id, message, clock.GetUtcNow(), links: links), isReply: true, cancellationToken)
            .ConfigureAwait(false);
        return new SendResult { Status = SendStatus.Sent, ChannelMessageIds = [id], PartsDelivered = 1, TotalParts = 1 };
    }

    /// <inheritdoc />
    public TimeSpan TypingRefreshInterval => TimeSpan.FromSeconds(3);

    /// <inheritdoc />
    public async Task<bool> SendTypingAsync(string recipient, string? threadId, CancellationToken cancellationToken = default) =>
        await connections.PushAsync(Conversation(recipient, threadId), WebChatFrames.Simple("typing"), isReply: false, cancellationToken).ConfigureAwait(false) > 0;

    /// <inheritdoc />
    public Task SendPartialAsync(string recipient, string? threadId, string partialId, string textSoFar, CancellationToken cancellationToken = default) =>
        connections.PushAsync(Conversation(recipient, threadId), WebChatFrames.Partial(partialId, textSoFar), isReply: true, cancellationToken); // a reply has begun: the session stops its typing frames

    /// <inheritdoc />
    public Task DiscardPartialAsync(string recipient, string? threadId, string partialId, CancellationToken cancellationToken = default) =>
        connections.PushAsync(Conversation(recipient, threadId), WebChatFrames.Partial(partialId, "", discarded: true), isReply: false, cancellationToken);

    private string Conversation(string recipient, string? threadId) => new ConversationId(ChannelKind.WebChat, ChannelName, recipient, threadId).ToString();
}

/// <summary>Builds <see cref="WebChatChannel"/>s.</summary>
public sealed class WebChatChannelProvider(WebChatConnections connections, TimeProvider clock, AttachmentLinks? links = null) : IChannelProvider
{
    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.WebChat;

    /// <inheritdoc />
    public IChannelSender Create(ChannelConfig channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return new WebChatChannel(channel.Name, WebChatSettings.From(channel), connections, clock, links);
    }
}
