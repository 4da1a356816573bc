namespace Platform.Channels;

/// <summary>Names shared by the messaging activities and the inbox processor that starts and resumes them.</summary>
public static class MessagingNames
{
    /// <summary>The trigger that starts a workflow on an incoming message (key: the channel name, or <see cref="AnyChannel"/>).</summary>
    public const string MessageReceived = "Platform.MessageReceived";

    /// <summary>The bookmark of a workflow waiting for the next message of its conversation (key: the conversation key).</summary>
    public const string WaitForMessage = "Platform.WaitForMessage";

    /// <summary>The bookmark of a Send Message waiting for its deliveries (key: the activity instance id; payload
    /// <c>messageIds</c>: the outbox ids).</summary>
    public const string DeliveryBookmark = "Platform.SendMessage.Delivery";

    /// <summary>The trigger key that matches every channel.</summary>
    public const string AnyChannel = "*";

    /// <summary>The workflow input (and resume input) that carries the message, as a dictionary (see <see cref="MessageInput"/>).</summary>
    public const string MessageInputKey = "message";

    /// <summary>The instance property holding the conversation key that replies go to.</summary>
    public const string ConversationProperty = "platform.conversation";

    /// <summary>The instance property holding the channel name of that conversation.</summary>
    public const string ChannelProperty = "platform.channel";

    /// <summary>The instance property holding the channel message id of the latest incoming message.</summary>
    public const string LastMessageIdProperty = "platform.lastMessageId";

    /// <summary>The instance property holding the sender's channel user id.</summary>
    public const string SenderProperty = "platform.sender";
}

/// <summary>The incoming message as workflow input: a plain dictionary that expressions can read
/// (<c>input.message.text</c>, <c>input.message.sender.id</c>).</summary>
public static class MessageInput
{
    /// <summary>Builds the dictionary.</summary>
    public static Dictionary<string, object?> From(IncomingMessage m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return new Dictionary<string, object?>
        {
            ["id"] = m.Id.ToString("N"),
            ["channel"] = m.ChannelName,
            ["channelKind"] = m.ChannelKind.ToString(),
            ["channelMessageId"] = m.ChannelMessageId,
            ["conversation"] = m.Conversation.ToString(),
            ["chatId"] = m.Conversation.ChatId,
            ["threadId"] = m.Conversation.ThreadId,
            ["text"] = m.Text,
            ["sender"] = new Dictionary<string, object?> { ["id"] = m.Sender.Id, ["displayName"] = m.Sender.DisplayName },
            ["receivedAt"] = m.ReceivedAt,
            ["attachments"] = m.Attachments.Select(a => (object?)new Dictionary<string, object?>
            {
                ["name"] = a.Name, ["contentType"] = a.ContentType, ["size"] = a.Size, ["blob"] = a.BlobReference,
                // The stored copy: its id (for Send Reply's Attachments) and its authenticated download URL.
                ["id"] = a.StoredId, ["url"] = a.StoredId is { } id ? AttachmentStoreUrls.Download(id) : null,
            }).ToList(),
            ["metadata"] = m.Metadata.ToDictionary(p => p.Key, p => (object?)p.Value),
        };
    }
}
