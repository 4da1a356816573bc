using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using System.Xml.Linq;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Channels.Http;
using Platform.Channels.Rendering;
using Platform.Channels.Webhooks;

namespace Platform.Channels.WeChat;

/// <summary>The query parameters WeChat and WeCom put on a callback URL.</summary>
/// <param name="Signature"><c>signature</c> (Official Account: SHA1 of token, timestamp, nonce).</param>
/// <param name="Timestamp"><c>timestamp</c> (Unix seconds).</param>
/// <param name="Nonce"><c>nonce</c>.</param>
/// <param name="MsgSignature"><c>msg_signature</c> (encrypted mode: SHA1 of token, timestamp, nonce and the encrypted text).</param>
/// <param name="EncryptType"><c>encrypt_type</c> (<c>aes</c> in the safe and compatible modes of an Official Account).</param>
/// <param name="EchoStr"><c>echostr</c> (URL verification).</param>
public sealed record WeChatCallback(string? Signature, string? Timestamp, string? Nonce, string? MsgSignature = null, string? EncryptType = null,
    string? EchoStr = null);

/// <summary>
/// One WeChat Official Account (微信公众号) or WeCom (企业微信) app. In: URL verification (GET with <c>echostr</c>) and
/// XML message callbacks, plaintext or encrypted (AES, <see cref="WeChatCrypto"/>), signatures checked, timestamps
/// within <see cref="WeChatOptions.MaxClockSkew"/> and each (timestamp, nonce) accepted once. Out: a passive XML reply
/// (<see cref="PassiveReply"/>) when the answer is ready while WeChat waits, otherwise the customer-service API
/// (<c>POST /cgi-bin/message/custom/send</c>) or WeCom's <c>POST /cgi-bin/message/send</c>, with the access token cached
/// until it expires and fetched again on errcode 40001/40014/42001.
/// </summary>
public sealed class WeChatChannel : IChannelSender
{
    /// <summary>The answer WeChat expects when there is no passive reply.</summary>
    public const string Success = "success";

    /// <summary>errcodes of an invalid or expired access token.</summary>
    private static readonly HashSet<long> TokenErrors = [40001, 40014, 42001, 41001];

    /// <summary>errcodes worth retrying later: system busy (-1), frequency limits (45009, 45033), 45011 (API minute quota).</summary>
    private static readonly HashSet<long> BusyErrors = [-1, 45009, 45011, 45033];

    private static readonly XmlReaderSettings SafeXml = new()
    {
        DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = 2_000_000, IgnoreComments = true,
    };

    private readonly HttpClient _http;
    private readonly IReplayCache _replays;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AccessTokenCache _tokens;

    /// <summary>Creates the channel.</summary>
    public WeChatChannel(string channelName, WeChatOptions options, HttpClient http, IReplayCache replays, TimeProvider? time = null,
        ILogger<WeChatChannel>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        ArgumentException.ThrowIfNullOrEmpty(options.AppId);
        ArgumentException.ThrowIfNullOrEmpty(options.Secret);
        ArgumentException.ThrowIfNullOrEmpty(options.Token);
        if (options.Kind is not (ChannelKind.WeChat or ChannelKind.WeCom))
        {
            throw new ArgumentException("A WeChat channel is of kind WeChat or WeCom.", nameof(options));
        }

        if (options.EncodingAesKey is { Length: > 0 } key)
        {
            WeChatCrypto.Key(key);
        }
        else if (options.Kind == ChannelKind.WeCom)
        {
            throw new ArgumentException("A WeCom channel needs the encodingAesKey (接收消息 → EncodingAESKey): WeCom always encrypts its callbacks.", nameof(options));
        }

        if (options.Kind == ChannelKind.WeCom && !int.TryParse(options.AgentId, NumberStyles.None, CultureInfo.InvariantCulture, out _))
        {
            throw new ArgumentException($"A WeCom channel needs the app's numeric agentId (应用管理 → AgentId), not '{options.AgentId}'.", nameof(options));
        }

        ChannelName = channelName;
        Options = options;
        _http = http;
        _replays = replays;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<WeChatChannel>.Instance;
        _tokens = new AccessTokenCache(FetchTokenAsync, _time);
    }

    /// <inheritdoc />
    public ChannelKind Kind => Options.Kind;

    /// <inheritdoc />
    public string ChannelName { get; }

    /// <summary>The options.</summary>
    public WeChatOptions Options { get; }

