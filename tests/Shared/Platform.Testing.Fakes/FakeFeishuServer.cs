using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Platform.Testing.Fakes;

/// <summary>A message the fake Feishu accepted.</summary>
/// <param name="ReceiveId">The <c>receive_id</c> (a chat_id).</param>
/// <param name="MsgType">The <c>msg_type</c>.</param>
/// <param name="Content">The parsed <c>content</c>.</param>
/// <param name="MessageId">The <c>om_…</c> id the fake gave it.</param>
public sealed record FeishuSentMessage(string ReceiveId, string MsgType, JsonObject Content, string MessageId)
{
    /// <summary>The text: a post's text and md elements, or a card's markdown elements.</summary>
    public string Text => MsgType switch
    {
        "text" => Content["text"]?.GetValue<string>() ?? "",
        "post" => string.Join("\n", ((Content["zh_cn"] ?? Content["en_us"])?["content"] as JsonArray ?? [])
            .Select(line => string.Concat((line as JsonArray ?? []).Select(e => e?["text"]?.GetValue<string>() ?? "")))),
        "interactive" => string.Join("\n", (Content["elements"] as JsonArray ?? []).Where(e => e?["tag"]?.GetValue<string>() is "markdown")
            .Select(e => e!["content"]!.GetValue<string>())),
        _ => "",
    };

    /// <summary>The card's buttons (label, value.text).</summary>
    public IReadOnlyList<(string Label, string Value)> Buttons => (Content["elements"] as JsonArray ?? [])
        .Where(e => e?["tag"]?.GetValue<string>() == "action")
        .SelectMany(e => e!["actions"] as JsonArray ?? [])
        .Select(b => (b!["text"]!["content"]!.GetValue<string>(), b["value"]!["text"]!.GetValue<string>())).ToList();
}

/// <summary>
/// A loopback Feishu / Lark Open API. <c>POST /open-apis/auth/v3/tenant_access_token/internal</c> checks app_id and
/// app_secret (code 10003 / 10014) and issues tokens valid <see cref="TokenLifetime"/>; <c>POST /open-apis/im/v1/messages</c>
/// checks the Bearer token like Feishu (missing 99991661, invalid 99991663, expired 99991677, HTTP 400), <c>receive_id_type</c>,
/// <c>msg_type</c> and that <c>content</c> is a JSON string of that type's shape (230001 otherwise); 429 answers carry code
/// 99991400. Sends encrypted and signed events like Feishu (<see cref="SendEventAsync"/>).
/// </summary>
public sealed class FakeFeishuServer : FakeServer
{
    private readonly ConcurrentQueue<FeishuSentMessage> _sent = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new();

    private FakeFeishuServer(string appId, string appSecret, string encryptKey, string verificationToken)
    {
        AppId = appId;
        AppSecret = appSecret;
        EncryptKey = encryptKey;
        VerificationToken = verificationToken;
    }

    /// <summary>The App ID.</summary>
    public string AppId { get; }

    /// <summary>The App Secret.</summary>
    public string AppSecret { get; }

    /// <summary>The Encrypt Key.</summary>
    public string EncryptKey { get; }

    /// <summary>The Verification Token.</summary>
    public string VerificationToken { get; }

    /// <summary>How long a tenant_access_token is valid.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromSeconds(7200);

    /// <summary>Tokens issued so far.</summary>
    public int TokensIssued => _tokens.Count;

    /// <summary>Messages accepted.</summary>
    public IReadOnlyList<FeishuSentMessage> SentMessages => [.. _sent];

