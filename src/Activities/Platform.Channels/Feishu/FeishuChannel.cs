using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Channels.Http;
using Platform.Channels.Webhooks;

namespace Platform.Channels.Feishu;

/// <summary>
/// Settings of one Feishu / Lark bot (飞书开放平台 → 开发者后台 → 企业自建应用): 凭证与基础信息 (App ID, App Secret) and
/// 事件与回调 → 加密策略 (Encrypt Key, Verification Token).
/// </summary>
public sealed record FeishuOptions
{
    /// <summary>The App ID (<c>cli_…</c>).</summary>
    public required string AppId { get; init; }

    /// <summary>The App Secret. Secret.</summary>
    public required string AppSecret { get; init; }

    /// <summary>The Verification Token: events must carry it. Secret.</summary>
    public string? VerificationToken { get; init; }

    /// <summary>The Encrypt Key: events come encrypted and signed (<c>X-Lark-Signature</c>). Recommended. Secret.</summary>
    public string? EncryptKey { get; init; }

    /// <summary>The Open API base URL: <c>https://open.feishu.cn/</c>, for Lark <c>https://open.larksuite.com/</c>.</summary>
    public Uri ApiBaseUrl { get; init; } = new("https://open.feishu.cn/");

    /// <summary>How far <c>X-Lark-Request-Timestamp</c> may be from now.</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest text per message (a card's markdown takes about 30 KB; long answers are split).</summary>
    public int MaxMessageLength { get; init; } = 8000;

    /// <summary>The attachment limits.</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>Timeout of one API call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// One Feishu / Lark bot. In: the event subscription (request URL) with the <c>url_verification</c> challenge, the
/// Encrypt Key mode (AES-256-CBC, key SHA256 of the Encrypt Key, IV the first 16 bytes) with the
/// <c>X-Lark-Signature</c> check (SHA256 of timestamp + nonce + Encrypt Key + body) and each signature accepted once,
/// the Verification Token, event v2.0 <c>im.message.receive_v1</c> and card button callbacks
/// (<c>card.action.trigger</c>). Out: <c>POST /open-apis/im/v1/messages?receive_id_type=chat_id</c> with a
/// <c>tenant_access_token</c> (cached; fetched again when refused): Markdown as a <c>post</c> with an <c>md</c> element,
/// quick replies as an interactive card with buttons.
/// </summary>
public sealed class FeishuChannel : IChannelSender
{
    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "X-Lark-Signature";

    /// <summary>The timestamp header.</summary>
    public const string TimestampHeader = "X-Lark-Request-Timestamp";

    /// <summary>The nonce header.</summary>
    public const string NonceHeader = "X-Lark-Request-Nonce";

    /// <summary>Codes of a missing, invalid or expired tenant_access_token.</summary>
    private static readonly HashSet<long> TokenErrors = [99991661, 99991663, 99991664, 99991665, 99991668, 99991677];

    /// <summary>Codes worth retrying: the frequency limit and internal errors.</summary>
    private static readonly HashSet<long> BusyErrors = [99991400, 99991401, 230020, 1500, 55001, 1000004];

    private readonly HttpClient _http;
    private readonly IReplayCache _replays;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AccessTokenCache _tokens;

    /// <summary>Creates the channel.</summary>
    public FeishuChannel(string channelName, FeishuOptions options, HttpClient http, IReplayCache replays, TimeProvider? time = null,
        ILogger<FeishuChannel>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        ArgumentException.ThrowIfNullOrEmpty(options.AppId);
        ArgumentException.ThrowIfNullOrEmpty(options.AppSecret);
        if (string.IsNullOrEmpty(options.EncryptKey) && string.IsNullOrEmpty(options.VerificationToken))
        {
            throw new ArgumentException("A Feishu channel needs the encryptKey (recommended) or the verificationToken (事件与回调 → 加密策略): otherwise anyone could post events.", nameof(options));
        }

        ChannelName = channelName;
        Options = options;
        _http = http;
        _replays = replays;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<FeishuChannel>.Instance;
        _tokens = new AccessTokenCache(FetchTokenAsync, _time);
    }

    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Feishu;

