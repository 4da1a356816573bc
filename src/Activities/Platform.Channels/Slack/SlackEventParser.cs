using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.Channels.Http;

namespace Platform.Channels.Slack;

/// <summary>Parses Events API deliveries and interactivity payloads (already verified).</summary>
public static partial class SlackEventParser
{
    /// <summary>
    /// Parses an Events API body: <c>url_verification</c> → <see cref="InboundStatus.Challenge"/> with the challenge as
    /// the response; <c>event_callback</c> with <c>app_mention</c> or a direct message (<c>message</c>,
    /// <c>channel_type=im</c>) → <see cref="InboundStatus.Accepted"/>; bot messages, the bot's own messages, edits and
    /// other subtypes and events → <see cref="InboundStatus.Ignored"/>.
    /// <see cref="IncomingMessage.ChannelMessageId"/> is <c>channel:ts</c>, the same for a retried delivery and for
    /// the <c>app_mention</c> and <c>message.im</c> events of one message.
    /// </summary>
    public static InboundResult ParseEvent(string channelName, string body, AttachmentPolicy policy, DateTimeOffset receivedAt,
        string? botUserId = null)
    {
        JsonObject? envelope;
        try
        {
            envelope = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException exception)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, $"The Slack event body is not valid JSON: {exception.Message}");
        }

        switch (Str(envelope?["type"]))
        {
            case "url_verification":
                return Str(envelope!["challenge"]) is { } challenge
                    ? new InboundResult { Status = InboundStatus.Challenge, ResponseBody = challenge, ResponseContentType = "text/plain" }
                    : InboundResult.Reject(RejectionReason.MalformedPayload, "url_verification without a challenge.");
            case "event_callback":
                break;
            case null:
                return InboundResult.Reject(RejectionReason.MalformedPayload, "The Slack event body has no type.");
            default:
                return InboundResult.Ignore($"Slack envelope type '{Str(envelope!["type"])}' is not processed.");
        }

        if (envelope!["event"] is not JsonObject e)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "event_callback without an event.");
        }

        var type = Str(e["type"]);
        var subtype = Str(e["subtype"]);
        if (type is not ("app_mention" or "message"))
        {
            return InboundResult.Ignore($"Slack event '{type}' is not processed.");
        }

        if (type == "message" && Str(e["channel_type"]) != "im")
        {
            return InboundResult.Ignore($"Slack message events are processed for direct messages only (channel_type '{Str(e["channel_type"])}').");
        }

        if (e["bot_id"] is not null || subtype == "bot_message" || (botUserId is not null && Str(e["user"]) == botUserId))
        {
            return InboundResult.Ignore("Slack message from a bot.");
        }

        if (subtype is not (null or "file_share" or "thread_broadcast"))
        {
            return InboundResult.Ignore($"Slack message subtype '{subtype}' is not processed.");
        }

        var channel = Str(e["channel"]);
        var ts = Str(e["ts"]);
        var user = Str(e["user"]);
        if (channel is null || ts is null || user is null)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "The Slack event lacks channel, ts or user.");
        }

        var attachments = new List<MessageAttachment>();
        foreach (var file in e["files"] as JsonArray ?? [])
        {
            if (file is not JsonObject f)
            {
                continue;
            }

            var name = Str(f["name"]) ?? Str(f["title"]) ?? Str(f["id"]) ?? "file";
            // A file over the limit is kept with its size: the gateway answers the sender instead of running a workflow.
            var size = f["size"]?.GetValueKind() == JsonValueKind.Number ? f["size"]!.GetValue<long>() : -1;

            attachments.Add(new MessageAttachment
            {
                Name = name,
                ContentType = Str(f["mimetype"]) ?? "application/octet-stream",
                Size = size,
                SourceUri = Str(f["url_private_download"]) ?? Str(f["url_private"]),
            });
        }

        var text = WebUtility.HtmlDecode(Str(e["text"]) ?? "");
        if (type == "app_mention")
        {
            text = LeadingMention().Replace(text, "");
        }

        var threadTs = Str(e["thread_ts"]);
        var isDirect = Str(e["channel_type"]) == "im" || channel.StartsWith('D');
        var threadId = threadTs ?? (isDirect ? null : ts); // a mention in a channel is answered in a thread under it
        var profile = e["user_profile"] as JsonObject;
        var displayName = NonEmpty(Str(profile?["display_name"])) ?? NonEmpty(Str(profile?["real_name"]));
        var metadata = new Dictionary<string, string> { ["slack.event_type"] = type!, ["slack.ts"] = ts };
        Add(metadata, "slack.event_id", Str(envelope["event_id"]));
        Add(metadata, "slack.team_id", Str(envelope["team_id"]));
        Add(metadata, "slack.api_app_id", Str(envelope["api_app_id"]));
        return InboundResult.Accept(new IncomingMessage
        {
            ChannelKind = ChannelKind.Slack,
            ChannelName = channelName,
            ChannelMessageId = $"{channel}:{ts}",
            Conversation = new ConversationId(ChannelKind.Slack, channelName, channel, threadId),
            Sender = new ChannelUser(user, displayName),
            Text = text.Trim(),
            Attachments = attachments,
            ReplyToChannelMessageId = threadTs is not null && threadTs != ts ? $"{channel}:{threadTs}" : null,
            ReceivedAt = receivedAt,
            SentAt = TsToTime(ts),
            RawPayload = body,
            Metadata = metadata,
        });
    }

    /// <summary>
    /// Parses an interactivity delivery (form body with a <c>payload</c> field): a <c>block_actions</c> button press
    /// from a quick reply becomes a message whose text is the button's value.
    /// </summary>
    public static InboundResult ParseInteraction(string channelName, string formBody, DateTimeOffset receivedAt)
    {
        var payloadText = FormUrlEncoded.Parse(formBody).Get("payload");
        JsonObject? payload;
        try
        {
            payload = payloadText is null ? null : JsonNode.Parse(payloadText) as JsonObject;
        }
        catch (JsonException exception)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, $"The Slack interaction payload is not valid JSON: {exception.Message}");
        }

        if (payload is null)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "The Slack interaction body has no payload field.");
        }

        if (Str(payload["type"]) != "block_actions" || payload["actions"] is not JsonArray { Count: > 0 } actions
            || actions[0] is not JsonObject action)
        {
            return InboundResult.Ignore($"Slack interaction '{Str(payload["type"])}' is not processed.");
        }

        var user = payload["user"] as JsonObject;
        var userId = Str(user?["id"]);
        var channel = Str(payload["channel"]?["id"]) ?? Str(payload["container"]?["channel_id"]);
        var actionTs = Str(action["action_ts"]);
        if (userId is null || channel is null || actionTs is null)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "The Slack block_actions payload lacks user, channel or action_ts.");
        }

        var message = payload["message"] as JsonObject;
        var messageTs = Str(message?["ts"]) ?? Str(payload["container"]?["message_ts"]);
        var threadTs = Str(message?["thread_ts"]);
        return InboundResult.Accept(new IncomingMessage
        {
            ChannelKind = ChannelKind.Slack,
            ChannelName = channelName,
            ChannelMessageId = $"{channel}:action:{actionTs}",
            Conversation = new ConversationId(ChannelKind.Slack, channelName, channel, threadTs),
            Sender = new ChannelUser(userId, NonEmpty(Str(user?["name"])) ?? NonEmpty(Str(user?["username"]))),
            Text = Str(action["value"]) ?? Str(action["text"]?["text"]) ?? "",
            ReplyToChannelMessageId = messageTs is null ? null : $"{channel}:{messageTs}",
            ReceivedAt = receivedAt,
            RawPayload = formBody,
            Metadata = new Dictionary<string, string>
            {
                ["slack.event_type"] = "block_actions",
                ["slack.action_id"] = Str(action["action_id"]) ?? "",
                ["slack.response_url"] = Str(payload["response_url"]) ?? "",
            },
        });
    }

    private static DateTimeOffset? TsToTime(string ts) =>
        decimal.TryParse(ts, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(seconds * 1000))
            : null;

    private static void Add(Dictionary<string, string> metadata, string key, string? value)
    {
        if (value is not null)
        {
            metadata[key] = value;
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    [GeneratedRegex(@"^\s*<@[A-Z0-9]+(\|[^>]*)?>\s*")]
    private static partial Regex LeadingMention();
}
