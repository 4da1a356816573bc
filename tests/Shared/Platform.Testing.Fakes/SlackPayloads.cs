using System.Text.Json.Nodes;

namespace Platform.Testing.Fakes;

/// <summary>Real-shaped Slack Events API and interactivity payloads.</summary>
public static class SlackPayloads
{
    /// <summary>The <c>url_verification</c> handshake.</summary>
    public static JsonObject UrlVerification(string challenge) => new()
    {
        ["token"] = "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        ["challenge"] = challenge,
        ["type"] = "url_verification",
    };

    /// <summary>An <c>app_mention</c> event in a channel.</summary>
    public static JsonObject AppMention(string channel, string user, string text, string ts, string? threadTs = null,
        string eventId = "Ev0PV52K21", string botUserId = "U0LAN0Z89")
    {
        var e = new JsonObject
        {
            ["type"] = "app_mention",
            ["user"] = user,
            ["text"] = $"<@{botUserId}> {text}",
            ["ts"] = ts,
            ["channel"] = channel,
            ["event_ts"] = ts,
        };
        if (threadTs is not null)
        {
            e["thread_ts"] = threadTs;
        }

        return Envelope(e, eventId);
    }

    /// <summary>A <c>message.im</c> event (a direct message to the bot).</summary>
    public static JsonObject DirectMessage(string channel, string user, string text, string ts, string eventId = "Ev0PV52K22",
        JsonArray? files = null, string? subtype = null)
    {
        var e = new JsonObject
        {
            ["type"] = "message",
            ["channel"] = channel,
            ["user"] = user,
            ["text"] = text,
            ["ts"] = ts,
            ["event_ts"] = ts,
            ["channel_type"] = "im",
        };
        if (subtype is not null)
        {
            e["subtype"] = subtype;
        }

        if (files is not null)
        {
            e["files"] = files;
        }

        return Envelope(e, eventId);
    }

    /// <summary>A message posted by a bot (Slack delivers the bot's own replies too).</summary>
    public static JsonObject BotMessage(string channel, string text, string ts) => Envelope(new JsonObject
    {
        ["type"] = "message",
        ["subtype"] = "bot_message",
        ["bot_id"] = "B0FAKE",
        ["channel"] = channel,
        ["text"] = text,
        ["ts"] = ts,
        ["event_ts"] = ts,
        ["channel_type"] = "im",
    }, "Ev0BOT");

    /// <summary>A file object as it appears in <c>files</c>.</summary>
    public static JsonObject File(string name, string mimeType, long size) => new()
    {
        ["id"] = "F0FAKE" + size,
        ["name"] = name,
        ["title"] = name,
        ["mimetype"] = mimeType,
        ["filetype"] = Path.GetExtension(name).TrimStart('.'),
        ["size"] = size,
        ["url_private"] = $"https://files.slack.com/files-pri/T0FAKE-F0FAKE/{name}",
        ["url_private_download"] = $"https://files.slack.com/files-pri/T0FAKE-F0FAKE/download/{name}",
    };

    /// <summary>A <c>block_actions</c> interaction: a button with <paramref name="value"/> pressed under message
    /// <paramref name="messageTs"/>.</summary>
    public static JsonObject BlockActions(string channel, string user, string messageTs, string value, string actionTs = "1700000123.456789") => new()
    {
        ["type"] = "block_actions",
        ["user"] = new JsonObject { ["id"] = user, ["username"] = "ada", ["name"] = "ada", ["team_id"] = "T0FAKE" },
        ["api_app_id"] = "A0FAKE",
        ["token"] = "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = messageTs, ["channel_id"] = channel, ["is_ephemeral"] = false },
        ["trigger_id"] = "123.456.abc",
        ["team"] = new JsonObject { ["id"] = "T0FAKE", ["domain"] = "fake" },
        ["channel"] = new JsonObject { ["id"] = channel, ["name"] = "directmessage" },
        ["message"] = new JsonObject { ["type"] = "message", ["user"] = "UBOT", ["ts"] = messageTs, ["text"] = "Choose" },
        ["response_url"] = "https://hooks.slack.com/actions/T0FAKE/123/abc",
        ["actions"] = new JsonArray(new JsonObject
        {
            ["action_id"] = "quick_reply_0",
            ["block_id"] = "b1",
            ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = value, ["emoji"] = true },
            ["value"] = value,
            ["type"] = "button",
            ["action_ts"] = actionTs,
        }),
    };

    private static JsonObject Envelope(JsonObject e, string eventId) => new()
    {
        ["token"] = "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        ["team_id"] = "T0FAKE",
        ["api_app_id"] = "A0FAKE",
        ["event"] = e,
        ["type"] = "event_callback",
        ["event_id"] = eventId,
        ["event_time"] = 1_700_000_000,
        ["authorizations"] = new JsonArray(new JsonObject
        {
            ["enterprise_id"] = null,
            ["team_id"] = "T0FAKE",
            ["user_id"] = "U0LAN0Z89",
            ["is_bot"] = true,
            ["is_enterprise_install"] = false,
        }),
        ["is_ext_shared_channel"] = false,
        ["event_context"] = "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
    };
}
