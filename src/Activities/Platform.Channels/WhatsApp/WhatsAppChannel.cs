using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Channels.Http;
using Platform.Channels.Rendering;
using Platform.Channels.Webhooks;

namespace Platform.Channels.WhatsApp;

/// <summary>
/// One WhatsApp Business phone number on the Cloud API: the webhook's GET verification handshake and signed POST deliveries
/// (messages and delivery statuses) in, Graph API <c>POST /{version}/{phone-number-id}/messages</c> out (text, media by link or
/// upload, reply buttons or a list as quick replies, a template outside the 24-hour customer service window). Create one per
/// configured number with an <see cref="HttpClient"/> from <c>IHttpClientFactory</c>.
/// </summary>
public sealed class WhatsAppChannel : IChannelSender, IInboundAttachmentSource
{
    /// <summary>The Graph error code for a free-form message outside the 24-hour customer service window.</summary>
    public const string OutsideWindowErrorCode = "131047";

    // Graph error codes worth retrying: API rate and throughput limits, temporary service errors.
    private static readonly HashSet<string> RetryableCodes = ["1", "2", "4", "17", "341", "80007", "130429", "131000", "131016", "131056", "133004"];

    private readonly HttpClient _http;
    private readonly IReplayCache? _replays;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the channel.</summary>
    public WhatsAppChannel(string channelName, WhatsAppOptions options, HttpClient http, IReplayCache? replays = null, TimeProvider? time = null,
        ILogger<WhatsAppChannel>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        ArgumentException.ThrowIfNullOrEmpty(options.PhoneNumberId);
        ArgumentException.ThrowIfNullOrEmpty(options.AccessToken);
        ArgumentException.ThrowIfNullOrEmpty(options.AppSecret);
        ArgumentException.ThrowIfNullOrEmpty(options.VerifyToken);
        ChannelName = channelName;
        Options = options;
        _http = http;
        _replays = replays;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<WhatsAppChannel>.Instance;
    }

    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.WhatsApp;

    /// <inheritdoc />
    public string ChannelName { get; }

    /// <summary>The options.</summary>
    public WhatsAppOptions Options { get; }

    /// <summary>
    /// The GET handshake Meta makes when the webhook URL is saved: <c>hub.mode=subscribe</c>, <c>hub.verify_token</c> (must equal
    /// <see cref="WhatsAppOptions.VerifyToken"/>) and <c>hub.challenge</c>, answered with the challenge as plain text; a wrong token
    /// is a 403.
    /// </summary>
    public InboundResult HandleVerification(string? mode, string? verifyToken, string? challenge)
    {
        if (mode != "subscribe" || string.IsNullOrEmpty(challenge))
        {
            return Log(InboundResult.Reject(RejectionReason.MalformedPayload,
                "The verification request needs hub.mode=subscribe, hub.verify_token and hub.challenge."));
        }

        if (string.IsNullOrEmpty(verifyToken)
            || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(verifyToken), Encoding.UTF8.GetBytes(Options.VerifyToken)))
        {
            return Log(InboundResult.Reject(RejectionReason.InvalidSignature,
                "hub.verify_token does not match the channel's verifyToken setting; type the same token in the app's webhook settings.") with { HttpStatusCode = 403 });
        }

