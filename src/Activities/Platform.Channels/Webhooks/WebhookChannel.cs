using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Channels.Http;
using Platform.Channels.Rendering;

namespace Platform.Channels.Webhooks;

/// <summary>Settings of one HTTP webhook channel.</summary>
public sealed record WebhookChannelOptions
{
    /// <summary>The shared secret for signatures, in and out. Secret.</summary>
    public required string Secret { get; init; }

    /// <summary>A previous secret still accepted inbound while callers move to the new one, or null.</summary>
    public string? PreviousSecret { get; init; }

    /// <summary>Where outbound messages are POSTed, or null for an inbound-only channel.</summary>
    public Uri? OutboundUrl { get; init; }

    /// <summary>The allowed distance between the signed time and now.</summary>
    public TimeSpan Tolerance { get; init; } = WebhookSignature.DefaultTolerance;

    /// <summary>The attachment limits.</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>Timeout of one outbound POST.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// The HTTP webhook channel. Inbound: a signed JSON POST (see docs/channels.md for the shape) becomes an
/// <see cref="IncomingMessage"/>. Outbound: a signed JSON POST to <see cref="WebhookChannelOptions.OutboundUrl"/>.
/// </summary>
public sealed class WebhookChannel : IChannelSender
{
    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly WebhookSignatureVerifier _verifier;

    /// <summary>Creates the channel.</summary>
    public WebhookChannel(string channelName, WebhookChannelOptions options, HttpClient http, IReplayCache replayCache,
        TimeProvider? time = null, ILogger<WebhookChannel>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        ArgumentException.ThrowIfNullOrEmpty(options.Secret);
        ChannelName = channelName;
        Options = options;
        _http = http;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<WebhookChannel>.Instance;
        _verifier = new WebhookSignatureVerifier(replayCache, _time) { Tolerance = options.Tolerance, Scope = channelName };
    }

    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Webhook;

    /// <inheritdoc />
    public string ChannelName { get; }

    /// <summary>The options.</summary>
    public WebhookChannelOptions Options { get; }

    /// <summary>Verifies the signature (window, HMAC, replay) and parses the JSON body.</summary>
    public async Task<InboundResult> HandleAsync(string? signatureHeader, string body, CancellationToken cancellationToken = default)
    {
        var secrets = Options.PreviousSecret is { Length: > 0 } previous ? new[] { Options.Secret, previous } : [Options.Secret];
        var result = await _verifier.VerifyAsync(signatureHeader, body, secrets, cancellationToken) ?? Parse(body);
        if (result.Status == InboundStatus.Rejected)
        {
            _logger.LogWarning("Webhook channel {Channel} rejected a delivery ({Reason}): {Error}", ChannelName, result.Reason, result.Error);
        }

        return result;
    }

    /// <summary>Parses an inbound body without verification.</summary>
    public InboundResult Parse(string body)
    {
        JsonObject? json;
        try
        {
            json = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException exception)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, $"The webhook body is not valid JSON: {exception.Message}");
        }

