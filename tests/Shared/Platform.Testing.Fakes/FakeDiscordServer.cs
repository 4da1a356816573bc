using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;
using Org.BouncyCastle.Security;

namespace Platform.Testing.Fakes;

/// <summary>A message the fake Discord accepted.</summary>
/// <param name="Route"><c>original</c> (the deferred interaction response edited), <c>followup</c> or <c>channel</c> (a bot message).</param>
/// <param name="ChannelId">The channel it appeared in.</param>
/// <param name="Id">The message id the fake gave it.</param>
/// <param name="Content">The <c>content</c>, or null.</param>
/// <param name="Payload">The JSON payload as sent (<c>payload_json</c> for uploads).</param>
/// <param name="Files">The names of uploaded files.</param>
public sealed record DiscordPostedMessage(string Route, string ChannelId, string Id, string? Content, JsonObject Payload, IReadOnlyList<string> Files);

/// <summary>
/// A loopback Discord REST API (<c>/api/v10</c>) and interaction sender. It has an Ed25519 key pair like an application:
/// <see cref="PublicKeyHex"/> goes into the channel, and interactions are signed over <c>X-Signature-Timestamp</c> + body with the
/// private key. Checks what Discord checks: <c>Authorization: Bot</c> on channel routes (401 <c>{"message":"401: Unauthorized","code":0}</c>),
/// interaction tokens it issued and that are not older than 15 minutes (404 Unknown Webhook, 10015), known channels
/// (404 Unknown Channel, 10003), content of at most 2000 characters, non-empty messages (50006), component rows of at most 5 buttons
/// with labels of 80 and custom ids of 100 (50035 Invalid Form Body). 429s carry <c>retry_after</c> and <c>Retry-After</c>.
/// </summary>
public sealed class FakeDiscordServer : FakeServer
{
    private const long Epoch = 1420070400000;
    private readonly Ed25519PrivateKeyParameters _privateKey;
    private readonly ConcurrentDictionary<string, (string ChannelId, DateTimeOffset IssuedAt)> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<DiscordPostedMessage> _posted = new();
    private readonly ConcurrentQueue<string> _typing = new();
    private readonly ConcurrentDictionary<string, (byte[] Content, string ContentType)> _attachments = new(StringComparer.Ordinal);
    private readonly byte[] _cdnKey = RandomNumberGenerator.GetBytes(32);
    private long _sequence;

    private FakeDiscordServer(string applicationId, string botToken)
    {
        ApplicationId = applicationId;
        BotToken = botToken;
        _privateKey = new Ed25519PrivateKeyParameters(new SecureRandom());
        PublicKeyHex = Convert.ToHexStringLower(_privateKey.GeneratePublicKey().GetEncoded());
    }

    /// <summary>The application id.</summary>
    public string ApplicationId { get; }

    /// <summary>The accepted bot token.</summary>
    public string BotToken { get; }

    /// <summary>The application's public key (64 hex digits).</summary>
    public string PublicKeyHex { get; }

    /// <summary>The REST base URL (<c>…/api/v10/</c>) to configure in the channel.</summary>
    public Uri ApiBaseUrl => new(BaseUrl, "api/v10/");

    /// <summary>When not empty, only these channels exist for bot messages.</summary>
    public HashSet<string> KnownChannels { get; } = [];

    /// <summary>Messages accepted so far.</summary>
    public IReadOnlyList<DiscordPostedMessage> PostedMessages => [.. _posted];

    /// <summary>Channels a typing indicator was triggered in.</summary>
    public IReadOnlyList<string> Typing => [.. _typing];

