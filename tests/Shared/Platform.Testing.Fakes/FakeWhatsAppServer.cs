using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Platform.Testing.Fakes;

/// <summary>A message the fake WhatsApp Cloud API accepted.</summary>
/// <param name="Id">The <c>wamid.…</c> the fake gave it.</param>
/// <param name="To">The recipient.</param>
/// <param name="Type"><c>text</c>, <c>interactive</c>, <c>image</c>, <c>document</c>, <c>template</c>…</param>
/// <param name="Text">The text body, the interactive body, the media caption or link, or the template's parameter.</param>
/// <param name="Payload">The request as sent.</param>
public sealed record WhatsAppSentMessage(string Id, string To, string Type, string? Text, JsonObject Payload);

/// <summary>
/// A loopback WhatsApp Cloud API (Graph API <c>/{version}/{phone-number-id}/messages</c> and <c>/media</c>). Checks what Graph
/// checks: <c>Authorization: Bearer</c> (error 190, HTTP 401), the phone number id (error 100), <c>messaging_product</c>, the
/// message shapes and limits (text 4096, interactive body 1024, 3 reply buttons with titles of 20, lists of 10 rows with titles
/// of 24), the 24-hour customer service window for free-form messages (error 131047, recipients in <see cref="OutsideWindow"/>),
/// templates by name. Errors come in Graph's shape <c>{"error":{"message","type","code","fbtrace_id"}}</c>; 429s carry error
/// 130429. Sends signed webhook deliveries (<c>X-Hub-Signature-256</c>) and the GET verification handshake.
/// </summary>
public sealed class FakeWhatsAppServer : FakeServer
{
    private readonly ConcurrentQueue<WhatsAppSentMessage> _sent = new();
    private readonly ConcurrentQueue<string> _read = new();
    private readonly ConcurrentDictionary<string, (byte[] Content, string MimeType)> _media = new(StringComparer.Ordinal);
    private long _sequence;

    private FakeWhatsAppServer(string phoneNumberId, string accessToken, string appSecret)
    {
        PhoneNumberId = phoneNumberId;
        AccessToken = accessToken;
        AppSecret = appSecret;
    }

    /// <summary>The business phone number id.</summary>
    public string PhoneNumberId { get; }

    /// <summary>The accepted access token.</summary>
    public string AccessToken { get; }

    /// <summary>The app secret that signs webhook deliveries.</summary>
    public string AppSecret { get; }

    /// <summary>The Graph API version the fake serves.</summary>
    public string ApiVersion { get; } = "v21.0";

    /// <summary>Recipients whose last message is older than 24 hours: free-form messages to them fail with 131047.</summary>
    public ConcurrentDictionary<string, bool> OutsideWindow { get; } = new(StringComparer.Ordinal);

    /// <summary>The approved templates.</summary>
    public HashSet<string> Templates { get; } = ["service_reply"];

    /// <summary>Messages accepted so far.</summary>
    public IReadOnlyList<WhatsAppSentMessage> SentMessages => [.. _sent];

    /// <summary>The inbound message ids marked read.</summary>
    public IReadOnlyList<string> ReadMessages => [.. _read];

