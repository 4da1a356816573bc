using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Channels.WhatsApp;

/// <summary>A delivery report in a WhatsApp webhook (<c>value.statuses[]</c>).</summary>
/// <param name="MessageId">The <c>wamid.…</c> of the message the business sent.</param>
/// <param name="Status"><c>sent</c>, <c>delivered</c>, <c>read</c> or <c>failed</c>.</param>
/// <param name="RecipientId">The customer's WhatsApp id.</param>
/// <param name="ErrorCode">The error code of a failed message (for example <c>131047</c>), or null.</param>
/// <param name="Error">The error title and details of a failed message, or null.</param>
public sealed record WhatsAppStatus(string MessageId, string Status, string? RecipientId, string? ErrorCode, string? Error)
{
    /// <summary>True for <c>failed</c>.</summary>
    public bool IsFailed => Status == "failed";
}

/// <summary>The verified and parsed content of one WhatsApp webhook delivery, which may carry several messages and statuses.</summary>
/// <param name="Result">Accepted (its message is the first of <paramref name="Messages"/>), Ignored (nothing to store) or Rejected.</param>
/// <param name="Messages">The customers' messages, in order.</param>
/// <param name="Statuses">The delivery reports, in order.</param>
/// <param name="Replayed">True when this exact signed delivery was seen before (within <see cref="WhatsAppOptions.ReplayWindow"/>).</param>
public sealed record WhatsAppDelivery(InboundResult Result, IReadOnlyList<IncomingMessage> Messages, IReadOnlyList<WhatsAppStatus> Statuses,
    bool Replayed = false);

/// <summary>Parses WhatsApp Cloud API webhook bodies (<c>object = whatsapp_business_account</c>), already verified.</summary>
public static class WhatsAppWebhookParser
{
    /// <summary>The <see cref="MessageAttachment.SourceUri"/> scheme of inbound media: <c>whatsapp-media:&lt;media id&gt;</c>
    /// (GET <c>/{version}/{media-id}</c> gives a short-lived download URL).</summary>
    public const string MediaScheme = "whatsapp-media:";

    private static readonly string[] MediaTypes = ["image", "video", "audio", "document", "sticker"];

    /// <summary>Parses a webhook body. Changes for another phone number id than <paramref name="phoneNumberId"/> are skipped.</summary>
    public static WhatsAppDelivery Parse(string channelName, string phoneNumberId, string body, AttachmentPolicy policy, DateTimeOffset receivedAt)
    {
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException exception)
        {
            return Rejected($"The WhatsApp webhook body is not valid JSON: {exception.Message}");
        }

        if (root is null)
        {
            return Rejected("The WhatsApp webhook body must be a JSON object.");
        }

        if (Str(root["object"]) is null)
        {
            return Rejected("The WhatsApp webhook body has no \"object\" (Meta sends \"whatsapp_business_account\").");
        }

        if (Str(root["object"]) != "whatsapp_business_account")
        {
            return new(InboundResult.Ignore($"Webhook object '{Str(root["object"])}' is not whatsapp_business_account."), [], []);
        }

        if (root["entry"] is not JsonArray entries)
        {
            return Rejected("The WhatsApp webhook body has no entry array.");
        }