    /// <summary>Starts a fake.</summary>
    public static async Task<FakeFeishuServer> StartAsync()
    {
        var server = new FakeFeishuServer("cli_" + Hex(8), Hex(16), Hex(16), Hex(16));
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Makes every token issued so far expired.</summary>
    public void ExpireTokens()
    {
        foreach (var key in _tokens.Keys)
        {
            _tokens[key] = DateTimeOffset.MinValue;
        }
    }

    /// <summary>An <c>im.message.receive_v1</c> event (schema 2.0) with a text message (<c>@_user_1</c> in the text mentions the bot).</summary>
    public JsonObject MessageEvent(string chatId, string openId, string text, string? messageId = null) => new()
    {
        ["schema"] = "2.0",
        ["header"] = Header("im.message.receive_v1"),
        ["event"] = new JsonObject
        {
            ["sender"] = new JsonObject
            {
                ["sender_id"] = new JsonObject { ["open_id"] = openId, ["union_id"] = "on_" + Hex(8), ["user_id"] = Hex(4) },
                ["sender_type"] = "user",
                ["tenant_key"] = "736588c9260f175d",
            },
            ["message"] = new JsonObject
            {
                ["message_id"] = messageId ?? "om_" + Hex(16),
                ["create_time"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                ["chat_id"] = chatId,
                ["chat_type"] = "p2p",
                ["message_type"] = "text",
                ["content"] = new JsonObject { ["text"] = text }.ToJsonString(),
                // A group message that @-mentions the bot carries the placeholder in the text and the mention here.
                ["mentions"] = text.Contains("@_user_1", StringComparison.Ordinal)
                    ? new JsonArray(new JsonObject { ["key"] = "@_user_1", ["id"] = new JsonObject { ["open_id"] = "ou_bot" }, ["name"] = "Assistant", ["tenant_key"] = "736588c9260f175d" })
                    : null,
            },
        },
    };

    /// <summary>A <c>card.action.trigger</c> callback (schema 2.0) for a button whose value is <c>{"text": value}</c>.</summary>
    public JsonObject CardAction(string chatId, string openId, string messageId, string value) => new()
    {
        ["schema"] = "2.0",
        ["header"] = Header("card.action.trigger"),
        ["event"] = new JsonObject
        {
            ["operator"] = new JsonObject { ["open_id"] = openId, ["tenant_key"] = "736588c9260f175d" },
            ["token"] = "c-" + Hex(8),
            ["action"] = new JsonObject { ["tag"] = "button", ["value"] = new JsonObject { ["text"] = value } },
            ["context"] = new JsonObject { ["open_message_id"] = messageId, ["open_chat_id"] = chatId },
        },
    };

    /// <summary>The <c>url_verification</c> request.</summary>
    public JsonObject UrlVerification(string challenge) => new() { ["challenge"] = challenge, ["token"] = VerificationToken, ["type"] = "url_verification" };

    /// <summary>Feishu's signature: hex SHA256 of timestamp + nonce + encrypt key + body.</summary>
    public static string Sign(string timestamp, string nonce, string encryptKey, string body) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(timestamp + nonce + encryptKey + body)));

    /// <summary>Encrypts like Feishu: base64(IV + AES-256-CBC(SHA256(key), PKCS#7)).</summary>
    public string Encrypt(string plaintext)
    {
        using var aes = Aes.Create();
        aes.Key = SHA256.HashData(Encoding.UTF8.GetBytes(EncryptKey));
        var iv = RandomNumberGenerator.GetBytes(16);
        return Convert.ToBase64String([.. iv, .. aes.EncryptCbc(Encoding.UTF8.GetBytes(plaintext), iv, PaddingMode.PKCS7)]);
    }

    /// <summary>The body and headers Feishu would POST for <paramref name="payload"/> (encrypted and signed).</summary>
    public (string Body, Dictionary<string, string> Headers) Prepare(JsonObject payload, string? encryptKey = null, DateTimeOffset? timestamp = null)
    {
        var body = new JsonObject { ["encrypt"] = Encrypt(payload.ToJsonString()) }.ToJsonString();
        var ts = (timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var nonce = Hex(8);
        return (body, new Dictionary<string, string>
        {
            ["X-Lark-Request-Timestamp"] = ts, ["X-Lark-Request-Nonce"] = nonce, ["X-Lark-Signature"] = Sign(ts, nonce, encryptKey ?? EncryptKey, body),
        });
    }

    /// <summary>POSTs an event as Feishu does: encrypted, with the X-Lark-* signature headers.</summary>
    public Task<FakeResponse> SendEventAsync(Uri url, JsonObject payload, string? encryptKey = null, DateTimeOffset? timestamp = null, HttpClient? via = null)
    {
        var (body, headers) = Prepare(payload, encryptKey, timestamp);
        return PostAsync(url, body, headers, via);
    }

    /// <summary>POSTs a prepared body (a replay, or a forged one).</summary>
    public async Task<FakeResponse> PostAsync(Uri url, string body, IReadOnlyDictionary<string, string>? headers = null, HttpClient? via = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(name, value);
        }

        return await ReadAsync(await (via ?? Sender).SendAsync(request));
    }