    /// <summary>Starts a fake.</summary>
    public static async Task<FakeDiscordServer> StartAsync(string applicationId = "1184213318474215445",
        string botToken = "MTE4NDIxMzMxODQ3NDIxNTQ0NQ.GfAke0.fake-bot-token-for-tests")
    {
        var server = new FakeDiscordServer(applicationId, botToken);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>A snowflake for now (or <paramref name="at"/>).</summary>
    public string Snowflake(DateTimeOffset? at = null) =>
        ((((at ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds() - Epoch) << 22) | (Interlocked.Increment(ref _sequence) & 0xFFF)).ToString(CultureInfo.InvariantCulture);

    /// <summary>A PING interaction.</summary>
    public JsonObject Ping() => new() { ["id"] = Snowflake(), ["application_id"] = ApplicationId, ["type"] = 1, ["token"] = NewToken("0"), ["version"] = 1 };

    /// <summary>A slash command (<c>/name option:value</c>) in a guild channel; the fake remembers its token.</summary>
    public JsonObject SlashCommand(string channelId, string userId, string command, string? optionValue, string optionName = "question", DateTimeOffset? at = null)
    {
        var data = new JsonObject { ["id"] = Snowflake(), ["name"] = command, ["type"] = 1 };
        if (optionValue is not null)
        {
            data["options"] = new JsonArray(new JsonObject { ["name"] = optionName, ["type"] = 3, ["value"] = optionValue });
        }

        return Interaction(2, channelId, userId, data, at);
    }

    /// <summary>
    /// A slash command with a file option (type 11): the file is in <c>data.resolved.attachments</c> with a CDN URL on this fake,
    /// signed as Discord signs its CDN links (<c>ex</c> expiry, <c>is</c> issued, <c>hm</c> HMAC); the CDN answers the bytes only
    /// for a URL with a valid, unexpired signature (404 otherwise, as Discord's CDN does). No token is needed.
    /// </summary>
    public JsonObject SlashCommandWithFile(string channelId, string userId, string command, string fileName, string contentType, byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var id = Snowflake();
        _attachments[id] = (content, contentType);
        var path = $"attachments/{channelId}/{id}/{Uri.EscapeDataString(fileName)}";
        var issued = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var expires = issued + 86400;
        var query = $"ex={expires:x}&is={issued:x}";
        var url = new Uri(BaseUrl, $"{path}?{query}&hm={CdnSignature(path, query)}&").ToString();
        var data = new JsonObject
        {
            ["id"] = Snowflake(), ["name"] = command, ["type"] = 1,
            ["options"] = new JsonArray(new JsonObject { ["name"] = "file", ["type"] = 11, ["value"] = id }),
            ["resolved"] = new JsonObject
            {
                ["attachments"] = new JsonObject
                {
                    [id] = new JsonObject
                    {
                        ["id"] = id, ["filename"] = fileName, ["size"] = content.Length, ["url"] = url, ["proxy_url"] = url, ["content_type"] = contentType,
                    },
                },
            },
        };
        return Interaction(2, channelId, userId, data, null);
    }

    private string CdnSignature(string path, string query) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_cdnKey, Encoding.UTF8.GetBytes(path + "?" + query)));

    private FakeResponse Cdn(RecordedRequest request)
    {
        var query = System.Web.HttpUtility.ParseQueryString(request.Query);
        var path = request.Url[(BaseUrl.ToString().Length)..].Split('?')[0];
        var signed = $"ex={query["ex"]}&is={query["is"]}";
        var parts = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (query["hm"] is not { } hm || hm != CdnSignature(path, signed)
            || !long.TryParse(query["ex"], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var expires)
            || DateTimeOffset.UtcNow.ToUnixTimeSeconds() > expires || parts.Length < 4 || !_attachments.TryGetValue(parts[2], out var file))
        {
            return new FakeResponse(404, "This content is no longer available.", "text/plain");
        }

        return new FakeResponse(200, "", file.ContentType) { Bytes = file.Content };
    }

    /// <summary>A button press on a message the bot sent.</summary>
    public JsonObject ButtonPress(string channelId, string userId, string customId, string messageId) =>
        Interaction(3, channelId, userId, new JsonObject { ["custom_id"] = customId, ["component_type"] = 2 }, null, messageId);

    /// <summary>The Ed25519 signature Discord sends (hex) over timestamp + body.</summary>
    public string Sign(string timestamp, string body)
    {
        var message = Encoding.UTF8.GetBytes(timestamp + body);
        var signer = new Ed25519Signer();
        signer.Init(true, _privateKey);
        signer.BlockUpdate(message, 0, message.Length);
        return Convert.ToHexStringLower(signer.GenerateSignature());
    }