    /// <summary>The number of access tokens fetched so far.</summary>
    public int TokenFetches => _tokens.Fetches;

    private string Service => Kind == ChannelKind.WeCom ? "WeCom" : "WeChat";

    private bool Encrypted => !string.IsNullOrEmpty(Options.EncodingAesKey);

    /// <summary>
    /// The URL verification (GET): an Official Account signs token, timestamp and nonce (<c>signature</c>) and gets
    /// <c>echostr</c> back as it is; WeCom signs them with the encrypted <c>echostr</c> (<c>msg_signature</c>) and gets it
    /// back decrypted.
    /// </summary>
    public InboundResult HandleVerification(WeChatCallback query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (string.IsNullOrEmpty(query.EchoStr))
        {
            return Log(InboundResult.Reject(RejectionReason.MalformedPayload, "The verification request has no echostr."));
        }

        if (CheckTimestamp(query) is { } stale)
        {
            return Log(stale);
        }

        if (Kind == ChannelKind.WeChat)
        {
            return WeChatCrypto.Verify(query.Signature, Options.Token, query.Timestamp!, query.Nonce ?? "")
                ? new InboundResult { Status = InboundStatus.Challenge, ResponseBody = query.EchoStr, ResponseContentType = "text/plain" }
                : Log(InboundResult.Reject(string.IsNullOrEmpty(query.Signature) ? RejectionReason.MissingSignature : RejectionReason.InvalidSignature,
                    "The signature does not match (check the Token in 基本配置 → 服务器配置)."));
        }

        if (!WeChatCrypto.Verify(query.MsgSignature, Options.Token, query.Timestamp!, query.Nonce ?? "", query.EchoStr))
        {
            return Log(InboundResult.Reject(string.IsNullOrEmpty(query.MsgSignature) ? RejectionReason.MissingSignature : RejectionReason.InvalidSignature,
                "The msg_signature does not match (check the Token of 接收消息)."));
        }

        return Decrypt(query.EchoStr) is { } plain
            ? new InboundResult { Status = InboundStatus.Challenge, ResponseBody = plain, ResponseContentType = "text/plain" }
            : Log(InboundResult.Reject(RejectionReason.InvalidSignature, "The echostr cannot be decrypted with this EncodingAESKey for this CorpID."));
    }

    /// <summary>
    /// Verifies and parses one message callback (POST). Text, image, voice, video, file, location and link messages and
    /// menu clicks are accepted (<see cref="IncomingMessage.ChannelMessageId"/> is the <c>MsgId</c>, or sender and
    /// <c>CreateTime</c> for events); other events are ignored. The response body is <see cref="Success"/>.
    /// </summary>
    public async Task<InboundResult> HandleMessageAsync(WeChatCallback query, string body, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (CheckTimestamp(query) is { } stale)
        {
            return Log(stale);
        }

        XElement outer;
        try
        {
            outer = ParseXml(body);
        }
        catch (XmlException exception)
        {
            return Log(InboundResult.Reject(RejectionReason.MalformedPayload, $"The {Service} callback body is not valid XML: {exception.Message}"));
        }

        var encrypt = (string?)outer.Element("Encrypt");
        var encryptedMode = Kind == ChannelKind.WeCom || string.Equals(query.EncryptType, "aes", StringComparison.OrdinalIgnoreCase);
        XElement xml;
        if (encryptedMode)
        {
            if (!Encrypted)
            {
                return Log(InboundResult.Reject(RejectionReason.InvalidSignature,
                    "The callback is encrypted (encrypt_type=aes) but the channel has no encodingAesKey: set it, or choose 明文模式 in the console."));
            }

            if (string.IsNullOrEmpty(encrypt))
            {
                return Log(InboundResult.Reject(RejectionReason.MalformedPayload, "The encrypted callback has no <Encrypt> element."));
            }

            if (!WeChatCrypto.Verify(query.MsgSignature, Options.Token, query.Timestamp!, query.Nonce ?? "", encrypt))
            {
                return Log(InboundResult.Reject(string.IsNullOrEmpty(query.MsgSignature) ? RejectionReason.MissingSignature : RejectionReason.InvalidSignature,
                    "The msg_signature does not match the encrypted message (wrong Token, or a modified body)."));
            }

            if (Decrypt(encrypt) is not { } inner)
            {
                return Log(InboundResult.Reject(RejectionReason.InvalidSignature, $"The message cannot be decrypted with this EncodingAESKey for {Options.AppId}."));
            }

            try
            {
                xml = ParseXml(inner);
            }
            catch (XmlException exception)
            {
                return Log(InboundResult.Reject(RejectionReason.MalformedPayload, $"The decrypted message is not valid XML: {exception.Message}"));
            }
        }
        else
        {
            if (Encrypted && Options.Kind == ChannelKind.WeChat && query.EncryptType is null && encrypt is not null)
            {
                return Log(InboundResult.Reject(RejectionReason.MalformedPayload, "An <Encrypt> body without encrypt_type=aes."));
            }

            if (!WeChatCrypto.Verify(query.Signature, Options.Token, query.Timestamp!, query.Nonce ?? ""))
            {
                return Log(InboundResult.Reject(string.IsNullOrEmpty(query.Signature) ? RejectionReason.MissingSignature : RejectionReason.InvalidSignature,
                    "The signature does not match (check the Token in 基本配置 → 服务器配置)."));
            }

            xml = outer;
        }

        // Each signed (timestamp, nonce) is taken once: a captured callback cannot be sent again.
        var replayKey = $"{Kind}:{ChannelName}:{query.Timestamp}:{query.Nonce}:{query.MsgSignature ?? query.Signature}";
        if (!await _replays.TryRegisterAsync(replayKey, _time.GetUtcNow() + (Options.MaxClockSkew * 2), cancellationToken))
        {
            return Log(InboundResult.Reject(RejectionReason.Replay, "This signed callback (timestamp and nonce) was already received."));
        }

        return Log(Parse(xml, body, encryptedMode));
    }