        var messages = new List<IncomingMessage>();
        var statuses = new List<WhatsAppStatus>();
        foreach (var change in entries.OfType<JsonObject>().SelectMany(e => e["changes"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (Str(change["field"]) != "messages" || change["value"] is not JsonObject value)
            {
                continue;
            }

            var number = Str(value["metadata"]?["phone_number_id"]);
            if (number is not null && number != phoneNumberId)
            {
                continue;
            }

            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var contact in (value["contacts"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (Str(contact["wa_id"]) is { } waId && Str(contact["profile"]?["name"]) is { Length: > 0 } name)
                {
                    names[waId] = name;
                }
            }

            foreach (var m in (value["messages"] as JsonArray ?? []).OfType<JsonObject>())
            {
                var parsed = ParseMessage(channelName, m, names, value, body, policy, receivedAt);
                if (parsed.Rejection is { } rejection)
                {
                    return new(rejection, [], []);
                }

                if (parsed.Message is { } message)
                {
                    messages.Add(message);
                }
            }

            foreach (var s in (value["statuses"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (Str(s["id"]) is not { } id || Str(s["status"]) is not { } status)
                {
                    return Rejected("A WhatsApp status lacks id or status.");
                }

                var error = (s["errors"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault();
                var code = error?["code"] is JsonValue c ? c.ToJsonString().Trim('"') : null;
                var text = error is null ? null
                    : $"WhatsApp reports the message {status}: error {code} {Str(error["title"]) ?? Str(error["message"])}"
                      + (Str(error["error_data"]?["details"]) is { } details ? $" ({details})" : "");
                statuses.Add(new WhatsAppStatus(id, status.ToLowerInvariant(), Str(s["recipient_id"]), code, text));
            }
        }

        var result = messages.Count > 0
            ? InboundResult.Accept(messages[0])
            : InboundResult.Ignore(statuses.Count > 0 ? "WhatsApp delivery statuses." : "The WhatsApp delivery carries no message.");
        return new(result, messages, statuses);
    }

    private static (IncomingMessage? Message, InboundResult? Rejection) ParseMessage(string channelName, JsonObject m,
        Dictionary<string, string> names, JsonObject value, string body, AttachmentPolicy policy, DateTimeOffset receivedAt)
    {
        var from = Str(m["from"]);
        var id = Str(m["id"]);
        var type = Str(m["type"]);
        if (from is null || id is null || type is null)
        {
            return (null, InboundResult.Reject(RejectionReason.MalformedPayload, "A WhatsApp message lacks from, id or type."));
        }

        var metadata = new Dictionary<string, string> { ["whatsapp.type"] = type };
        if (Str(value["metadata"]?["display_phone_number"]) is { } display)
        {
            metadata["whatsapp.display_phone_number"] = display;
        }

        var attachments = new List<MessageAttachment>();
        string text;
        switch (type)
        {
            case "text":
                text = Str(m["text"]?["body"]) ?? "";
                break;
            case "interactive":
                var reply = m["interactive"]?["button_reply"] ?? m["interactive"]?["list_reply"];
                if (reply is null)
                {
                    return (null, null);
                }

                text = Str(reply["id"]) ?? Str(reply["title"]) ?? "";
                metadata["whatsapp.reply_title"] = Str(reply["title"]) ?? "";
                break;
            case "button": // a quick-reply button of a template message
                text = Str(m["button"]?["payload"]) ?? Str(m["button"]?["text"]) ?? "";
                break;
            case "location":
                var location = m["location"];
                var place = string.Join(", ", new[] { Str(location?["name"]), Str(location?["address"]) }.Where(s => !string.IsNullOrEmpty(s)));
                text = $"{place} ({location?["latitude"]?.ToJsonString()}, {location?["longitude"]?.ToJsonString()})".Trim();
                break;
            case var media when MediaTypes.Contains(media):
                var file = m[media] as JsonObject;
                if (Str(file?["id"]) is not { } mediaId)
                {
                    return (null, InboundResult.Reject(RejectionReason.MalformedPayload, $"A WhatsApp {media} message has no media id."));
                }

                var mime = Str(file!["mime_type"]) ?? "application/octet-stream";
                var name = Str(file["filename"]) ?? $"{media}-{mediaId}{Extension(mime)}";
                // Over the limit: kept with its size, and the gateway answers the sender instead of running a workflow.
                var size = file["file_size"] is JsonValue sizeValue && sizeValue.TryGetValue<long>(out var bytes) ? bytes : -1;

                attachments.Add(new MessageAttachment { Name = name, ContentType = mime, Size = size, SourceUri = MediaScheme + mediaId });
                text = Str(file["caption"]) ?? "";
                break;
            default: // reaction, system, unsupported, order…
                return (null, null);
        }

        var sentAt = long.TryParse(Str(m["timestamp"]), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799))
            : (DateTimeOffset?)null;
        return (new IncomingMessage
        {
            ChannelKind = ChannelKind.WhatsApp,
            ChannelName = channelName,
            ChannelMessageId = id,
            Conversation = new ConversationId(ChannelKind.WhatsApp, channelName, from),
            Sender = new ChannelUser(from, names.GetValueOrDefault(from)),
            Text = text,
            Attachments = attachments,
            ReplyToChannelMessageId = Str(m["context"]?["id"]),
            ReceivedAt = receivedAt,
            SentAt = sentAt,
            RawPayload = body,
            Metadata = metadata,
        }, null);
    }

    private static string Extension(string mime) => mime.Split(';')[0].Trim() switch
    {
        "image/jpeg" => ".jpg",
        "image/png" => ".png",
        "image/webp" => ".webp",
        "video/mp4" => ".mp4",
        "audio/ogg" => ".ogg",
        "audio/mpeg" => ".mp3",
        "application/pdf" => ".pdf",
        _ => "",
    };

    private static WhatsAppDelivery Rejected(string error) => new(InboundResult.Reject(RejectionReason.MalformedPayload, error), [], []);

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;
}