    /// <summary>POSTs an interaction like Discord (JSON, <c>X-Signature-Ed25519</c>, <c>X-Signature-Timestamp</c>). The options forge
    /// the signature, change the body after signing, or send an old timestamp.</summary>
    public async Task<FakeResponse> SendInteractionAsync(Uri url, JsonObject interaction, HttpClient? through = null, string? forgedSignature = null,
        string? tamperedBody = null, DateTimeOffset? timestamp = null, (string Timestamp, string Signature)? replay = null)
    {
        var body = interaction.ToJsonString();
        var ts = replay?.Timestamp ?? (timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(tamperedBody ?? body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Signature-Ed25519", replay?.Signature ?? forgedSignature ?? Sign(ts, body));
        request.Headers.Add("X-Signature-Timestamp", ts);
        LastSignature = (ts, replay?.Signature ?? forgedSignature ?? Sign(ts, body));
        return await ReadAsync(await (through ?? Sender).SendAsync(request));
    }

    /// <summary>The timestamp and signature of the last interaction sent (to replay it).</summary>
    public (string Timestamp, string Signature) LastSignature { get; private set; }

    /// <inheritdoc />
    protected override FakeResponse TooManyRequests(TimeSpan retryAfter) =>
        FakeResponse.Json(429, new JsonObject { ["message"] = "You are being rate limited.", ["retry_after"] = retryAfter.TotalSeconds, ["global"] = false },
            new Dictionary<string, string>
            {
                ["Retry-After"] = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture), ["X-RateLimit-Scope"] = "user",
            });

    /// <inheritdoc />
    protected override FakeResponse ServerError(int status) =>
        FakeResponse.Json(status, new JsonObject { ["message"] = "500: Internal Server Error", ["code"] = 0 });

    /// <inheritdoc />
    protected override Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context)
    {
        const string prefix = "/api/v10/";
        if (request.Path.StartsWith("/attachments/", StringComparison.Ordinal) && request.Method == "GET")
        {
            return Task.FromResult(Cdn(request));
        }

        if (!request.Path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return Task.FromResult(Error(404, "404: Not Found", 0));
        }

        var parts = request.Path[prefix.Length..].Split('/');
        if (parts is ["channels", var channel, "typing"] && request.Method == "POST")
        {
            if (!Authorized(request))
            {
                return Task.FromResult(Error(401, "401: Unauthorized", 0));
            }

            _typing.Enqueue(channel);
            return Task.FromResult(new FakeResponse(204, "", ""));
        }

        if (parts is ["channels", var target, "messages"] && request.Method == "POST")
        {
            if (!Authorized(request))
            {
                return Task.FromResult(Error(401, "401: Unauthorized", 0));
            }

            if (KnownChannels.Count > 0 && !KnownChannels.Contains(target))
            {
                return Task.FromResult(Error(404, "Unknown Channel", 10003));
            }

            return Task.FromResult(Post("channel", target, request));
        }

        if (parts is ["webhooks", var app, var token, ..])
        {
            if (app != ApplicationId || !_tokens.TryGetValue(token, out var issued) || DateTimeOffset.UtcNow - issued.IssuedAt > TimeSpan.FromMinutes(15))
            {
                return Task.FromResult(Error(404, "Unknown Webhook", 10015));
            }

            if (parts.Length == 3 && request.Method == "POST")
            {
                return Task.FromResult(Post("followup", issued.ChannelId, request));
            }

            if (parts is [_, _, _, "messages", "@original"] && request.Method == "PATCH")
            {
                return Task.FromResult(Post("original", issued.ChannelId, request));
            }
        }

        return Task.FromResult(Error(405, "405: Method Not Allowed", 0));
    }

    private bool Authorized(RecordedRequest request) => request.Header("Authorization") == "Bot " + BotToken;

    private FakeResponse Post(string route, string channelId, RecordedRequest request)
    {
        JsonObject? payload;
        var files = new List<string>();
        if (request.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                payload = request.Form.TryGetValue("payload_json", out var json) ? JsonNode.Parse(json) as JsonObject : new JsonObject();
            }
            catch (JsonException)
            {
                payload = null;
            }

            files.AddRange(request.FormFields.Where(f => f.Key.StartsWith("files[", StringComparison.Ordinal)).Select(f => f.Value));
        }
        else
        {
            payload = request.Json as JsonObject;
        }