    /// <inheritdoc />
    protected override FakeResponse TooManyRequests(TimeSpan retryAfter) =>
        FakeResponse.Json(429, new JsonObject { ["code"] = 99991400, ["msg"] = "request trigger frequency limit" },
            new Dictionary<string, string> { ["x-ogw-ratelimit-reset"] = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture) });

    /// <inheritdoc />
    protected override FakeResponse ServerError(int status) =>
        FakeResponse.Json(status, new JsonObject { ["code"] = 1500, ["msg"] = "internal error" });

    /// <inheritdoc />
    protected override Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context) =>
        Task.FromResult((request.Method, request.Path) switch
        {
            ("POST", "/open-apis/auth/v3/tenant_access_token/internal") => IssueToken(request),
            ("POST", "/open-apis/im/v1/messages") => Send(request, context.Request.Query["receive_id_type"]),
            _ => FakeResponse.Json(404, new JsonObject { ["code"] = 404, ["msg"] = "404 page not found" }),
        });

    private FakeResponse IssueToken(RecordedRequest request)
    {
        if (request.Json is not JsonObject body || Str(body["app_id"]) is not { } appId || Str(body["app_secret"]) is not { } secret)
        {
            return Fail(400, 10003, "invalid param");
        }

        if (appId != AppId || secret != AppSecret)
        {
            return Fail(400, 10014, "app secret invalid");
        }

        var token = "t-" + Hex(20);
        _tokens[token] = DateTimeOffset.UtcNow + TokenLifetime;
        return FakeResponse.Json(200, new JsonObject { ["code"] = 0, ["msg"] = "ok", ["tenant_access_token"] = token, ["expire"] = (int)TokenLifetime.TotalSeconds });
    }

    private FakeResponse Send(RecordedRequest request, string? receiveIdType)
    {
        var header = request.Header("Authorization");
        var token = header?.StartsWith("Bearer ", StringComparison.Ordinal) == true ? header[7..].Trim() : null;
        if (string.IsNullOrEmpty(token))
        {
            return Fail(400, 99991661, "Missing access token for authorization. Please make a request with token attached.");
        }

        if (!_tokens.TryGetValue(token, out var expiry))
        {
            return Fail(400, 99991663, "Invalid access token for authorization. Please make a request with token attached.");
        }

        if (expiry <= DateTimeOffset.UtcNow)
        {
            return Fail(400, 99991677, "Authentication token expired.");
        }

        if (receiveIdType is not ("chat_id" or "open_id" or "user_id" or "union_id" or "email"))
        {
            return Fail(400, 99992402, "field validation failed: receive_id_type");
        }

        if (request.Json is not JsonObject body || Str(body["receive_id"]) is not { Length: > 0 } receiveId || Str(body["msg_type"]) is not { } type
            || Str(body["content"]) is not { } contentText)
        {
            return Fail(400, 99992402, "field validation failed: receive_id, msg_type and content are required");
        }

        JsonObject? content;
        try
        {
            content = JsonNode.Parse(contentText) as JsonObject;
        }
        catch (JsonException)
        {
            content = null;
        }

        var valid = content is not null && type switch
        {
            "text" => Str(content["text"]) is { Length: > 0 },
            "post" => (content["zh_cn"] ?? content["en_us"])?["content"] is JsonArray { Count: > 0 },
            "interactive" => content["elements"] is JsonArray { Count: > 0 },
            _ => false,
        };
        if (!valid)
        {
            return Fail(400, 230001, $"Your request contains an invalid request parameter, ext=invalid {type} content");
        }

        if (receiveIdType == "chat_id" && !receiveId.StartsWith("oc_", StringComparison.Ordinal))
        {
            return Fail(400, 230001, "Your request contains an invalid request parameter, ext=invalid receive_id");
        }

        var id = "om_" + Hex(16);
        _sent.Enqueue(new FeishuSentMessage(receiveId, type, content!, id));
        return FakeResponse.Json(200, new JsonObject
        {
            ["code"] = 0, ["msg"] = "success",
            ["data"] = new JsonObject { ["message_id"] = id, ["chat_id"] = receiveId, ["msg_type"] = type, ["create_time"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) },
        });
    }

    private JsonObject Header(string type) => new()
    {
        ["event_id"] = Hex(16),
        ["event_type"] = type,
        ["create_time"] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
        ["token"] = VerificationToken,
        ["app_id"] = AppId,
        ["tenant_key"] = "736588c9260f175d",
    };

    private static FakeResponse Fail(int status, long code, string message) => FakeResponse.Json(status, new JsonObject
    {
        ["code"] = code, ["msg"] = message,
        ["error"] = new JsonObject { ["log_id"] = Hex(12), ["troubleshooter"] = "https://open.feishu.cn/search?q=" + code.ToString(CultureInfo.InvariantCulture) },
    });

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
}