    /// <summary>Whether <paramref name="message"/> can go back as a passive reply: one plain text part, no attachments.</summary>
    public bool CanReplyPassively(OutgoingMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message.SkipParts == 0 && message.Attachments.Count == 0
            && MessageRenderer.RenderParts(WithQuickReplies(message), TextFormat.PlainText, Options.MaxMessageLength).Count == 1;
    }

    /// <summary>
    /// The passive reply (被动回复) to <paramref name="incoming"/>: a text message XML, encrypted and signed
    /// (<c>Encrypt</c>, <c>MsgSignature</c>, <c>TimeStamp</c>, <c>Nonce</c>) when the callback was encrypted. Quick
    /// replies are listed under the text (a passive reply has no menu).
    /// </summary>
    public string PassiveReply(IncomingMessage incoming, OutgoingMessage reply, string? nonce = null)
    {
        ArgumentNullException.ThrowIfNull(incoming);
        ArgumentNullException.ThrowIfNull(reply);
        var now = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var text = MessageRenderer.RenderParts(WithQuickReplies(reply), TextFormat.PlainText, Options.MaxMessageLength).FirstOrDefault() ?? "";
        var to = incoming.Metadata.TryGetValue("wechat.to", out var account) ? account : Options.AppId;
        var xml = new XElement("xml",
            new XElement("ToUserName", new XCData(incoming.Sender.Id)),
            new XElement("FromUserName", new XCData(to)),
            new XElement("CreateTime", now),
            new XElement("MsgType", new XCData("text")),
            new XElement("Content", new XCData(text))).ToString(SaveOptions.DisableFormatting);
        if (!(incoming.Metadata.TryGetValue("wechat.encrypted", out var encrypted) && encrypted == "true"))
        {
            return xml;
        }

        nonce ??= Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var cipher = WeChatCrypto.Encrypt(Options.EncodingAesKey!, Options.AppId, xml);
        return new XElement("xml",
            new XElement("Encrypt", new XCData(cipher)),
            new XElement("MsgSignature", new XCData(WeChatCrypto.Signature(Options.Token, now, nonce, cipher))),
            new XElement("TimeStamp", now),
            new XElement("Nonce", new XCData(nonce))).ToString(SaveOptions.DisableFormatting);
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        ArgumentNullException.ThrowIfNull(message);
        var markdown = message.Text;
        foreach (var attachment in message.Attachments)
        {
            if (!AttachmentPolicy.IsHttpUrl(attachment.SourceUri))
            {
                return SendResult.Permanent($"Attachment '{attachment.Name}' has no http(s) URL; the {Service} adapter sends files as links.",
                    "attachment_upload_unsupported");
            }

            markdown += $"\n\n[{attachment.Name.Replace("]", "", StringComparison.Ordinal)}]({attachment.SourceUri})";
        }