        if (payload is null)
        {
            return Error(400, "400: Bad Request", 50109);
        }

        var content = payload["content"]?.GetValueKind() == JsonValueKind.String ? payload["content"]!.GetValue<string>() : null;
        if (content?.Length > 2000)
        {
            return InvalidForm("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.");
        }

        if (payload["components"] is { } components && CheckComponents(components) is { } problem)
        {
            return InvalidForm("components", "COMPONENT_INVALID", problem);
        }

        if (string.IsNullOrEmpty(content) && payload["embeds"] is not JsonArray { Count: > 0 } && payload["components"] is null && files.Count == 0 && route != "original")
        {
            return Error(400, "Cannot send an empty message", 50006);
        }

        var id = Snowflake();
        _posted.Enqueue(new DiscordPostedMessage(route, channelId, id, content, payload, files));
        return FakeResponse.Json(200, new JsonObject
        {
            ["id"] = id, ["type"] = 0, ["channel_id"] = channelId, ["content"] = content ?? "",
            ["author"] = new JsonObject { ["id"] = ApplicationId, ["username"] = "Assistant", ["bot"] = true },
            ["timestamp"] = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        });
    }

    private static string? CheckComponents(JsonNode components)
    {
        if (components is not JsonArray { Count: <= 5 } rows)
        {
            return "At most 5 action rows.";
        }

        foreach (var row in rows)
        {
            if (row?["type"]?.GetValue<int>() != 1 || row["components"] is not JsonArray { Count: >= 1 and <= 5 } buttons)
            {
                return "An action row (type 1) holds 1 to 5 components.";
            }

            foreach (var button in buttons)
            {
                var label = button?["label"]?.GetValue<string>();
                var custom = button?["custom_id"]?.GetValue<string>();
                if (button?["type"]?.GetValue<int>() != 2 || label is not { Length: <= 80 } || custom is not { Length: >= 1 and <= 100 })
                {
                    return "A button (type 2) needs a label of at most 80 and a custom_id of 1 to 100 characters.";
                }
            }
        }

        return null;
    }

    private JsonObject Interaction(int type, string channelId, string userId, JsonObject data, DateTimeOffset? at, string? messageId = null)
    {
        var interaction = new JsonObject
        {
            ["id"] = Snowflake(at), ["application_id"] = ApplicationId, ["type"] = type, ["data"] = data,
            ["guild_id"] = "1184213318474215000", ["channel_id"] = channelId,
            ["channel"] = new JsonObject { ["id"] = channelId, ["type"] = 0 },
            ["member"] = new JsonObject { ["user"] = new JsonObject { ["id"] = userId, ["username"] = "user" + userId[^4..], ["global_name"] = "Discord User" } },
            ["token"] = NewToken(channelId, at), ["version"] = 1, ["locale"] = "en-US",
        };
        if (messageId is not null)
        {
            interaction["message"] = new JsonObject { ["id"] = messageId, ["channel_id"] = channelId };
        }

        return interaction;
    }

    private string NewToken(string channelId, DateTimeOffset? at = null)
    {
        var token = "aW50ZXJhY3Rpb246" + Guid.NewGuid().ToString("N") + Guid.NewGuid().ToString("N");
        _tokens[token] = (channelId, at ?? DateTimeOffset.UtcNow);
        return token;
    }

    private static FakeResponse Error(int status, string message, int code) =>
        FakeResponse.Json(status, new JsonObject { ["message"] = message, ["code"] = code });

    private static FakeResponse InvalidForm(string field, string code, string message) =>
        FakeResponse.Json(400, new JsonObject
        {
            ["message"] = "Invalid Form Body", ["code"] = 50035,
            ["errors"] = new JsonObject { [field] = new JsonObject { ["_errors"] = new JsonArray(new JsonObject { ["code"] = code, ["message"] = message }) } },
        });
}