        return new InboundResult { Status = InboundStatus.Challenge, ResponseBody = challenge, ResponseContentType = "text/plain" };
    }

    /// <summary>
    /// Verifies <c>X-Hub-Signature-256</c> over the raw body and parses a webhook delivery. A delivery whose exact signature was
    /// seen before is flagged <see cref="WhatsAppDelivery.Replayed"/> (the caller refuses it unless it carries a message not stored yet).
    /// </summary>
    public async Task<WhatsAppDelivery> HandleWebhookAsync(string body, string? signature, CancellationToken cancellationToken = default)
    {
        if (WhatsAppSignature.Verify(Options.AppSecret, signature, body) is { } rejection)
        {
            return new(Log(rejection), [], []);
        }

        var delivery = WhatsAppWebhookParser.Parse(ChannelName, Options.PhoneNumberId, body, Options.Attachments, _time.GetUtcNow());
        if (delivery.Result.Status == InboundStatus.Rejected)
        {
            Log(delivery.Result);
            return delivery;
        }

        var fresh = _replays is null || await _replays.TryRegisterAsync(
            $"whatsapp:{ChannelName}:{signature!.Trim().ToLowerInvariant()}", _time.GetUtcNow() + Options.ReplayWindow, cancellationToken);
        return delivery with { Replayed = !fresh };
    }

    /// <summary>Marks an inbound message read (blue ticks) and shows the typing indicator until the reply (or 25 s).</summary>
    public async Task<SendResult> MarkReadAsync(string messageId, bool typing = true, CancellationToken cancellationToken = default)
    {
        var payload = new JsonObject { ["messaging_product"] = "whatsapp", ["status"] = "read", ["message_id"] = messageId };
        if (typing)
        {
            payload["typing_indicator"] = new JsonObject { ["type"] = "text" };
        }

        var (_, failure) = await PostAsync(MessagesUrl, payload, cancellationToken);
        return failure ?? new SendResult { Status = SendStatus.Sent, PartsDelivered = 1, TotalParts = 1 };
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        if (Options.Attachments.RefuseOutgoing(message.Attachments) is { } refused)
        {
            return refused;
        }

        if (message.QuickReplies.Count > 10)
        {
            return SendResult.Permanent($"WhatsApp offers at most 10 choices (3 reply buttons, or a list of 10); the message has {message.QuickReplies.Count}.",
                "too_many_quick_replies");
        }

        var texts = MessageRenderer.RenderParts(message.Text, TextFormat.WhatsApp, Options.MaxMessageLength).ToList();
        string? interactiveBody = null;
        if (message.QuickReplies.Count > 0)
        {
            if (texts.Count > 0 && texts[^1].Length <= ChannelLimits.WhatsAppInteractiveBody)
            {
                interactiveBody = texts[^1];
                texts.RemoveAt(texts.Count - 1);
            }
            else
            {
                interactiveBody = "Please choose:";
            }
        }

        var parts = new List<Func<CancellationToken, Task<(string?, SendResult?)>>>();
        parts.AddRange(texts.Select(text => (Func<CancellationToken, Task<(string?, SendResult?)>>)(ct => SendPayloadAsync(recipient, new JsonObject
        {
            ["type"] = "text", ["text"] = new JsonObject { ["preview_url"] = text.Contains("https://", StringComparison.Ordinal), ["body"] = text },
        }, ct))));
        parts.AddRange(message.Attachments.Select(a => (Func<CancellationToken, Task<(string?, SendResult?)>>)(ct => SendMediaAsync(recipient, a, ct))));
        if (interactiveBody is not null)
        {
            parts.Add(ct => SendPayloadAsync(recipient, Interactive(interactiveBody, message.QuickReplies), ct));
        }

        if (parts.Count == 0)
        {
            return SendResult.Permanent("The message has neither text nor attachments.", "no_text");
        }

        var templated = false;
        var result = await PartSender.SendAsync(parts.Count, message.SkipParts, async (index, ct) =>
        {
            if (templated)
            {
                return (null, null);
            }

            var (id, failure) = await parts[index](ct);
            if (failure?.ErrorCode == OutsideWindowErrorCode && Options.TemplateName is { Length: > 0 } template)
            {
                // More than 24 hours since the customer wrote: only a template may start the conversation again; it carries the text.
                _logger.LogInformation("WhatsApp channel {Channel}: {Recipient} is outside the 24-hour window; sending template {Template}.", ChannelName, recipient, template);
                templated = true;
                return await SendPayloadAsync(recipient, Template(template, message.Text), ct);
            }

            return (id, failure);
        }, cancellationToken);
        if (!result.IsSuccess)
        {
            _logger.LogWarning("WhatsApp channel {Channel}: sending to {Recipient} failed: {Result}", ChannelName, recipient, result);
        }

        return result;
    }

    private Uri MessagesUrl => ChannelHttp.Combine(Options.ApiBaseUrl, $"{Options.ApiVersion}/{Uri.EscapeDataString(Options.PhoneNumberId)}/messages");

    private Uri MediaUrl => ChannelHttp.Combine(Options.ApiBaseUrl, $"{Options.ApiVersion}/{Uri.EscapeDataString(Options.PhoneNumberId)}/media");

    private JsonObject Template(string name, string markdown)
    {
        var text = string.Join(' ', MessageRenderer.Render(markdown, TextFormat.PlainText)
            .Split(['\n', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        while (text.Contains("     ", StringComparison.Ordinal))
        {
            text = text.Replace("     ", " ", StringComparison.Ordinal); // a parameter may not hold more than 4 spaces in a row
        }

        var template = new JsonObject { ["name"] = name, ["language"] = new JsonObject { ["code"] = Options.TemplateLanguage } };
        if (text.Length > 0)
        {
            template["components"] = new JsonArray(new JsonObject
            {
                ["type"] = "body",
                ["parameters"] = new JsonArray(new JsonObject { ["type"] = "text", ["text"] = text.Length <= 1024 ? text : text[..1023] + "…" }),
            });
        }

        return new JsonObject { ["type"] = "template", ["template"] = template };
    }

    private static JsonObject Interactive(string body, IReadOnlyList<QuickReply> replies)
    {
        JsonObject action;
        string kind;
        if (replies.Count <= 3)
        {
            kind = "button";
            action = new JsonObject
            {
                ["buttons"] = new JsonArray(replies.Select(r => (JsonNode)new JsonObject
                {
                    ["type"] = "reply", ["reply"] = new JsonObject { ["id"] = Limit(r.Value, 256), ["title"] = Limit(r.Label, 20) },
                }).ToArray()),
            };
        }
        else
        {
            kind = "list";
            action = new JsonObject
            {
                ["button"] = "Choose",
                ["sections"] = new JsonArray(new JsonObject
                {
                    ["rows"] = new JsonArray(replies.Select(r => (JsonNode)new JsonObject
                    {
                        ["id"] = Limit(r.Value, 200), ["title"] = Limit(r.Label, 24),
                    }).ToArray()),
                }),
            };
        }

        return new JsonObject
        {
            ["type"] = "interactive",
            ["interactive"] = new JsonObject { ["type"] = kind, ["body"] = new JsonObject { ["text"] = body }, ["action"] = action },
        };
    }

    private async Task<(string?, SendResult?)> SendMediaAsync(string recipient, MessageAttachment attachment, CancellationToken ct)
    {
        var type = MediaType(attachment.ContentType);
        var media = new JsonObject();
        if (AttachmentPolicy.IsHttpUrl(attachment.SourceUri))
        {
            media["link"] = attachment.SourceUri;
        }
        else
        {
            var (mediaId, failure) = await UploadAsync(attachment, ct);
            if (failure is not null)
            {
                return (null, failure);
            }

            media["id"] = mediaId;
        }

        if (type == "document")
        {
            media["filename"] = attachment.Name;
        }

        return await SendPayloadAsync(recipient, new JsonObject { ["type"] = type, [type] = media }, ct);
    }

    private async Task<(string?, SendResult?)> UploadAsync(MessageAttachment attachment, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("whatsapp"), "messaging_product" },
            { new StringContent(attachment.ContentType), "type" },
        };
        var file = new ByteArrayContent(attachment.Content!.Value.ToArray());
        file.Headers.ContentType = MediaTypeHeaderValue.TryParse(attachment.ContentType, out var contentType) ? contentType : new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, "file", attachment.Name);
        using var request = new HttpRequestMessage(HttpMethod.Post, MediaUrl) { Content = form };
        var (body, failure) = await CallAsync(request, ct);
        return failure is not null ? (null, failure) : (Str(body?["id"]), null);
    }

    private async Task<(string?, SendResult?)> SendPayloadAsync(string recipient, JsonObject payload, CancellationToken ct)
    {
        payload["messaging_product"] = "whatsapp";
        payload["recipient_type"] = "individual";
        payload["to"] = recipient;
        var (body, failure) = await PostAsync(MessagesUrl, payload, ct);
        return failure is not null ? (null, failure) : (Str((body?["messages"] as JsonArray)?.FirstOrDefault()?["id"]), null);
    }

    /// <inheritdoc />
    public bool CanOpen(MessageAttachment attachment) =>
        attachment?.SourceUri?.StartsWith(WhatsAppWebhookParser.MediaScheme, StringComparison.Ordinal) == true;

    /// <summary>Downloads inbound media: <c>GET /{version}/{media-id}</c> answers a short-lived <c>url</c> (and the size), which
    /// is then fetched with the same <c>Authorization: Bearer &lt;access token&gt;</c>.</summary>
    public async Task<AttachmentDownload> OpenAsync(MessageAttachment attachment, AttachmentPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        ArgumentNullException.ThrowIfNull(policy);
        if (!CanOpen(attachment)) throw new AttachmentDownloadException($"'{attachment.SourceUri}' is not a WhatsApp media reference.", false);
        var mediaId = attachment.SourceUri![WhatsAppWebhookParser.MediaScheme.Length..];
        using var lookup = new HttpRequestMessage(HttpMethod.Get, ChannelHttp.Combine(Options.ApiBaseUrl,
            $"{Options.ApiVersion}/{Uri.EscapeDataString(mediaId)}?phone_number_id={Uri.EscapeDataString(Options.PhoneNumberId)}"));
        var (body, failure) = await CallAsync(lookup, cancellationToken).ConfigureAwait(false);
        if (failure is not null || Str(body?["url"]) is not { } url || !Uri.TryCreate(url, UriKind.Absolute, out var mediaUrl))
        {
            throw new AttachmentDownloadException($"WhatsApp media {mediaId} ('{attachment.Name}') could not be looked up: {failure?.Error ?? "the answer has no url"}",
                failure?.Status == SendStatus.RetryableFailure);
        }

        if (body!["file_size"] is JsonValue size && (size.TryGetValue<long>(out var declared)
            || (size.TryGetValue<string>(out var text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out declared))))
        {
            policy.EnsureAllowed(attachment.Name, declared);
        }

        var request = new HttpRequestMessage(HttpMethod.Get, mediaUrl);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Options.AccessToken);
        return await AttachmentDownload.SendAsync(_http, request, "WhatsApp", attachment.Name, policy, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(JsonObject? Body, SendResult? Failure)> PostAsync(Uri url, JsonObject payload, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        return await CallAsync(request, ct);
    }

    private async Task<(JsonObject? Body, SendResult? Failure)> CallAsync(HttpRequestMessage request, CancellationToken ct)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Options.AccessToken);
        var (reply, failure) = await ChannelHttp.SendAsync(_http, request, Options.RequestTimeout, "WhatsApp", _time, ct);
        if (reply is null)
        {
            return (null, failure);
        }

        JsonObject? body = null;
        try
        {
            body = JsonNode.Parse(reply.Body) as JsonObject;
        }
        catch (JsonException)
        {
        }

        if (reply.IsSuccess && body is not null && body["error"] is null)
        {
            return (body, null);
        }

        var error = body?["error"] as JsonObject;
        var code = error?["code"] is JsonValue c ? c.ToJsonString().Trim('"') : reply.StatusCode.ToString(CultureInfo.InvariantCulture);
        var details = Str(error?["error_data"]?["details"]);
        var text = $"WhatsApp: {Str(error?["message"]) ?? Truncate(reply.Body)} [code {code}]{(details is null ? "" : $" {details}")}"
                   + (code == OutsideWindowErrorCode ? " Set the channel's templateName to reach customers after 24 hours." : "");
        var status = reply.IsSuccess ? 500 : reply.StatusCode;
        var result = ChannelHttp.Failure(status, text, code, reply.RetryAfter);
        if (RetryableCodes.Contains(code))
        {
            result = result with { Status = SendStatus.RetryableFailure };
        }

        return (null, result);
    }

    private static string MediaType(string contentType) => contentType.Split(';')[0].Trim().ToLowerInvariant() switch
    {
        "image/jpeg" or "image/png" => "image",
        "image/webp" => "sticker",
        var v when v.StartsWith("video/", StringComparison.Ordinal) => "video",
        var a when a.StartsWith("audio/", StringComparison.Ordinal) => "audio",
        _ => "document",
    };

    private static string Limit(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    private InboundResult Log(InboundResult result)
    {
        if (result.Status == InboundStatus.Rejected)
        {
            _logger.LogWarning("WhatsApp channel {Channel} rejected a delivery ({Reason}): {Error}", ChannelName, result.Reason, result.Error);
        }

        return result;
    }
}