        var menu = Kind == ChannelKind.WeChat && message.QuickReplies.Count > 0;
        var parts = MessageRenderer.RenderParts(menu ? markdown : WithQuickReplies(message with { Text = markdown }), TextFormat.PlainText,
            Options.MaxMessageLength);
        if (parts.Count == 0)
        {
            return SendResult.Permanent("The message has no text.", "no_text");
        }

        var result = await PartSender.SendAsync(parts.Count, message.SkipParts, async (index, ct) =>
        {
            var payload = new JsonObject { ["touser"] = recipient };
            if (menu && index == parts.Count - 1)
            {
                // 客服消息 msgmenu: the user taps an entry and it comes back as a text message with that content.
                payload["msgtype"] = "msgmenu";
                payload["msgmenu"] = new JsonObject
                {
                    ["head_content"] = parts[index],
                    ["list"] = new JsonArray(message.QuickReplies.Take(10).Select((q, i) => (JsonNode?)new JsonObject
                    {
                        ["id"] = (101 + i).ToString(CultureInfo.InvariantCulture), ["content"] = q.Label,
                    }).ToArray()),
                    ["tail_content"] = "",
                };
            }
            else
            {
                payload["msgtype"] = "text";
                payload["text"] = new JsonObject { ["content"] = parts[index] };
            }

            if (Kind == ChannelKind.WeCom)
            {
                payload["agentid"] = int.Parse(Options.AgentId!, CultureInfo.InvariantCulture);
            }

            return await PostAsync(Kind == ChannelKind.WeCom ? "cgi-bin/message/send" : "cgi-bin/message/custom/send", payload, ct);
        }, cancellationToken);
        if (!result.IsSuccess)
        {
            _logger.LogWarning("{Service} channel {Channel}: sending to {Recipient} failed: {Result}", Service, ChannelName, recipient, result);
        }

        return result;
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