    /// <inheritdoc />
    public string ChannelName { get; }

    /// <summary>The options.</summary>
    public FeishuOptions Options { get; }

    /// <summary>The number of tenant_access_tokens fetched so far.</summary>
    public int TokenFetches => _tokens.Fetches;

    /// <summary>The signature Feishu sends: hex SHA256 of timestamp + nonce + encrypt key + body.</summary>
    public static string Sign(string timestamp, string nonce, string encryptKey, string body) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(timestamp + nonce + encryptKey + body)));

    /// <summary>Encrypts a payload as Feishu does (for tests and tools): base64 of IV + AES-256-CBC(PKCS#7).</summary>
    public static string Encrypt(string encryptKey, string plaintext, byte[]? iv = null)
    {
        using var aes = Aes.Create();
        aes.Key = SHA256.HashData(Encoding.UTF8.GetBytes(encryptKey));
        iv ??= RandomNumberGenerator.GetBytes(16);
        return Convert.ToBase64String([.. iv, .. aes.EncryptCbc(Encoding.UTF8.GetBytes(plaintext), iv, PaddingMode.PKCS7)]);
    }

    /// <summary>Decrypts an <c>encrypt</c> field.</summary>
    /// <exception cref="CryptographicException">Wrong key or tampered.</exception>
    /// <exception cref="FormatException">Not base64 or too short.</exception>
    public static string Decrypt(string encryptKey, string encrypted)
    {
        var bytes = Convert.FromBase64String(encrypted);
        if (bytes.Length < 32 || bytes.Length % 16 != 0)
        {
            throw new FormatException("The encrypted event is too short.");
        }

        using var aes = Aes.Create();
        aes.Key = SHA256.HashData(Encoding.UTF8.GetBytes(encryptKey));
        var plain = aes.DecryptCbc(bytes.AsSpan(16), bytes.AsSpan(0, 16), PaddingMode.PKCS7);
        return new UTF8Encoding(false, true).GetString(plain);
    }

    /// <summary>
    /// Verifies and parses one delivery to the request URL (events and card callbacks alike). Pass the raw body and the
    /// <c>X-Lark-*</c> headers.
    /// </summary>
    public async Task<InboundResult> HandleEventAsync(string body, string? timestamp, string? nonce, string? signature,
        CancellationToken cancellationToken = default)
    {
        JsonObject? envelope;
        try
        {
            envelope = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException exception)
        {
            return Log(InboundResult.Reject(RejectionReason.MalformedPayload, $"The Feishu event body is not valid JSON: {exception.Message}"));
        }

        if (envelope is null)
        {
            return Log(InboundResult.Reject(RejectionReason.MalformedPayload, "The Feishu event body is not a JSON object."));
        }

        var signed = false;
        if (!string.IsNullOrEmpty(Options.EncryptKey))
        {
            if (Str(envelope["encrypt"]) is not { } encrypted)
            {
                return Log(InboundResult.Reject(RejectionReason.MissingSignature, "The channel has an encryptKey but the event is not encrypted (set the same Encrypt Key in 加密策略)."));
            }

            try
            {
                envelope = JsonNode.Parse(Decrypt(Options.EncryptKey, encrypted)) as JsonObject;
            }
            catch (Exception exception) when (exception is CryptographicException or FormatException or JsonException or DecoderFallbackException)
            {
                return Log(InboundResult.Reject(RejectionReason.InvalidSignature, "The event cannot be decrypted with this encryptKey (wrong Encrypt Key, or a tampered body)."));
            }

            if (envelope is null)
            {
                return Log(InboundResult.Reject(RejectionReason.MalformedPayload, "The decrypted event is not a JSON object."));
            }

            if (Str(envelope["type"]) != "url_verification")
            {
                if (Verify(body, timestamp, nonce, signature) is { } refused)
                {
                    return Log(refused);
                }

                signed = true;
            }
        }

        var token = Str(envelope["header"]?["token"]) ?? Str(envelope["token"]) ?? Str(envelope["event"]?["token"]);
        if (!string.IsNullOrEmpty(Options.VerificationToken)
            && !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token ?? ""), Encoding.UTF8.GetBytes(Options.VerificationToken)))
        {
            return Log(InboundResult.Reject(string.IsNullOrEmpty(token) ? RejectionReason.MissingSignature : RejectionReason.InvalidSignature,
                "The event's token does not match the Verification Token (事件与回调 → 加密策略)."));
        }

        if (Str(envelope["type"]) == "url_verification")
        {
            return Str(envelope["challenge"]) is { } challenge
                ? new InboundResult { Status = InboundStatus.Challenge, ResponseBody = new JsonObject { ["challenge"] = challenge }.ToJsonString(), ResponseContentType = "application/json" }
                : Log(InboundResult.Reject(RejectionReason.MalformedPayload, "url_verification without a challenge."));
        }

        if (signed && !await _replays.TryRegisterAsync($"feishu:{ChannelName}:{signature}", _time.GetUtcNow() + (Options.MaxClockSkew * 2), cancellationToken))
        {
            return Log(InboundResult.Reject(RejectionReason.Replay, "This signed event was already received (X-Lark-Signature seen before)."));
        }

        var type = Str(envelope["header"]?["event_type"]) ?? Str(envelope["event"]?["type"]) ?? (envelope["action"] is not null ? "card.action.trigger" : null);
        return Log(type switch
        {
            "im.message.receive_v1" => ParseMessage(envelope, body),
            "card.action.trigger" => ParseCardAction(envelope, body),
            null => InboundResult.Reject(RejectionReason.MalformedPayload, "The Feishu event has no header.event_type (subscribe with schema 2.0)."),
            _ => InboundResult.Ignore($"Feishu event '{type}' is not processed.", "{}", "application/json"),
        });
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ArgumentNullException.ThrowIfNull(message);
        var markdown = message.Text;
        foreach (var attachment in message.Attachments)
        {
            if (!Uri.TryCreate(attachment.SourceUri, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                return SendResult.Permanent($"Attachment '{attachment.Name}' has no http(s) URL; the Feishu adapter sends files as links.", "attachment_upload_unsupported");
            }

            markdown += $"\n\n[{attachment.Name.Replace("]", "", StringComparison.Ordinal)}]({attachment.SourceUri})";
        }

        var parts = Split(markdown.Trim(), Options.MaxMessageLength);
        if (parts.Count == 0)
        {
            return SendResult.Permanent("The message has no text.", "no_text");
        }

        var result = await PartSender.SendAsync(parts.Count, message.SkipParts, async (index, ct) =>
        {
            var last = index == parts.Count - 1;
            var (type, content) = last && message.QuickReplies.Count > 0 ? ("interactive", Card(parts[index], message.QuickReplies)) : ("post", Post(parts[index]));
            var payload = new JsonObject { ["receive_id"] = recipient, ["msg_type"] = type, ["content"] = content.ToJsonString() };
            if (message.IdempotencyKey is { Length: > 0 } key)
            {
                payload["uuid"] = $"{key}-{index}".Length <= 50 ? $"{key}-{index}" : Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"{key}-{index}")));
            }

            var path = "open-apis/im/v1/messages?receive_id_type=" + (recipient.StartsWith("ou_", StringComparison.Ordinal) ? "open_id" : "chat_id");
            return await PostAsync(path, payload, ct);
        }, cancellationToken);
        if (!result.IsSuccess)
        {
            _logger.LogWarning("Feishu channel {Channel}: sending to {Recipient} failed: {Result}", ChannelName, recipient, result);
        }

        return result;
    }

    /// <summary>Rich text: one paragraph with an <c>md</c> element (Feishu renders the Markdown subset it knows).</summary>
    private static JsonObject Post(string markdown) => new()
    {
        ["zh_cn"] = new JsonObject
        {
            ["content"] = new JsonArray(new JsonArray(new JsonObject { ["tag"] = "md", ["text"] = markdown })),
        },
    };

    /// <summary>A card: the text as card markdown, and one button per quick reply whose value comes back in the callback.</summary>
    private static JsonObject Card(string markdown, IReadOnlyList<QuickReply> replies) => new()
    {
        ["config"] = new JsonObject { ["wide_screen_mode"] = true, ["update_multi"] = false },
        ["elements"] = new JsonArray(
            new JsonObject { ["tag"] = "markdown", ["content"] = markdown },
            new JsonObject
            {
                ["tag"] = "action",
                ["actions"] = new JsonArray(replies.Take(20).Select((q, i) => (JsonNode?)new JsonObject
                {
                    ["tag"] = "button",
                    ["text"] = new JsonObject { ["tag"] = "plain_text", ["content"] = q.Label },
                    ["type"] = i == 0 ? "primary" : "default",
                    ["value"] = new JsonObject { ["text"] = q.Value },
                }).ToArray()),
            }),
    };

    private static List<string> Split(string text, int max)
    {
        var parts = new List<string>();
        while (text.Length > max)
        {
            var cut = text.LastIndexOf('\n', max - 1, max / 2);
            cut = cut <= 0 ? max : cut;
            parts.Add(text[..cut].TrimEnd());
            text = text[cut..].TrimStart('\n');
        }

        if (text.Length > 0)
        {
            parts.Add(text);
        }

        return parts;
    }

    private async Task<(string? MessageId, SendResult? Failure)> PostAsync(string path, JsonObject payload, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var (token, tokenFailure) = await _tokens.GetAsync(cancellationToken);
            if (token is null)
            {
                return (null, tokenFailure);
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, ChannelHttp.Combine(Options.ApiBaseUrl, path))
            {
                Content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            var (reply, failure) = await ChannelHttp.SendAsync(_http, request, Options.RequestTimeout, "Feishu", _time, cancellationToken);
            if (reply is null)
            {
                return (null, failure);
            }

            var (code, msg, body) = Code(reply.Body);
            if (reply.IsSuccess && code == 0)
            {
                return (Str(body?["data"]?["message_id"]), null);
            }

            if (TokenErrors.Contains(code) && attempt == 0)
            {
                _logger.LogInformation("Feishu channel {Channel}: the tenant_access_token was refused (code {Code}); fetching a new one.", ChannelName, code);
                _tokens.Invalidate(token);
                continue;
            }

            var retryable = BusyErrors.Contains(code) || reply.StatusCode is 429 or >= 500;
            return (null, new SendResult
            {
                Status = retryable ? SendStatus.RetryableFailure : SendStatus.PermanentFailure,
                Error = $"Feishu {path.Split('?')[0]}: HTTP {reply.StatusCode}, code {code} {msg}" + (code == 230002 ? " (the bot is not in this chat: add it to the group)" : ""),
                ErrorCode = code.ToString(CultureInfo.InvariantCulture),
                HttpStatusCode = reply.StatusCode,
                RetryAfter = reply.RetryAfter ?? (code == 99991400 ? TimeSpan.FromSeconds(1) : null),
            });
        }
    }

    private async Task<(string? Token, TimeSpan Lifetime, SendResult? Failure)> FetchTokenAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ChannelHttp.Combine(Options.ApiBaseUrl, "open-apis/auth/v3/tenant_access_token/internal"))
        {
            Content = new StringContent(new JsonObject { ["app_id"] = Options.AppId, ["app_secret"] = Options.AppSecret }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        var (reply, failure) = await ChannelHttp.SendAsync(_http, request, Options.RequestTimeout, "Feishu", _time, cancellationToken);
        if (reply is null)
        {
            return (null, default, failure);
        }

        var (code, msg, body) = Code(reply.Body);
        if (!reply.IsSuccess || code != 0 || Str(body?["tenant_access_token"]) is not { Length: > 0 } token)
        {
            var error = $"Feishu could not issue a tenant_access_token: HTTP {reply.StatusCode}, code {code} {msg} (check appId and appSecret in 凭证与基础信息).";
            _logger.LogWarning("Feishu channel {Channel}: {Error}", ChannelName, error);
            return (null, default, new SendResult
            {
                Status = reply.StatusCode is 429 or >= 500 || BusyErrors.Contains(code) ? SendStatus.RetryableFailure : SendStatus.PermanentFailure,
                Error = error, ErrorCode = code.ToString(CultureInfo.InvariantCulture), HttpStatusCode = reply.StatusCode,
            });
        }

        var seconds = body!["expire"]?.GetValueKind() == JsonValueKind.Number ? body["expire"]!.GetValue<long>() : 7200;
        return (token, TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 86_400)), null);
    }

    private InboundResult? Verify(string body, string? timestamp, string? nonce, string? signature)
    {
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(nonce) || string.IsNullOrEmpty(signature))
        {
            return InboundResult.Reject(RejectionReason.MissingSignature, $"The {SignatureHeader}, {TimestampHeader} or {NonceHeader} header is missing.");
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature, $"{TimestampHeader} '{timestamp}' is not a Unix time.");
        }

        var expected = Encoding.ASCII.GetBytes(Sign(timestamp, nonce, Options.EncryptKey!, body));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(signature.Trim().ToLowerInvariant())))
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature, $"{SignatureHeader} does not match the body (wrong Encrypt Key, or a modified body).");
        }

        var skew = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        return skew.Duration() > Options.MaxClockSkew
            ? InboundResult.Reject(RejectionReason.StaleTimestamp, $"{TimestampHeader} is {Math.Abs(skew.TotalSeconds):0} s away from now; at most {Options.MaxClockSkew.TotalSeconds:0} s is accepted (replayed, or a wrong clock).")
            : null;
    }

    private InboundResult ParseMessage(JsonObject envelope, string raw)
    {
        var e = envelope["event"] as JsonObject;
        var message = e?["message"] as JsonObject;
        var sender = e?["sender"] as JsonObject;
        var messageId = Str(message?["message_id"]);
        var chatId = Str(message?["chat_id"]);
        var openId = Str(sender?["sender_id"]?["open_id"]) ?? Str(sender?["sender_id"]?["user_id"]);
        if (messageId is null || chatId is null || openId is null)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "im.message.receive_v1 lacks message.message_id, message.chat_id or sender.sender_id.open_id.");
        }

        if (Str(sender?["sender_type"]) is { } senderType && senderType != "user")
        {
            return InboundResult.Ignore($"Feishu message from a {senderType}.", "{}", "application/json");
        }

        JsonObject? content;
        try
        {
            content = JsonNode.Parse(Str(message!["content"]) ?? "{}") as JsonObject;
        }
        catch (JsonException exception)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, $"message.content is not JSON: {exception.Message}");
        }

        var type = Str(message["message_type"]) ?? "text";
        var text = "";
        var attachments = new List<MessageAttachment>();
        MessageAttachment Resource(string key, string name, string contentType, string kind) => new()
        {
            Name = name,
            ContentType = contentType,
            SourceUri = ChannelHttp.Combine(Options.ApiBaseUrl, $"open-apis/im/v1/messages/{Uri.EscapeDataString(messageId)}/resources/{Uri.EscapeDataString(key)}?type={kind}").ToString(),
            BlobReference = $"feishu-{kind}:{key}",
        };
        switch (type)
        {
            case "text":
                text = Str(content?["text"]) ?? "";
                foreach (var mention in message["mentions"] as JsonArray ?? [])
                {
                    if (Str(mention?["key"]) is { Length: > 0 } key)
                    {
                        text = text.Replace(key, "", StringComparison.Ordinal);
                    }
                }

                break;
            case "image" when Str(content?["image_key"]) is { } imageKey:
                attachments.Add(Resource(imageKey, "image.png", "image/png", "image"));
                break;
            case "file" or "audio" or "media" when Str(content?["file_key"]) is { } fileKey:
                attachments.Add(Resource(fileKey, Str(content?["file_name"]) ?? type, "application/octet-stream", "file"));
                break;
            case "post":
                text = PostText(content);
                break;
            default:
                return InboundResult.Ignore($"Feishu message type '{type}' is not processed.", "{}", "application/json");
        }

        var metadata = new Dictionary<string, string> { ["feishu.message_type"] = type, ["feishu.chat_type"] = Str(message["chat_type"]) ?? "" };
        if (Str(envelope["header"]?["event_id"]) is { } eventId)
        {
            metadata["feishu.event_id"] = eventId;
        }

        DateTimeOffset? sentAt = long.TryParse(Str(message["create_time"]), NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(Math.Clamp(ms, 0, 253402300799000)) : null;
        var parent = Str(message["parent_id"]);
        return InboundResult.Accept(new IncomingMessage
        {
            ChannelKind = ChannelKind.Feishu,
            ChannelName = ChannelName,
            ChannelMessageId = messageId,
            Conversation = new ConversationId(ChannelKind.Feishu, ChannelName, chatId),
            Sender = new ChannelUser(openId),
            Text = text.Trim(),
            Attachments = attachments,
            ReplyToChannelMessageId = string.IsNullOrEmpty(parent) ? null : parent,
            ReceivedAt = _time.GetUtcNow(),
            SentAt = sentAt,
            RawPayload = raw,
            Metadata = metadata,
        }, "{}", "application/json");
    }

    private InboundResult ParseCardAction(JsonObject envelope, string raw)
    {
        var e = envelope["event"] as JsonObject ?? envelope;
        var value = e["action"]?["value"];
        var text = value is JsonObject o ? Str(o["text"]) : Str(value);
        var openId = Str(e["operator"]?["open_id"]) ?? Str(e["open_id"]);
        var chatId = Str(e["context"]?["open_chat_id"]) ?? Str(e["open_chat_id"]);
        var messageId = Str(e["context"]?["open_message_id"]) ?? Str(e["open_message_id"]);
        if (text is null || openId is null || chatId is null)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "The card callback lacks action.value.text, operator.open_id or context.open_chat_id.");
        }

        var id = Str(envelope["header"]?["event_id"]) ?? $"{messageId}:{openId}:{text}";
        return InboundResult.Accept(new IncomingMessage
        {
            ChannelKind = ChannelKind.Feishu,
            ChannelName = ChannelName,
            ChannelMessageId = "action:" + id,
            Conversation = new ConversationId(ChannelKind.Feishu, ChannelName, chatId),
            Sender = new ChannelUser(openId),
            Text = text,
            ReplyToChannelMessageId = messageId,
            ReceivedAt = _time.GetUtcNow(),
            RawPayload = raw,
            Metadata = new Dictionary<string, string> { ["feishu.event_type"] = "card.action.trigger" },
        }, new JsonObject { ["toast"] = new JsonObject { ["type"] = "success", ["content"] = text } }.ToJsonString(), "application/json");
    }

    private static string PostText(JsonObject? content)
    {
        var body = content?["zh_cn"] as JsonObject ?? content?["en_us"] as JsonObject ?? content;
        var builder = new StringBuilder();
        foreach (var line in body?["content"] as JsonArray ?? [])
        {
            foreach (var element in line as JsonArray ?? [])
            {
                builder.Append(Str(element?["text"]));
            }

            builder.Append('\n');
        }

        return builder.ToString();
    }

    private static (long Code, string Msg, JsonObject? Body) Code(string text)
    {
        try
        {
            if (JsonNode.Parse(text) is JsonObject body)
            {
                return (body["code"]?.GetValueKind() == JsonValueKind.Number ? body["code"]!.GetValue<long>() : 0, Str(body["msg"]) ?? "", body);
            }
        }
        catch (JsonException)
        {
        }

        return (-1, "the answer is not JSON", null);
    }

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    private InboundResult Log(InboundResult result)
    {
        if (result.Status == InboundStatus.Rejected)
        {
            _logger.LogWarning("Feishu channel {Channel} rejected a delivery ({Reason}): {Error}", ChannelName, result.Reason, result.Error);
        }

        return result;
    }
}
