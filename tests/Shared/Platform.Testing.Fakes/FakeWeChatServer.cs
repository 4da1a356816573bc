using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;

namespace Platform.Testing.Fakes;

/// <summary>A message the fake WeChat or WeCom accepted through its send API.</summary>
/// <param name="ToUser">The <c>touser</c> (OpenID, or WeCom userid).</param>
/// <param name="MsgType">The <c>msgtype</c>.</param>
/// <param name="Content">The text content (<c>text.content</c>, or a menu's <c>head_content</c>).</param>
/// <param name="Body">The request JSON.</param>
public sealed record WeChatSentMessage(string ToUser, string MsgType, string Content, JsonObject Body);

/// <summary>
/// A loopback WeChat Official Account API (<c>api.weixin.qq.com</c>) or WeCom API (<c>qyapi.weixin.qq.com</c>). Issues
/// access tokens (<c>GET /cgi-bin/token?grant_type=client_credential&amp;appid&amp;secret</c>, WeCom <c>GET /cgi-bin/gettoken?corpid&amp;corpsecret</c>)
/// valid <see cref="TokenLifetime"/>, and checks them on the send APIs like WeChat: missing → 41001, unknown → 40001 (WeCom 40014),
/// expired (<see cref="ExpireTokens"/>) → 42001, errors as HTTP 200 <c>{"errcode","errmsg"}</c>. <c>POST /cgi-bin/message/custom/send</c>
/// checks <c>touser</c>, <c>msgtype</c> (text, msgmenu…) and the 2048-byte text limit (45002); WeCom's <c>POST /cgi-bin/message/send</c> checks
/// <c>agentid</c> (40056) and <c>touser</c>. Sends signed, optionally encrypted, XML callbacks like WeChat
/// (<see cref="SendCallbackAsync"/>) and decrypts passive replies (<see cref="ReadReply"/>).
/// </summary>
public sealed class FakeWeChatServer : FakeServer
{
    private readonly ConcurrentQueue<WeChatSentMessage> _sent = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _tokens = new();
    private readonly ConcurrentQueue<long> _busy = new();
    private long _sequence;

    private FakeWeChatServer(bool weCom, string appId, string secret, string token, string encodingAesKey, int agentId)
    {
        IsWeCom = weCom;
        AppId = appId;
        Secret = secret;
        Token = token;
        EncodingAesKey = encodingAesKey;
        AgentId = agentId;
    }

    /// <summary>Whether this is WeCom (企业微信) rather than an Official Account.</summary>
    public bool IsWeCom { get; }

    /// <summary>The AppID, or the WeCom CorpID.</summary>
    public string AppId { get; }

    /// <summary>The AppSecret, or the WeCom app's Secret.</summary>
    public string Secret { get; }

    /// <summary>The callback Token.</summary>
    public string Token { get; }

    /// <summary>The EncodingAESKey (43 characters).</summary>
    public string EncodingAesKey { get; }

    /// <summary>The WeCom app's AgentId.</summary>
    public int AgentId { get; }

    /// <summary>How long an access token is valid (WeChat: 7200 s).</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromSeconds(7200);

    /// <summary>The number of access tokens issued.</summary>
    public int TokensIssued => _tokens.Count;

    /// <summary>Messages accepted through the send API.</summary>
    public IReadOnlyList<WeChatSentMessage> SentMessages => [.. _sent];

    /// <summary>Starts an Official Account fake.</summary>
    public static Task<FakeWeChatServer> StartOfficialAccountAsync() =>
        StartAsync(false, "wx" + Hex(8), Hex(16), "tok" + Hex(6), Base64Key(), 0);

    /// <summary>Starts a WeCom fake.</summary>
    public static Task<FakeWeChatServer> StartWeComAsync() =>
        StartAsync(true, "ww" + Hex(8), Hex(21), "tok" + Hex(6), Base64Key(), 1000002);