    /// <summary>Starts a fake.</summary>
    public static async Task<FakeWhatsAppServer> StartAsync(string phoneNumberId = "106540352242922",
        string accessToken = "EAAJB3fakeSystemUserToken0123456789", string appSecret = "0a1b2c3d4e5f60718293a4b5c6d7e8f9")
    {
        var server = new FakeWhatsAppServer(phoneNumberId, accessToken, appSecret);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>The header value Meta computes: <c>sha256=</c> + hex HMAC-SHA256 of the raw body with the app secret.</summary>
    public static string Sign(string appSecret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), Encoding.UTF8.GetBytes(body)));

    /// <summary>A webhook body with one text message from <paramref name="from"/>.</summary>
    public JsonObject TextMessage(string from, string wamid, string text, string profileName = "Customer") =>
        Envelope(new JsonObject
        {
            ["contacts"] = new JsonArray(new JsonObject { ["profile"] = new JsonObject { ["name"] = profileName }, ["wa_id"] = from }),
            ["messages"] = new JsonArray(new JsonObject
            {
                ["from"] = from, ["id"] = wamid, ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                ["type"] = "text", ["text"] = new JsonObject { ["body"] = text },
            }),
        });

    /// <summary>
    /// Makes <paramref name="content"/> downloadable as inbound media, as Graph serves it: <c>GET /{version}/{media-id}</c> (with the
    /// access token) answers <c>{"url", "mime_type", "sha256", "file_size", "id", "messaging_product"}</c>, and the <c>url</c>
    /// answers the bytes only with <c>Authorization: Bearer &lt;access token&gt;</c> (401 otherwise). Returns the media id.
    /// </summary>
    public string AddMedia(byte[] content, string mimeType)
    {
        ArgumentNullException.ThrowIfNull(content);
        var id = "10" + Interlocked.Increment(ref _sequence).ToString("D14", CultureInfo.InvariantCulture);
        _media[id] = (content, mimeType);
        return id;
    }

    /// <summary>A webhook body with one media message (<c>image</c>, <c>document</c>…) whose media is <paramref name="mediaId"/>.</summary>
    public JsonObject MediaMessage(string from, string wamid, string type, string mediaId, string mimeType, string? caption = null, string? fileName = null,
        long? fileSize = null)
    {
        var media = new JsonObject { ["id"] = mediaId, ["mime_type"] = mimeType, ["sha256"] = "ZmFrZQ==" };
        if (caption is not null) media["caption"] = caption;
        if (fileName is not null) media["filename"] = fileName;
        if (fileSize is { } size) media["file_size"] = size;
        return Message(from, new JsonObject
        {
            ["from"] = from, ["id"] = wamid, ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["type"] = type, [type] = media,
        });
    }

    private FakeResponse MediaDownload(RecordedRequest request)
    {
        var auth = request.Header("Authorization");
        var segments = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (auth != "Bearer " + AccessToken)
        {
            return FakeResponse.Json(401, GraphError("Invalid OAuth access token - Cannot parse access token", 190, null));
        }

        if (segments[0] == "whatsapp-cdn")
        {
            return _media.TryGetValue(segments[1], out var file)
                ? new FakeResponse(200, "", file.MimeType) { Bytes = file.Content }
                : new FakeResponse(404, "Not Found", "text/plain");
        }

        if (!_media.TryGetValue(segments[1], out var media))
        {
            return FakeResponse.Json(400, GraphError(
                $"Unsupported get request. Object with ID '{segments[1]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", 100, null));
        }

        return FakeResponse.Json(200, new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["url"] = new Uri(BaseUrl, $"whatsapp-cdn/{segments[1]}?ext=1&hash=fake").ToString(),
            ["mime_type"] = media.MimeType,
            ["sha256"] = Convert.ToHexStringLower(SHA256.HashData(media.Content)),
            ["file_size"] = media.Content.Length,
            ["id"] = segments[1],
        });
    }

    /// <summary>A webhook body with one message of any shape (<paramref name="message"/> is the <c>messages[]</c> item).</summary>
    public JsonObject Message(string from, JsonObject message) =>
        Envelope(new JsonObject
        {
            ["contacts"] = new JsonArray(new JsonObject { ["profile"] = new JsonObject { ["name"] = "Customer" }, ["wa_id"] = from }),
            ["messages"] = new JsonArray(message),
        });

    /// <summary>A webhook body with a delivery status of a message the business sent.</summary>
    public JsonObject Status(string wamid, string status, string recipient, int? errorCode = null) =>
        Envelope(new JsonObject
        {
            ["statuses"] = new JsonArray(new JsonObject
            {
                ["id"] = wamid, ["status"] = status, ["recipient_id"] = recipient,
                ["timestamp"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                ["errors"] = errorCode is { } code
                    ? new JsonArray(new JsonObject
                    {
                        ["code"] = code, ["title"] = code == 131047 ? "Re-engagement message" : "Message undeliverable",
                        ["error_data"] = new JsonObject { ["details"] = code == 131047 ? "Message failed to send because more than 24 hours have passed since the customer last replied to this number." : "Message could not be delivered." },
                    })
                    : null,
            }),
        });

    /// <summary>POSTs a webhook delivery like Meta (JSON, <c>X-Hub-Signature-256</c>). Override the secret or the body after signing
    /// to test rejections.</summary>
    public async Task<FakeResponse> SendWebhookAsync(Uri url, JsonObject payload, string? appSecret = null, string? tamperedBody = null,
        bool unsigned = false, HttpClient? through = null)
    {
        var body = payload.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(tamperedBody ?? body, Encoding.UTF8, "application/json") };
        if (!unsigned)
        {
            request.Headers.Add("X-Hub-Signature-256", Sign(appSecret ?? AppSecret, body));
        }

        return await ReadAsync(await (through ?? Sender).SendAsync(request));
    }

    /// <summary>The GET verification handshake Meta makes when the callback URL is saved.</summary>
    public async Task<FakeResponse> VerifyAsync(Uri url, string verifyToken, string challenge, HttpClient? through = null)
    {
        var query = $"?hub.mode=subscribe&hub.verify_token={Uri.EscapeDataString(verifyToken)}&hub.challenge={Uri.EscapeDataString(challenge)}";
        return await ReadAsync(await (through ?? Sender).GetAsync(new Uri(url + query, url.IsAbsoluteUri ? UriKind.Absolute : UriKind.Relative)));
    }

    /// <inheritdoc />
    protected override FakeResponse TooManyRequests(TimeSpan retryAfter) =>
        FakeResponse.Json(429, GraphError("(#130429) Rate limit hit", 130429, "Cloud API message throughput has been reached."),
            new Dictionary<string, string> { ["Retry-After"] = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture) });

    /// <inheritdoc />
    protected override FakeResponse ServerError(int status) =>
        FakeResponse.Json(status, GraphError("An unknown error has occurred.", 1, null));

    /// <inheritdoc />
    protected override Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context)
    {
        var prefix = $"/{ApiVersion}/";
        if (request.Method == "GET" && (request.Path.StartsWith("/whatsapp-cdn/", StringComparison.Ordinal)
            || (request.Path.StartsWith(prefix, StringComparison.Ordinal) && request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries).Length == 2)))
        {
            return Task.FromResult(MediaDownload(request));
        }

        if (request.Method != "POST" || !request.Path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return Task.FromResult(FakeResponse.Json(400, GraphError("Unknown path components", 2500, null)));
        }

        var auth = request.Header("Authorization");
        if (auth is null || !auth.StartsWith("Bearer ", StringComparison.Ordinal) || auth[7..] != AccessToken)
        {
            return Task.FromResult(FakeResponse.Json(401, GraphError("Invalid OAuth access token - Cannot parse access token", 190, null)));
        }

        var rest = request.Path[prefix.Length..].Split('/');
        if (rest.Length != 2 || rest[0] != PhoneNumberId)
        {
            return Task.FromResult(FakeResponse.Json(400, GraphError(
                $"Unsupported post request. Object with ID '{rest[0]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", 100, null)));
        }

        return Task.FromResult(rest[1] switch
        {
            "messages" => Messages(request.Json as JsonObject),
            "media" => Media(request),
            _ => FakeResponse.Json(400, GraphError("Unknown path components", 2500, null)),
        });
    }

    private FakeResponse Media(RecordedRequest request)
    {
        if (request.Form.GetValueOrDefault("messaging_product") != "whatsapp" || !request.Form.ContainsKey("file") || !request.Form.ContainsKey("type"))
        {
            return Invalid("The parameters messaging_product=whatsapp, type and file are required.");
        }

        return FakeResponse.Json(200, new JsonObject { ["id"] = "media" + Interlocked.Increment(ref _sequence).ToString(CultureInfo.InvariantCulture) });
    }

    private FakeResponse Messages(JsonObject? payload)
    {
        if (payload is null)
        {
            return Invalid("The request body must be JSON.");
        }

        if (Str(payload["messaging_product"]) != "whatsapp")
        {
            return Invalid("(#100) The parameter messaging_product is required.");
        }

        if (Str(payload["status"]) == "read")
        {
            if (Str(payload["message_id"]) is not { } read)
            {
                return Invalid("(#100) The parameter message_id is required.");
            }

            _read.Enqueue(read);
            return FakeResponse.Json(200, new JsonObject { ["success"] = true });
        }

        if (Str(payload["to"]) is not { Length: > 0 } to)
        {
            return Invalid("(#100) The parameter to is required.");
        }

        var type = Str(payload["type"]) ?? "text";
        string? text;
        switch (type)
        {
            case "text":
                text = Str(payload["text"]?["body"]);
                if (string.IsNullOrEmpty(text) || text.Length > 4096)
                {
                    return Invalid("(#100) Param text['body'] must be between 1 and 4096 characters long.");
                }

                break;
            case "interactive":
                if (CheckInteractive(payload["interactive"] as JsonObject) is { } problem)
                {
                    return Invalid(problem);
                }

                text = Str(payload["interactive"]!["body"]?["text"]);
                break;
            case "image" or "video" or "audio" or "document" or "sticker":
                var media = payload[type] as JsonObject;
                text = Str(media?["link"]) ?? Str(media?["id"]);
                if (text is null)
                {
                    return Invalid($"(#100) Param {type} must have a link or an id.");
                }

                break;
            case "template":
                var name = Str(payload["template"]?["name"]);
                if (name is null || Str(payload["template"]?["language"]?["code"]) is null)
                {
                    return Invalid("(#100) Param template['name'] and template['language']['code'] are required.");
                }

                if (!Templates.Contains(name))
                {
                    return FakeResponse.Json(404, GraphError($"(#132001) Template name does not exist in the translation", 132001, $"template name ({name}) does not exist in {Str(payload["template"]?["language"]?["code"])}"));
                }

                text = Str(payload["template"]?["components"]?[0]?["parameters"]?[0]?["text"]);
                if (text is not null && (text.Contains('\n', StringComparison.Ordinal) || text.Contains("     ", StringComparison.Ordinal)))
                {
                    return Invalid("(#132018) There was an issue with the parameters in your template: parameters may not contain new lines, tabs or more than 4 consecutive spaces.");
                }

                break;
            default:
                return Invalid($"(#100) Param type '{type}' is not a valid message type.");
        }

        if (type != "template" && OutsideWindow.ContainsKey(to))
        {
            return FakeResponse.Json(400, GraphError("(#131047) Re-engagement message", 131047,
                "Message failed to send because more than 24 hours have passed since the customer last replied to this number."));
        }

        var id = "wamid.HBgL" + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{to}-{Interlocked.Increment(ref _sequence)}")).TrimEnd('=');
        _sent.Enqueue(new WhatsAppSentMessage(id, to, type, text, payload));
        return FakeResponse.Json(200, new JsonObject
        {
            ["messaging_product"] = "whatsapp",
            ["contacts"] = new JsonArray(new JsonObject { ["input"] = to, ["wa_id"] = to }),
            ["messages"] = new JsonArray(new JsonObject { ["id"] = id }),
        });
    }

    private static string? CheckInteractive(JsonObject? interactive)
    {
        var body = Str(interactive?["body"]?["text"]);
        if (string.IsNullOrEmpty(body) || body.Length > 1024)
        {
            return "(#131009) Parameter value is not valid: interactive body text must be 1 to 1024 characters.";
        }

        switch (Str(interactive!["type"]))
        {
            case "button":
                if (interactive["action"]?["buttons"] is not JsonArray { Count: >= 1 and <= 3 } buttons)
                {
                    return "(#131009) Parameter value is not valid: buttons must have 1 to 3 items.";
                }

                foreach (var button in buttons)
                {
                    if (Str(button?["type"]) != "reply" || Str(button?["reply"]?["title"]) is not { Length: >= 1 and <= 20 }
                        || Str(button?["reply"]?["id"]) is not { Length: >= 1 and <= 256 })
                    {
                        return "(#131009) Parameter value is not valid: a reply button needs an id of 1 to 256 and a title of 1 to 20 characters.";
                    }
                }

                return null;
            case "list":
                if (Str(interactive["action"]?["button"]) is not { Length: >= 1 and <= 20 })
                {
                    return "(#131009) Parameter value is not valid: the list button text must be 1 to 20 characters.";
                }

                var rows = (interactive["action"]?["sections"] as JsonArray ?? []).SelectMany(s => s?["rows"] as JsonArray ?? []).ToList();
                if (rows.Count is < 1 or > 10 || rows.Any(r => Str(r?["title"]) is not { Length: >= 1 and <= 24 } || Str(r?["id"]) is not { Length: >= 1 and <= 200 }))
                {
                    return "(#131009) Parameter value is not valid: a list has 1 to 10 rows with ids of 1 to 200 and titles of 1 to 24 characters.";
                }

                return null;
            default:
                return "(#131009) Parameter value is not valid: interactive type must be button or list.";
        }
    }

    private JsonObject Envelope(JsonObject value)
    {
        value["messaging_product"] = "whatsapp";
        value["metadata"] = new JsonObject { ["display_phone_number"] = "15550783881", ["phone_number_id"] = PhoneNumberId };
        return new JsonObject
        {
            ["object"] = "whatsapp_business_account",
            ["entry"] = new JsonArray(new JsonObject
            {
                ["id"] = "102290129340398",
                ["changes"] = new JsonArray(new JsonObject { ["value"] = value, ["field"] = "messages" }),
            }),
        };
    }

    private static FakeResponse Invalid(string message) => FakeResponse.Json(400, GraphError(message, 100, null));

    private static JsonObject GraphError(string message, int code, string? details)
    {
        var error = new JsonObject
        {
            ["message"] = message, ["type"] = "OAuthException", ["code"] = code, ["fbtrace_id"] = "A" + Guid.NewGuid().ToString("N")[..22],
        };
        if (details is not null)
        {
            error["error_data"] = new JsonObject { ["messaging_product"] = "whatsapp", ["details"] = details };
        }

        return new JsonObject { ["error"] = error };
    }

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;
}
