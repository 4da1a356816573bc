using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Channels.Telegram;

/// <summary>Turns a Telegram <c>Update</c> into an <see cref="IncomingMessage"/>.</summary>
public static class TelegramUpdateParser
{
    /// <summary>The prefix of <see cref="MessageAttachment.SourceUri"/> for Telegram files: <c>telegram-file:&lt;file_id&gt;</c>.</summary>
    public const string FileScheme = "telegram-file:";

    /// <summary>
    /// Parses one update. Messages (<c>message</c>, <c>channel_post</c>) and quick-reply presses
    /// (<c>callback_query</c>) are accepted; edits, bots' messages and other update types are ignored; bad JSON and
    /// oversized files are rejected. <see cref="IncomingMessage.ChannelMessageId"/> is <c>chat_id:message_id</c>
    /// (message ids are unique per chat only), or <c>callback:&lt;id&gt;</c> for a button press.
    /// </summary>
    public static InboundResult Parse(string channelName, string json, AttachmentPolicy policy, DateTimeOffset receivedAt) =>
        Parse(channelName, json, policy, receivedAt, out _);

    /// <summary>Like <see cref="Parse(string, string, AttachmentPolicy, DateTimeOffset)"/>, also giving the
    /// <c>update_id</c> (needed for the <c>getUpdates</c> offset), or null when the JSON has none.</summary>
    public static InboundResult Parse(string channelName, string json, AttachmentPolicy policy, DateTimeOffset receivedAt,
        out long? updateId)
    {
        updateId = null;
        JsonObject? update;
        try
        {
            update = JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException exception)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, $"The Telegram update is not valid JSON: {exception.Message}");
        }

        if (update is null || Long(update["update_id"]) is not { } id)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "The Telegram update has no update_id.");
        }

        updateId = id;
        try
        {
            if ((update["message"] ?? update["channel_post"]) is JsonObject message)
            {
                return ParseMessage(channelName, id, message, json, policy, receivedAt);
            }

            if (update["callback_query"] is JsonObject callback)
            {
                return ParseCallback(channelName, id, callback, json, receivedAt);
            }
        }
        catch (AttachmentTooLargeException exception)
        {
            return InboundResult.Reject(RejectionReason.AttachmentTooLarge, exception.Message);
        }
        catch (Exception exception) when (exception is InvalidOperationException or FormatException or JsonException)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, $"The Telegram update {id} is malformed: {exception.Message}");
        }

        var kind = update.Select(p => p.Key).FirstOrDefault(k => k != "update_id") ?? "empty";
        return InboundResult.Ignore($"Telegram update {id} of type '{kind}' is not processed.");
    }

    private static InboundResult ParseMessage(string channelName, long updateId, JsonObject message, string json,
        AttachmentPolicy policy, DateTimeOffset receivedAt)
    {
        var chat = message["chat"] as JsonObject ?? throw new FormatException("message.chat is missing");
        var chatId = Long(chat["id"]) ?? throw new FormatException("message.chat.id is missing");
        var messageId = Long(message["message_id"]) ?? throw new FormatException("message.message_id is missing");
        var from = message["from"] as JsonObject;
        if (from?["is_bot"]?.GetValueKind() == JsonValueKind.True)
        {
            return InboundResult.Ignore($"Telegram update {updateId} comes from a bot.");
        }

        var attachments = Attachments(message);
        var text = Str(message["text"]) ?? Str(message["caption"]) ?? "";
        if (text.Length == 0 && attachments.Count == 0)
        {
            return InboundResult.Ignore($"Telegram update {updateId} has neither text nor a supported file.");
        }

        var thread = message["is_topic_message"]?.GetValueKind() == JsonValueKind.True ? Long(message["message_thread_id"]) : null;
        var metadata = new Dictionary<string, string>
        {
            ["telegram.update_id"] = Invariant(updateId),
            ["telegram.chat_type"] = Str(chat["type"]) ?? "",
        };
        if (Str(from?["username"]) is { } username)
        {
            metadata["telegram.username"] = username;
        }

        if (Str(from?["language_code"]) is { Length: > 0 } languageCode)
        {
            metadata["telegram.language_code"] = languageCode;
        }

        var replyTo = (message["reply_to_message"] as JsonObject) is { } reply && Long(reply["message_id"]) is { } replyId
            ? $"{Invariant(chatId)}:{Invariant(replyId)}"
            : null;
        return InboundResult.Accept(new IncomingMessage
        {
            ChannelKind = ChannelKind.Telegram,
            ChannelName = channelName,
            ChannelMessageId = $"{Invariant(chatId)}:{Invariant(messageId)}",
            Conversation = new ConversationId(ChannelKind.Telegram, channelName, Invariant(chatId), thread is { } t ? Invariant(t) : null),
            Sender = from is null ? new ChannelUser(Invariant(chatId), Str(chat["title"])) : User(from),
            Text = text,
            Attachments = attachments,
            ReplyToChannelMessageId = replyTo,
            ReceivedAt = receivedAt,
            SentAt = Long(message["date"]) is { } date ? DateTimeOffset.FromUnixTimeSeconds(date) : null,
            RawPayload = json,
            Metadata = metadata,
        });
    }

    private static InboundResult ParseCallback(string channelName, long updateId, JsonObject callback, string json,
        DateTimeOffset receivedAt)
    {
        var callbackId = Str(callback["id"]) ?? throw new FormatException("callback_query.id is missing");
        var from = callback["from"] as JsonObject ?? throw new FormatException("callback_query.from is missing");
        if (Str(callback["data"]) is not { } data)
        {
            return InboundResult.Ignore($"Telegram callback query {callbackId} carries no data.");
        }

        var message = callback["message"] as JsonObject;
        var chatId = Long(message?["chat"]?["id"]) ?? Long(from["id"]) ?? throw new FormatException("callback_query.from.id is missing");
        var messageId = Long(message?["message_id"]);
        var thread = message?["is_topic_message"]?.GetValueKind() == JsonValueKind.True ? Long(message["message_thread_id"]) : null;
        return InboundResult.Accept(new IncomingMessage
        {
            ChannelKind = ChannelKind.Telegram,
            ChannelName = channelName,
            ChannelMessageId = "callback:" + callbackId,
            Conversation = new ConversationId(ChannelKind.Telegram, channelName, Invariant(chatId), thread is { } t ? Invariant(t) : null),
            Sender = User(from),
            Text = data,
            ReplyToChannelMessageId = messageId is { } m ? $"{Invariant(chatId)}:{Invariant(m)}" : null,
            ReceivedAt = receivedAt,
            RawPayload = json,
            Metadata = new Dictionary<string, string>
            {
                ["telegram.update_id"] = Invariant(updateId),
                ["telegram.callback_query_id"] = callbackId,
            },
        });
    }

    private static List<MessageAttachment> Attachments(JsonObject message)
    {
        var list = new List<MessageAttachment>();
        void Add(JsonObject? file, string defaultName, string defaultType)
        {
            if (file is null || Str(file["file_id"]) is not { } fileId)
            {
                return;
            }

            var name = Str(file["file_name"]) ?? defaultName.Replace("{id}", Str(file["file_unique_id"]) ?? fileId, StringComparison.Ordinal);
            var size = Long(file["file_size"]) ?? -1; // over the limit: kept, the gateway answers the sender (see docs/channels.md)
            list.Add(new MessageAttachment
            {
                Name = name,
                ContentType = Str(file["mime_type"]) ?? defaultType,
                Size = size,
                SourceUri = FileScheme + fileId,
            });
        }

        Add(message["document"] as JsonObject, "document_{id}", "application/octet-stream");
        if (message["photo"] is JsonArray { Count: > 0 } sizes)
        {
            Add(sizes[^1] as JsonObject, "photo_{id}.jpg", "image/jpeg"); // the largest size comes last
        }

        Add(message["audio"] as JsonObject, "audio_{id}.mp3", "audio/mpeg");
        Add(message["voice"] as JsonObject, "voice_{id}.ogg", "audio/ogg");
        Add(message["video"] as JsonObject, "video_{id}.mp4", "video/mp4");
        Add(message["animation"] as JsonObject, "animation_{id}.mp4", "video/mp4");
        return list;
    }

    private static ChannelUser User(JsonObject from)
    {
        var id = Long(from["id"]) ?? throw new FormatException("from.id is missing");
        var name = string.Join(' ', new[] { Str(from["first_name"]), Str(from["last_name"]) }.Where(n => !string.IsNullOrEmpty(n)));
        if (name.Length == 0 && Str(from["username"]) is { } username)
        {
            name = "@" + username;
        }

        return new ChannelUser(Invariant(id), name.Length == 0 ? null : name);
    }

    private static long? Long(JsonNode? node) => node?.GetValueKind() == JsonValueKind.Number ? node.GetValue<long>() : null;

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