        if (json is null)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "The webhook body must be a JSON object.");
        }

        try
        {
            var id = Str(json, "id") ?? throw new FormatException("\"id\" (a unique string per message) is required.");
            var sender = json["sender"] as JsonObject ?? throw new FormatException("\"sender\": {\"id\": …} is required.");
            var senderId = Str(sender, "id") ?? throw new FormatException("\"sender.id\" is required.");
            var text = Str(json, "text") ?? "";
            var attachments = new List<MessageAttachment>();
            foreach (var node in json["attachments"] as JsonArray ?? [])
            {
                attachments.Add(Attachment(node as JsonObject ?? throw new FormatException("each attachment must be an object.")));
            }

            if (text.Length == 0 && attachments.Count == 0)
            {
                throw new FormatException("\"text\" or \"attachments\" is required.");
            }

            return InboundResult.Accept(new IncomingMessage
            {
                ChannelKind = ChannelKind.Webhook,
                ChannelName = ChannelName,
                ChannelMessageId = id,
                Conversation = new ConversationId(ChannelKind.Webhook, ChannelName, Str(json, "conversationId") ?? senderId, Str(json, "threadId")),
                Sender = new ChannelUser(senderId, Str(sender, "name")),
                Text = text,
                Attachments = attachments,
                ReplyToChannelMessageId = Str(json, "replyTo"),
                ReceivedAt = _time.GetUtcNow(),
                RawPayload = body,
            });
        }
        catch (AttachmentTooLargeException exception)
        {
            return InboundResult.Reject(RejectionReason.AttachmentTooLarge, exception.Message);
        }
        catch (Exception exception) when (exception is FormatException or InvalidOperationException)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "The webhook body is invalid: " + exception.Message);
        }
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        if (Options.OutboundUrl is not { } url)
        {
            return SendResult.Permanent($"Webhook channel '{ChannelName}' has no OutboundUrl.", "no_url");
        }

        try
        {
            Options.Attachments.EnsureAllowed(message.Attachments);
        }
        catch (AttachmentTooLargeException exception)
        {
            return SendResult.Permanent(exception.Message, "attachment_too_large");
        }

        if (message.SkipParts > 0)
        {
            return new SendResult { Status = SendStatus.Sent, PartsDelivered = 1, TotalParts = 1 };
        }

        var deliveryId = string.IsNullOrEmpty(message.IdempotencyKey) ? Guid.CreateVersion7().ToString("N") : message.IdempotencyKey;
        var body = Payload(deliveryId, recipient, message).ToJsonString();
        var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(timestamp, body, Options.Secret));
        request.Headers.Add(WebhookSignature.DeliveryIdHeader, deliveryId);
        var (reply, failure) = await ChannelHttp.SendAsync(_http, request, Options.RequestTimeout, "The webhook receiver", _time,
            cancellationToken);
        var result = reply switch
        {
            null => failure! with { TotalParts = 1 },
            { IsSuccess: true } => new SendResult { Status = SendStatus.Sent, ChannelMessageIds = [deliveryId], PartsDelivered = 1, TotalParts = 1 },
            _ => ChannelHttp.Failure(reply.StatusCode,
                $"The webhook receiver answered HTTP {reply.StatusCode}: {(reply.Body.Length > 300 ? reply.Body[..300] + "…" : reply.Body)}",
                reply.StatusCode.ToString(CultureInfo.InvariantCulture), reply.RetryAfter) with
            { TotalParts = 1 },
        };
        if (!result.IsSuccess)
        {
            _logger.LogWarning("Webhook channel {Channel}: POST {Url} failed: {Result}", ChannelName, url, result);
        }

        return result;
    }

    private JsonObject Payload(string deliveryId, string recipient, OutgoingMessage message) => new()
    {
        ["id"] = deliveryId,
        ["channel"] = ChannelName,
        ["to"] = recipient,
        ["text"] = message.Text,
        ["plainText"] = MessageRenderer.Render(message.Text, TextFormat.PlainText),
        ["html"] = MessageRenderer.Render(message.Text, TextFormat.Html),
        ["replyTo"] = message.ReplyToChannelMessageId,
        ["threadId"] = message.ThreadId,
        ["quickReplies"] = new JsonArray(message.QuickReplies
            .Select(r => (JsonNode?)new JsonObject { ["label"] = r.Label, ["value"] = r.Value }).ToArray()),
        ["attachments"] = new JsonArray(message.Attachments.Select(a => (JsonNode?)new JsonObject
        {
            ["name"] = a.Name,
            ["contentType"] = a.ContentType,
            ["size"] = a.Content?.Length ?? a.Size,
            ["url"] = a.SourceUri,
            ["contentBase64"] = a.Content is { } bytes ? Convert.ToBase64String(bytes.Span) : null,
        }).ToArray()),
        ["sentAt"] = _time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture),
    };

    private MessageAttachment Attachment(JsonObject node)
    {
        var name = Str(node, "name") ?? throw new FormatException("attachment \"name\" is required.");
        var contentType = Str(node, "contentType") ?? "application/octet-stream";
        if (Str(node, "contentBase64") is { } base64)
        {
            // Check the decoded size before decoding: base64 carries 3 bytes per 4 characters.
            Options.Attachments.EnsureAllowed(name, Math.Max(0, (base64.Length / 4 * 3) - 2));
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                throw new FormatException($"attachment '{name}' has invalid contentBase64.");
            }

            Options.Attachments.EnsureAllowed(name, bytes.Length);
            return new MessageAttachment { Name = name, ContentType = contentType, Size = bytes.Length, Content = bytes };
        }

        var url = Str(node, "url") ?? throw new FormatException($"attachment '{name}' needs \"contentBase64\" or \"url\".");
        var size = node["size"]?.GetValueKind() == JsonValueKind.Number ? node["size"]!.GetValue<long>() : -1;
        Options.Attachments.EnsureAllowed(name, size);
        return new MessageAttachment { Name = name, ContentType = contentType, Size = size, SourceUri = url };
    }

    private static string? Str(JsonObject json, string key) => json[key] switch
    {
        null => null,
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonValue value when value.GetValueKind() == JsonValueKind.Number => value.ToJsonString(),
        _ => throw new FormatException($"\"{key}\" must be a string."),
    };
}