    private static async Task<FakeWeChatServer> StartAsync(bool weCom, string appId, string secret, string token, string key, int agentId)
    {
        var server = new FakeWeChatServer(weCom, appId, secret, token, key, agentId);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Makes every token issued so far expired (the next send answers 42001).</summary>
    public void ExpireTokens()
    {
        foreach (var key in _tokens.Keys)
        {
            _tokens[key] = DateTimeOffset.MinValue;
        }
    }

    /// <summary>The next <paramref name="count"/> send calls answer errcode -1 (系统繁忙, system busy).</summary>
    public void RespondBusy(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _busy.Enqueue(-1);
        }
    }

    /// <summary>The text message XML WeChat posts (明文).</summary>
    public string TextMessage(string fromUser, string content, long msgId) => new XElement("xml",
        new XElement("ToUserName", new XCData(IsWeCom ? AppId : "gh_" + AppId[2..])),
        new XElement("FromUserName", new XCData(fromUser)),
        new XElement("CreateTime", DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
        new XElement("MsgType", new XCData("text")),
        new XElement("Content", new XCData(content)),
        new XElement("MsgId", msgId),
        IsWeCom ? new XElement("AgentID", AgentId) : null).ToString(SaveOptions.DisableFormatting);

    /// <summary>The image message XML WeChat posts.</summary>
    public string ImageMessage(string fromUser, string mediaId, long msgId) => new XElement("xml",
        new XElement("ToUserName", new XCData("gh_" + AppId[2..])),
        new XElement("FromUserName", new XCData(fromUser)),
        new XElement("CreateTime", DateTimeOffset.UtcNow.ToUnixTimeSeconds()),
        new XElement("MsgType", new XCData("image")),
        new XElement("PicUrl", new XCData($"http://mmbiz.qpic.cn/{mediaId}")),
        new XElement("MediaId", new XCData(mediaId)),
        new XElement("MsgId", msgId)).ToString(SaveOptions.DisableFormatting);

    /// <summary>The SHA1 signature WeChat computes over the sorted parts.</summary>
    public static string Sign(params string[] parts)
    {
        var sorted = parts.OrderBy(p => p, StringComparer.Ordinal);
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(string.Concat(sorted))));
    }

    /// <summary>Encrypts like WeChat: AES-256-CBC of random(16) + length + message + receiveid, PKCS#7 to 32.</summary>
    public string Encrypt(string message)
    {
        var key = Convert.FromBase64String(EncodingAesKey + "=");
        var msg = Encoding.UTF8.GetBytes(message);
        var id = Encoding.UTF8.GetBytes(AppId);
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, msg.Length);
        byte[] plain = [.. RandomNumberGenerator.GetBytes(16), .. length, .. msg, .. id];
        var pad = 32 - (plain.Length % 32);
        plain = [.. plain, .. Enumerable.Repeat((byte)pad, pad)];
        using var aes = Aes.Create();
        aes.Key = key;
        return Convert.ToBase64String(aes.EncryptCbc(plain, key.AsSpan(0, 16), PaddingMode.None));
    }

    /// <summary>Decrypts like WeChat; the receiveid must be this app's.</summary>
    public string Decrypt(string encrypted)
    {
        var key = Convert.FromBase64String(EncodingAesKey + "=");
        using var aes = Aes.Create();
        aes.Key = key;
        var plain = aes.DecryptCbc(Convert.FromBase64String(encrypted), key.AsSpan(0, 16), PaddingMode.None);
        var content = plain.AsSpan(0, plain.Length - plain[^1]);
        var length = BinaryPrimitives.ReadInt32BigEndian(content.Slice(16, 4));
        var receiveId = Encoding.UTF8.GetString(content[(20 + length)..]);
        if (receiveId != AppId)
        {
            throw new CryptographicException($"The receiveid is '{receiveId}', not '{AppId}'.");
        }

        return Encoding.UTF8.GetString(content.Slice(20, length));
    }

    /// <summary>
    /// POSTs a callback like WeChat: <c>?signature&amp;timestamp&amp;nonce</c> (plus <c>openid</c>), and when
    /// <paramref name="encrypt"/> (always for WeCom) <c>encrypt_type=aes&amp;msg_signature</c> with the XML wrapped in
    /// <c>&lt;Encrypt&gt;</c>. Override the token, timestamp, nonce or body to test refusals.
    /// </summary>
    public async Task<FakeResponse> SendCallbackAsync(Uri url, string xml, bool encrypt = false, string? token = null, DateTimeOffset? timestamp = null,
        string? nonce = null, string? tamperedBody = null, HttpClient? via = null)
    {
        var (requestUrl, body) = Callback(url, xml, encrypt || IsWeCom, token, timestamp, nonce);
        using var request = new HttpRequestMessage(HttpMethod.Post, requestUrl) { Content = new StringContent(tamperedBody ?? body, Encoding.UTF8, "text/xml") };
        return await ReadAsync(await (via ?? Sender).SendAsync(request));
    }

    /// <summary>The URL and body of a callback (to send it again, as a replay).</summary>
    public (Uri Url, string Body) Callback(Uri url, string xml, bool encrypt, string? token = null, DateTimeOffset? timestamp = null, string? nonce = null)
    {
        var ts = (timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        nonce ??= Random.Shared.NextInt64(100000000, 9999999999).ToString(CultureInfo.InvariantCulture);
        token ??= Token;
        var from = (string?)XElement.Parse(xml).Element("FromUserName") ?? "";
        var query = IsWeCom ? $"timestamp={ts}&nonce={nonce}" : $"signature={Sign(token, ts, nonce)}&timestamp={ts}&nonce={nonce}&openid={Uri.EscapeDataString(from)}";
        var body = xml;
        if (encrypt)
        {
            var cipher = Encrypt(xml);
            query += $"&encrypt_type=aes&msg_signature={Sign(token, ts, nonce, cipher)}";
            body = new XElement("xml", new XElement("ToUserName", new XCData(AppId)), new XElement("Encrypt", new XCData(cipher)),
                IsWeCom ? new XElement("AgentID", AgentId) : null).ToString(SaveOptions.DisableFormatting);
        }

        return (new Uri(url + (url.Query.Length > 0 ? "&" : "?") + query), body);
    }

    /// <summary>POSTs a prepared callback (a replay of <see cref="Callback"/>).</summary>
    public async Task<FakeResponse> PostAsync(Uri url, string body, HttpClient? via = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "text/xml") };
        return await ReadAsync(await (via ?? Sender).SendAsync(request));
    }

    /// <summary>The URL verification GET: Official Account <c>signature</c> over token, timestamp, nonce with a plain
    /// <c>echostr</c>; WeCom <c>msg_signature</c> with the <c>echostr</c> encrypted.</summary>
    public async Task<FakeResponse> VerifyUrlAsync(Uri url, string echo, string? token = null, HttpClient? via = null)
    {
        var ts = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var nonce = Random.Shared.NextInt64(100000000, 9999999999).ToString(CultureInfo.InvariantCulture);
        token ??= Token;
        string query;
        if (IsWeCom)
        {
            var cipher = Encrypt(echo);
            query = $"msg_signature={Sign(token, ts, nonce, cipher)}&timestamp={ts}&nonce={nonce}&echostr={Uri.EscapeDataString(cipher)}";
        }
        else
        {
            query = $"signature={Sign(token, ts, nonce)}&timestamp={ts}&nonce={nonce}&echostr={Uri.EscapeDataString(echo)}";
        }

        return await ReadAsync(await (via ?? Sender).GetAsync(new Uri(url + "?" + query)));
    }

    /// <summary>Reads a passive reply as WeChat does: decrypts and checks the signature of an encrypted one; the reply XML.</summary>
    public XElement ReadReply(string body)
    {
        var xml = XElement.Parse(body);
        if ((string?)xml.Element("Encrypt") is not { } cipher)
        {
            return xml;
        }

        var expected = Sign(Token, (string)xml.Element("TimeStamp")!, (string)xml.Element("Nonce")!, cipher);
        if (expected != (string?)xml.Element("MsgSignature"))
        {
            throw new CryptographicException("The passive reply's MsgSignature is wrong.");
        }

        return XElement.Parse(Decrypt(cipher));
    }

    /// <inheritdoc />
    protected override FakeResponse TooManyRequests(TimeSpan retryAfter) => Err(45011, "api minute-quota reach limit  mustslower  retry next minute");

    /// <inheritdoc />
    protected override FakeResponse ServerError(int status) => new(status, "<html><body>502 Bad Gateway</body></html>", "text/html");

    /// <inheritdoc />
    protected override Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context)
    {
        var query = context.Request.Query;
        return Task.FromResult((request.Method, request.Path) switch
        {
            ("GET", "/cgi-bin/token") when !IsWeCom => IssueToken(query["grant_type"] == "client_credential", query["appid"], query["secret"]),
            ("GET", "/cgi-bin/gettoken") when IsWeCom => IssueToken(true, query["corpid"], query["corpsecret"]),
            ("POST", "/cgi-bin/message/custom/send") when !IsWeCom => Send(query["access_token"], request),
            ("POST", "/cgi-bin/message/send") when IsWeCom => Send(query["access_token"], request),
            _ => new FakeResponse(404, "", "text/plain"),
        });
    }

    private FakeResponse IssueToken(bool grantType, string? appId, string? secret)
    {
        if (!grantType)
        {
            return Err(40002, "invalid grant_type");
        }

        if (appId != AppId)
        {
            return Err(40013, IsWeCom ? "invalid corpid" : "invalid appid");
        }

        if (secret != Secret)
        {
            return IsWeCom ? Err(40001, "invalid credential") : Err(40125, "invalid appsecret");
        }

        var token = (IsWeCom ? "wecom-" : "wx-") + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture) + "-" + Hex(24);
        _tokens[token] = DateTimeOffset.UtcNow + TokenLifetime;
        var body = new JsonObject { ["access_token"] = token, ["expires_in"] = (int)TokenLifetime.TotalSeconds };
        if (IsWeCom)
        {
            body = new JsonObject { ["errcode"] = 0, ["errmsg"] = "ok", ["access_token"] = token, ["expires_in"] = (int)TokenLifetime.TotalSeconds };
        }

        return FakeResponse.Json(200, body);
    }

    private FakeResponse Send(string? accessToken, RecordedRequest request)
    {
        if (string.IsNullOrEmpty(accessToken))
        {
            return Err(41001, "access_token missing");
        }

        if (!_tokens.TryGetValue(accessToken, out var expiry))
        {
            return IsWeCom ? Err(40014, "invalid access_token") : Err(40001, "invalid credential, access_token is invalid or not latest");
        }

        if (expiry <= DateTimeOffset.UtcNow)
        {
            return Err(42001, "access_token expired");
        }

        if (_busy.TryDequeue(out var busy))
        {
            return Err(busy, "system error");
        }

        if (request.Json is not JsonObject body)
        {
            return Err(47001, "data format error");
        }

        var toUser = Str(body["touser"]);
        if (string.IsNullOrEmpty(toUser))
        {
            return IsWeCom ? Err(81013, "user & party & tag all invalid") : Err(40003, "invalid openid");
        }

        if (IsWeCom && (body["agentid"]?.GetValueKind() != JsonValueKind.Number || body["agentid"]!.GetValue<int>() != AgentId))
        {
            return Err(40056, "invalid agentid");
        }

        var type = Str(body["msgtype"]);
        string? content = type switch
        {
            "text" => Str(body["text"]?["content"]),
            "markdown" when IsWeCom => Str(body["markdown"]?["content"]),
            "msgmenu" when !IsWeCom && body["msgmenu"]?["list"] is JsonArray { Count: > 0 } => Str(body["msgmenu"]?["head_content"]) ?? "",
            _ => null,
        };
        if (content is null)
        {
            return Err(40008, "invalid message type");
        }

        if (type == "text" && content.Length == 0)
        {
            return Err(44004, "empty content");
        }

        if (Encoding.UTF8.GetByteCount(content) > 2048)
        {
            return Err(45002, "content size out of limit");
        }

        _sent.Enqueue(new WeChatSentMessage(toUser, type!, content, body));
        var ok = new JsonObject { ["errcode"] = 0, ["errmsg"] = "ok" };
        if (IsWeCom)
        {
            ok["invaliduser"] = "";
            ok["msgid"] = "msg" + Hex(10);
        }

        return FakeResponse.Json(200, ok);
    }

    private static FakeResponse Err(long code, string message) =>
        FakeResponse.Json(200, new JsonObject { ["errcode"] = code, ["errmsg"] = $"{message} rid: {Hex(12)}" });

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    private static string Base64Key() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=');
}