            using var request = new HttpRequestMessage(HttpMethod.Post,
                ChannelHttp.Combine(Options.EffectiveApiBaseUrl, $"{path}?access_token={Uri.EscapeDataString(token)}"))
            {
                Content = new StringContent(payload.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }),
                    Encoding.UTF8, "application/json"),
            };
            var (reply, failure) = await ChannelHttp.SendAsync(_http, request, Options.RequestTimeout, Service, _time, cancellationToken);
            if (reply is null)
            {
                return (null, failure);
            }

            if (!reply.IsSuccess)
            {
                return (null, ChannelHttp.Failure(reply.StatusCode, $"{Service} {path}: HTTP {reply.StatusCode}", reply.StatusCode.ToString(CultureInfo.InvariantCulture), reply.RetryAfter));
            }

            var (code, message, body) = ErrCode(reply.Body);
            if (code == 0)
            {
                return (Str(body?["msgid"]) ?? body?["msgid"]?.ToJsonString() ?? "", null);
            }

            if (TokenErrors.Contains(code) && attempt == 0)
            {
                _logger.LogInformation("{Service} channel {Channel}: the access token was refused (errcode {Code}); fetching a new one.", Service, ChannelName, code);
                _tokens.Invalidate(token);
                continue;
            }

            return (null, new SendResult
            {
                Status = BusyErrors.Contains(code) || TokenErrors.Contains(code) ? SendStatus.RetryableFailure : SendStatus.PermanentFailure,
                Error = $"{Service} {path}: errcode {code} {message}{Hint(code)}",
                ErrorCode = code.ToString(CultureInfo.InvariantCulture),
                HttpStatusCode = reply.StatusCode,
                RetryAfter = code is 45009 or 45011 ? TimeSpan.FromSeconds(60) : null,
            });
        }
    }

    private async Task<(string? Token, TimeSpan Lifetime, SendResult? Failure)> FetchTokenAsync(CancellationToken cancellationToken)
    {
        var query = Kind == ChannelKind.WeCom
            ? $"cgi-bin/gettoken?corpid={Uri.EscapeDataString(Options.AppId)}&corpsecret={Uri.EscapeDataString(Options.Secret)}"
            : $"cgi-bin/token?grant_type=client_credential&appid={Uri.EscapeDataString(Options.AppId)}&secret={Uri.EscapeDataString(Options.Secret)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, ChannelHttp.Combine(Options.EffectiveApiBaseUrl, query));
        var (reply, failure) = await ChannelHttp.SendAsync(_http, request, Options.RequestTimeout, Service, _time, cancellationToken);
        if (reply is null)
        {
            return (null, default, failure);
        }

        var (code, message, body) = ErrCode(reply.Body);
        if (!reply.IsSuccess || code != 0 || Str(body?["access_token"]) is not { Length: > 0 } token)
        {
            var error = $"{Service} could not issue an access token: {(reply.IsSuccess ? $"errcode {code} {message}" : $"HTTP {reply.StatusCode}")}{Hint(code)}";
            _logger.LogWarning("{Service} channel {Channel}: {Error}", Service, ChannelName, error);
            return (null, default, new SendResult
            {
                Status = !reply.IsSuccess || BusyErrors.Contains(code) ? SendStatus.RetryableFailure : SendStatus.PermanentFailure,
                Error = error, ErrorCode = code.ToString(CultureInfo.InvariantCulture), HttpStatusCode = reply.StatusCode,
            });
        }

        var seconds = body!["expires_in"]?.GetValueKind() == JsonValueKind.Number ? body["expires_in"]!.GetValue<long>() : 7200;
        return (token, TimeSpan.FromSeconds(Math.Clamp(seconds, 1, 86_400)), null);
    }

    private string Hint(long code) => code switch
    {
        40013 or 40125 or 40164 or 40001 when Kind == ChannelKind.WeChat =>
            " (check appId and appSecret in 基本配置, and that this server's IP is in the IP白名单)",
        40013 or 40001 or 40091 or 60020 when Kind == ChannelKind.WeCom =>
            " (check corpId, the app's Secret and 企业可信IP)",
        45015 => " (the user has not written to the account in the last 48 hours; 客服消息 can only answer within 48 hours)",
        45047 => " (too many customer-service messages without an answer from the user)",
        _ => "",
    };

    private static (long Code, string Message, JsonObject? Body) ErrCode(string text)
    {
        JsonObject? body = null;
        try
        {
            body = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
        }

        if (body is null)
        {
            return (-2, "the answer is not JSON", null);
        }

        var code = body["errcode"]?.GetValueKind() == JsonValueKind.Number ? body["errcode"]!.GetValue<long>() : 0;
        return (code, Str(body["errmsg"]) ?? "", body);
    }

    private InboundResult Parse(XElement xml, string raw, bool encrypted)
    {
        var from = (string?)xml.Element("FromUserName");
        var to = (string?)xml.Element("ToUserName");
        var type = (string?)xml.Element("MsgType");
        var created = (string?)xml.Element("CreateTime");
        if (string.IsNullOrEmpty(from) || string.IsNullOrEmpty(type))
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "The message lacks FromUserName or MsgType.");
        }

        var msgId = (string?)xml.Element("MsgId") ?? (string?)xml.Element("MsgID");
        var metadata = new Dictionary<string, string> { ["wechat.msg_type"] = type, ["wechat.encrypted"] = encrypted ? "true" : "false" };
        if (to is not null)
        {
            metadata["wechat.to"] = to;
        }

        if ((string?)xml.Element("AgentID") is { Length: > 0 } agent)
        {
            metadata["wecom.agent_id"] = agent;
        }

        var text = "";
        var attachments = new List<MessageAttachment>();
        switch (type)
        {
            case "text":
                text = (string?)xml.Element("Content") ?? "";
                if ((string?)xml.Element("bizmsgmenuid") is { Length: > 0 } menu)
                {
                    metadata["wechat.menu_id"] = menu;
                }

                break;
            case "image":
                attachments.Add(Media(xml, "image.jpg", "image/jpeg", (string?)xml.Element("PicUrl")));
                break;
            case "voice":
                text = (string?)xml.Element("Recognition") ?? "";
                attachments.Add(Media(xml, "voice." + ((string?)xml.Element("Format") ?? "amr"), "audio/amr", null));
                break;
            case "video" or "shortvideo":
                attachments.Add(Media(xml, "video.mp4", "video/mp4", null));
                break;
            case "file":
                attachments.Add(Media(xml, (string?)xml.Element("FileName") ?? "file", "application/octet-stream", null));
                break;
            case "location":
                text = $"{(string?)xml.Element("Label")} ({(string?)xml.Element("Location_X")}, {(string?)xml.Element("Location_Y")})".Trim();
                break;
            case "link":
                text = $"{(string?)xml.Element("Title")} {(string?)xml.Element("Url")}".Trim();
                break;
            case "event":
                var evt = (string?)xml.Element("Event") ?? "";
                metadata["wechat.event"] = evt;
                if (!evt.Equals("CLICK", StringComparison.OrdinalIgnoreCase) && !evt.Equals("click", StringComparison.Ordinal))
                {
                    return InboundResult.Ignore($"{Service} event '{evt}' is not processed.", Success, "text/plain");
                }

                text = (string?)xml.Element("EventKey") ?? "";
                break;
            default:
                return InboundResult.Ignore($"{Service} message type '{type}' is not processed.", Success, "text/plain");
        }

        foreach (var attachment in attachments)
        {
            try
            {
                Options.Attachments.EnsureAllowed(attachment.Name, attachment.Size);
            }
            catch (AttachmentTooLargeException exception)
            {
                return InboundResult.Reject(RejectionReason.AttachmentTooLarge, exception.Message);
            }
        }

        DateTimeOffset? sentAt = long.TryParse(created, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799))
            : null;
        return InboundResult.Accept(new IncomingMessage
        {
            ChannelKind = Kind,
            ChannelName = ChannelName,
            ChannelMessageId = msgId is { Length: > 0 } ? msgId : $"{from}:{created}",
            Conversation = new ConversationId(Kind, ChannelName, from),
            Sender = new ChannelUser(from),
            Text = text.Trim(),
            Attachments = attachments,
            ReceivedAt = _time.GetUtcNow(),
            SentAt = sentAt,
            RawPayload = raw,
            Metadata = metadata,
        }, Success, "text/plain");
    }

    /// <summary>An inbound media file: its MediaId (valid three days; <c>GET /cgi-bin/media/get?media_id=…</c> downloads
    /// it with an access token), or the public PicUrl of an image.</summary>
    private MessageAttachment Media(XElement xml, string name, string contentType, string? url)
    {
        var mediaId = (string?)xml.Element("MediaId") ?? "";
        return new MessageAttachment
        {
            Name = name,
            ContentType = contentType,
            SourceUri = url ?? ChannelHttp.Combine(Options.EffectiveApiBaseUrl, $"cgi-bin/media/get?media_id={Uri.EscapeDataString(mediaId)}").ToString(),
            BlobReference = mediaId.Length > 0 ? $"{Service.ToLowerInvariant()}-media:{mediaId}" : null,
        };
    }

    private string? Decrypt(string encrypted)
    {
        try
        {
            var (message, receiveId) = WeChatCrypto.Decrypt(Options.EncodingAesKey!, encrypted);
            return receiveId == Options.AppId ? message : null;
        }
        catch (Exception exception) when (exception is CryptographicException or FormatException)
        {
            return null;
        }
    }

    private InboundResult? CheckTimestamp(WeChatCallback query)
    {
        if (string.IsNullOrEmpty(query.Timestamp) || string.IsNullOrEmpty(query.Nonce))
        {
            return InboundResult.Reject(RejectionReason.MissingSignature, "The timestamp or nonce query parameter is missing.");
        }

        if (!long.TryParse(query.Timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature, $"The timestamp '{query.Timestamp}' is not a Unix time.");
        }

        var skew = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        return skew.Duration() > Options.MaxClockSkew
            ? InboundResult.Reject(RejectionReason.StaleTimestamp,
                $"The timestamp is {Math.Abs(skew.TotalSeconds):0} s away from now; at most {Options.MaxClockSkew.TotalSeconds:0} s is accepted (replayed, or the server clock is wrong).")
            : null;
    }

    private static XElement ParseXml(string text)
    {
        using var reader = XmlReader.Create(new StringReader(text), SafeXml);
        var root = XDocument.Load(reader).Root ?? throw new XmlException("No root element.");
        return root.Name.LocalName == "xml" ? root : throw new XmlException($"The root element is <{root.Name.LocalName}>, not <xml>.");
    }

    private static string WithQuickReplies(OutgoingMessage message) => message.QuickReplies.Count == 0
        ? message.Text
        : message.Text + "\n\n" + string.Join("\n", message.QuickReplies.Select((q, i) => $"{i + 1}. {q.Label}"));

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    private InboundResult Log(InboundResult result)
    {
        if (result.Status == InboundStatus.Rejected)
        {
            _logger.LogWarning("{Service} channel {Channel} rejected a callback ({Reason}): {Error}", Service, ChannelName, result.Reason, result.Error);
        }

        return result;
    }
}
