using System.Text.Json.Nodes;

namespace Platform.Testing.Fakes;

/// <summary>Real-shaped Telegram <c>Update</c> objects.</summary>
public static class TelegramPayloads
{
    /// <summary>A private-chat text message from a user.</summary>
    public static JsonObject TextMessage(long updateId, long chatId, long messageId, string text, long? fromId = null,
        string firstName = "Ada", string? lastName = "Lovelace", string? username = "ada", long? replyToMessageId = null)
    {
        var message = Message(chatId, messageId, fromId ?? chatId, firstName, lastName, username);
        message["text"] = text;
        if (replyToMessageId is { } replyTo)
        {
            message["reply_to_message"] = new JsonObject
            {
                ["message_id"] = replyTo,
                ["from"] = new JsonObject { ["id"] = 123456, ["is_bot"] = true, ["first_name"] = "Fake Bot", ["username"] = "fake_bot" },
                ["chat"] = message["chat"]!.DeepClone(),
                ["date"] = 1_700_000_000,
                ["text"] = "earlier bot message",
            };
        }

        return new JsonObject { ["update_id"] = updateId, ["message"] = message };
    }

    /// <summary>A message with a document (and an optional caption).</summary>
    public static JsonObject DocumentMessage(long updateId, long chatId, long messageId, string fileName, string mimeType, long fileSize,
        string fileId = "BQACAgIAAxkBAAIBZ2Vx", string? caption = null)
    {
        var message = Message(chatId, messageId, chatId, "Ada", "Lovelace", "ada");
        message["document"] = new JsonObject
        {
            ["file_name"] = fileName,
            ["mime_type"] = mimeType,
            ["file_id"] = fileId,
            ["file_unique_id"] = "AgADZ2",
            ["file_size"] = fileSize,
        };
        if (caption is not null)
        {
            message["caption"] = caption;
        }

        return new JsonObject { ["update_id"] = updateId, ["message"] = message };
    }

    /// <summary>A press on an inline-keyboard button under the bot's message <paramref name="messageId"/>.</summary>
    public static JsonObject CallbackQuery(long updateId, long chatId, long messageId, string data, string callbackId = "4382bfdwdsb323b2d9")
    {
        var botMessage = Message(chatId, messageId, 123456, "Fake Bot", null, "fake_bot");
        botMessage["from"]!["is_bot"] = true;
        botMessage["text"] = "Choose one";
        return new JsonObject
        {
            ["update_id"] = updateId,
            ["callback_query"] = new JsonObject
            {
                ["id"] = callbackId,
                ["from"] = User(chatId, "Ada", "Lovelace", "ada"),
                ["message"] = botMessage,
                ["chat_instance"] = "-3966349290524381284",
                ["data"] = data,
            },
        };
    }

    /// <summary>A message from another bot in a group.</summary>
    public static JsonObject BotMessage(long updateId, long chatId, long messageId, string text)
    {
        var message = Message(chatId, messageId, 987654, "Other Bot", null, "other_bot");
        message["from"]!["is_bot"] = true;
        message["text"] = text;
        return new JsonObject { ["update_id"] = updateId, ["message"] = message };
    }

    /// <summary>An edited message (not processed by the platform).</summary>
    public static JsonObject EditedMessage(long updateId, long chatId, long messageId, string text)
    {
        var message = Message(chatId, messageId, chatId, "Ada", "Lovelace", "ada");
        message["text"] = text;
        message["edit_date"] = 1_700_000_100;
        return new JsonObject { ["update_id"] = updateId, ["edited_message"] = message };
    }

    private static JsonObject Message(long chatId, long messageId, long fromId, string firstName, string? lastName, string? username) => new()
    {
        ["message_id"] = messageId,
        ["from"] = User(fromId, firstName, lastName, username),
        ["chat"] = chatId < 0
            ? new JsonObject { ["id"] = chatId, ["title"] = "Test group", ["type"] = "supergroup" }
            : Chat(chatId, firstName, lastName, username),
        ["date"] = 1_700_000_000,
    };

    private static JsonObject User(long id, string firstName, string? lastName, string? username)
    {
        var user = new JsonObject { ["id"] = id, ["is_bot"] = false, ["first_name"] = firstName };
        if (lastName is not null)
        {
            user["last_name"] = lastName;
        }

        if (username is not null)
        {
            user["username"] = username;
        }

        user["language_code"] = "en";
        return user;
    }

    private static JsonObject Chat(long id, string firstName, string? lastName, string? username)
    {
        var chat = new JsonObject { ["id"] = id, ["first_name"] = firstName };
        if (lastName is not null)
        {
            chat["last_name"] = lastName;
        }

        if (username is not null)
        {
            chat["username"] = username;
        }

        chat["type"] = "private";
        return chat;
    }
}
