using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Platform.Testing.Fakes;

/// <summary>A message the fake Slack accepted through <c>chat.postMessage</c>.</summary>
public sealed record SlackPostedMessage
{
    /// <summary>The channel.</summary>
    public required string Channel { get; init; }

    /// <summary>The <c>ts</c> the fake gave it.</summary>
    public required string Ts { get; init; }

    /// <summary>The <c>text</c>.</summary>
    public string? Text { get; init; }

    /// <summary>The <c>thread_ts</c>, or null.</summary>
    public string? ThreadTs { get; init; }

    /// <summary>The <c>blocks</c>, or null.</summary>
    public JsonArray? Blocks { get; init; }

    /// <summary>The <c>mrkdwn</c> flag (Slack's default is true).</summary>
    public bool Mrkdwn { get; init; } = true;
}

/// <summary>
/// A loopback Slack Web API (<c>/api/&lt;method&gt;</c>). Checks the bot token like Slack (Bearer header, or a
/// <c>token</c> field in form bodies; JSON bodies need the header): <c>not_authed</c> / <c>invalid_auth</c> with HTTP
/// 200 and <c>{"ok":false}</c>. <c>chat.postMessage</c> checks <c>channel</c> (<c>channel_not_found</c>), text or
/// blocks (<c>no_text</c>), length (<c>msg_too_long</c>) and block limits (<c>invalid_blocks</c>). Sends signed
/// Events API and interactivity payloads with <see cref="SendEventAsync"/> and <see cref="SendInteractionAsync"/>.
/// </summary>
public sealed class FakeSlackServer : FakeServer
{
    private readonly ConcurrentQueue<SlackPostedMessage> _posted = new();
    private readonly ConcurrentDictionary<string, (byte[] Content, string MimeType)> _files = new(StringComparer.Ordinal);
    private long _sequence;

    private FakeSlackServer(string botToken, string signingSecret)
    {
        BotToken = botToken;
        SigningSecret = signingSecret;
    }

    /// <summary>The accepted bot token.</summary>
    public string BotToken { get; }

    /// <summary>The signing secret used for inbound payloads.</summary>
    public string SigningSecret { get; }

    /// <summary>When not empty, only these channels exist.</summary>
    public HashSet<string> KnownChannels { get; } = [];

    /// <summary>Messages accepted so far.</summary>
    public IReadOnlyList<SlackPostedMessage> PostedMessages => [.. _posted];

    /// <summary>The Web API base URL (<c>…/api/</c>) to configure in the client.</summary>
    public Uri ApiBaseUrl => new(BaseUrl, "api/");

    /// <summary>Starts a fake.</summary>
    public static async Task<FakeSlackServer> StartAsync(string botToken = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy",
        string signingSecret = "8f742231b10e8888abcd99yyyzzz85a5")
    {
        var server = new FakeSlackServer(botToken, signingSecret);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>The v0 signature Slack computes: <c>v0=</c> + hex HMAC-SHA256 of <c>v0:{timestamp}:{body}</c>.</summary>
    public static string Sign(string signingSecret, long timestamp, string body) =>
        "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingSecret),
            Encoding.UTF8.GetBytes($"v0:{timestamp.ToString(CultureInfo.InvariantCulture)}:{body}")));

    /// <summary>
    /// POSTs an Events API payload to <paramref name="url"/> like Slack: JSON body, <c>X-Slack-Request-Timestamp</c>,
    /// <c>X-Slack-Signature</c>, and on redeliveries <c>X-Slack-Retry-Num</c> / <c>X-Slack-Retry-Reason</c>. Override
    /// the secret, timestamp or body after signing to test rejections.
    /// </summary>
    public Task<FakeResponse> SendEventAsync(Uri url, JsonObject payload, int? retryNum = null, string retryReason = "http_timeout",
        string? signingSecret = null, DateTimeOffset? timestamp = null, string? tamperedBody = null) =>
        SendSignedAsync(url, payload.ToJsonString(), "application/json", retryNum, retryReason, signingSecret, timestamp, tamperedBody);

    /// <summary>POSTs an interactivity payload (<c>payload=&lt;json&gt;</c> form body), signed.</summary>
    public Task<FakeResponse> SendInteractionAsync(Uri url, JsonObject payload, string? signingSecret = null) =>
        SendSignedAsync(url, "payload=" + Uri.EscapeDataString(payload.ToJsonString()), "application/x-www-form-urlencoded", null, "",
            signingSecret, null, null);

    /// <summary>
    /// Shares a file: the answer is the file object of a <c>file_share</c> message event, its <c>url_private</c> and
    /// <c>url_private_download</c> on this fake. Like Slack, the file is served only with <c>Authorization: Bearer &lt;bot
    /// token&gt;</c>; without it (or with another token) the answer is Slack's sign-in page (HTML, 200), not the file.
    /// </summary>
    public JsonObject AddFile(string name, string mimeType, byte[] content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var id = "F" + Interlocked.Increment(ref _sequence).ToString("D8", CultureInfo.InvariantCulture);
        _files[id] = (content, mimeType);
        var file = SlackPayloads.File(name, mimeType, content.Length);
        file["id"] = id;
        file["url_private"] = new Uri(BaseUrl, $"files-pri/T0FAKE-{id}/{Uri.EscapeDataString(name)}").ToString();
        file["url_private_download"] = new Uri(BaseUrl, $"files-pri/T0FAKE-{id}/download/{Uri.EscapeDataString(name)}").ToString();
        return file;
    }

    private FakeResponse File(RecordedRequest request)
    {
        var header = request.Header("Authorization");
        var id = request.Path.Split('/')[2]["T0FAKE-".Length..];
        if (header != "Bearer " + BotToken || !_files.TryGetValue(id, out var file))
        {
            return new FakeResponse(200, "<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to your workspace</body></html>",
                "text/html; charset=utf-8");
        }

        return new FakeResponse(200, "", file.MimeType) { Bytes = file.Content };
    }

    /// <inheritdoc />
    protected override FakeResponse TooManyRequests(TimeSpan retryAfter)
    {
        var seconds = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return FakeResponse.Json(429, new JsonObject { ["ok"] = false, ["error"] = "ratelimited" },
            new Dictionary<string, string> { ["Retry-After"] = seconds });
    }

    /// <inheritdoc />
    protected override FakeResponse ServerError(int status) =>
        new(status, "<html><body><h1>503 Service Unavailable</h1>Slack is having trouble.</body></html>", "text/html");

    /// <inheritdoc />
    protected override Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context)
    {
        if (request.Path.StartsWith("/files-pri/T0FAKE-", StringComparison.Ordinal) && request.Method == "GET")
        {
            return Task.FromResult(File(request));
        }

        if (!request.Path.StartsWith("/api/", StringComparison.Ordinal) || request.Method != "POST")
        {
            return Task.FromResult(new FakeResponse(404, "Not Found", "text/plain"));
        }

        var method = request.Path["/api/".Length..];
        var isJson = request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true;
        var arguments = isJson ? request.Json as JsonObject : null;
        if (isJson && arguments is null)
        {
            return Task.FromResult(Fail("invalid_json"));
        }

        arguments ??= new JsonObject(request.FormFields.GroupBy(f => f.Key)
            .Select(g => new KeyValuePair<string, JsonNode?>(g.Key, JsonValue.Create(g.First().Value))));
        var header = request.Header("Authorization");
        var token = header?.StartsWith("Bearer ", StringComparison.Ordinal) == true ? header[7..].Trim() : null;
        if (token is null && !isJson)
        {
            token = Str(arguments, "token");
        }

        if (string.IsNullOrEmpty(token))
        {
            return Task.FromResult(Fail("not_authed"));
        }

        if (token != BotToken)
        {
            return Task.FromResult(Fail("invalid_auth"));
        }

        var warnings = isJson && request.ContentType?.Contains("charset", StringComparison.OrdinalIgnoreCase) != true
            ? new[] { "missing_charset" }
            : [];
        var response = method switch
        {
            "auth.test" => Ok(new JsonObject { ["url"] = "https://fake.slack.com/", ["team"] = "Fake", ["user"] = "bot", ["team_id"] = "T0FAKE", ["user_id"] = "UBOT" }),
            "chat.postMessage" => PostMessage(arguments),
            "assistant.threads.setStatus" => SetAssistantStatus(arguments),
            _ => Fail("unknown_method"),
        };
        if (warnings.Length > 0 && response.Status == 200 && JsonNode.Parse(response.Body) is JsonObject body)
        {
            body["warning"] = string.Join(',', warnings);
            body["response_metadata"] = new JsonObject { ["warnings"] = new JsonArray(warnings.Select(w => (JsonNode?)w).ToArray()) };
            response = FakeResponse.Json(200, body);
        }

        return Task.FromResult(response);
    }

    private readonly System.Collections.Concurrent.ConcurrentQueue<(string ChannelId, string ThreadTs, string Status)> _statuses = new();

    /// <summary>The statuses set through <c>assistant.threads.setStatus</c> (typing indicators), in order.</summary>
    public IReadOnlyList<(string ChannelId, string ThreadTs, string Status)> AssistantStatuses => [.. _statuses];

    /// <summary><c>assistant.threads.setStatus</c> as Slack checks it: <c>channel_id</c> (<c>channel_not_found</c>),
    /// <c>thread_ts</c> (<c>invalid_thread_ts</c>), <c>status</c> required (<c>invalid_arguments</c>; an empty string clears it).</summary>
    private FakeResponse SetAssistantStatus(JsonObject arguments)
    {
        var channel = Str(arguments, "channel_id");
        if (string.IsNullOrEmpty(channel) || (KnownChannels.Count > 0 && !KnownChannels.Contains(channel)))
        {
            return Fail("channel_not_found");
        }

        var threadTs = Str(arguments, "thread_ts");
        if (string.IsNullOrEmpty(threadTs) || !System.Text.RegularExpressions.Regex.IsMatch(threadTs, @"^\d+\.\d+$"))
        {
            return Fail("invalid_thread_ts");
        }

        if (Str(arguments, "status") is not { } status)
        {
            return Fail("invalid_arguments");
        }

        _statuses.Enqueue((channel, threadTs, status));
        return Ok(new JsonObject());
    }

    private FakeResponse PostMessage(JsonObject arguments)
    {
        var channel = Str(arguments, "channel");
        if (string.IsNullOrEmpty(channel) || (KnownChannels.Count > 0 && !KnownChannels.Contains(channel)))
        {
            return Fail("channel_not_found");
        }

        var text = Str(arguments, "text");
        JsonArray? blocks = null;
        if (arguments["blocks"] is { } blocksNode)
        {
            try
            {
                blocks = blocksNode.GetValueKind() == JsonValueKind.String
                    ? JsonNode.Parse(blocksNode.GetValue<string>()) as JsonArray
                    : blocksNode as JsonArray;
            }
            catch (JsonException)
            {
            }

            if (blocks is null || !ValidBlocks(blocks))
            {
                return Fail("invalid_blocks");
            }
        }

        if (string.IsNullOrEmpty(text) && blocks is null && arguments["attachments"] is null)
        {
            return Fail("no_text");
        }

        if (text?.Length > 40_000)
        {
            return Fail("msg_too_long");
        }

        var ts = $"{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}.{Interlocked.Increment(ref _sequence):000000}";
        var threadTs = Str(arguments, "thread_ts");
        var mrkdwn = arguments["mrkdwn"] is not { } flag || flag.GetValueKind() != JsonValueKind.False && Str(arguments, "mrkdwn") != "false";
        _posted.Enqueue(new SlackPostedMessage { Channel = channel, Ts = ts, Text = text, ThreadTs = threadTs, Blocks = blocks, Mrkdwn = mrkdwn });
        var message = new JsonObject { ["type"] = "message", ["text"] = text ?? "", ["user"] = "UBOT", ["bot_id"] = "BFAKE", ["ts"] = ts };
        if (threadTs is not null)
        {
            message["thread_ts"] = threadTs;
        }

        return Ok(new JsonObject { ["channel"] = channel, ["ts"] = ts, ["message"] = message });
    }

    private static bool ValidBlocks(JsonArray blocks)
    {
        if (blocks.Count > 50)
        {
            return false;
        }

        foreach (var block in blocks)
        {
            if (block is not JsonObject b || Str(b, "type") is not { } type)
            {
                return false;
            }

            if (type == "section" && (b["text"]?["text"]?.GetValue<string>() is not { } text || text.Length is 0 or > 3000))
            {
                return false;
            }

            if (type == "actions")
            {
                if (b["elements"] is not JsonArray { Count: > 0 and <= 25 } elements)
                {
                    return false;
                }

                foreach (var element in elements)
                {
                    var label = element?["text"]?["text"]?.GetValue<string>();
                    var value = element?["value"]?.GetValue<string>();
                    if (Str(element as JsonObject, "type") != "button" || label is null || label.Length > 75 || value?.Length > 2000)
                    {
                        return false;
                    }
                }
            }
        }

        return true;
    }

    private async Task<FakeResponse> SendSignedAsync(Uri url, string body, string contentType, int? retryNum, string retryReason,
        string? signingSecret, DateTimeOffset? timestamp, string? tamperedBody)
    {
        var ts = (timestamp ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(tamperedBody ?? body, Encoding.UTF8, contentType),
        };
        request.Headers.Add("X-Slack-Request-Timestamp", ts.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("X-Slack-Signature", Sign(signingSecret ?? SigningSecret, ts, body));
        if (retryNum is { } retry)
        {
            request.Headers.Add("X-Slack-Retry-Num", retry.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add("X-Slack-Retry-Reason", retryReason);
        }

        return await ReadAsync(await Sender.SendAsync(request));
    }

    private static string? Str(JsonObject? json, string key) =>
        json?[key] is JsonValue value ? value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString() : null;

    private static FakeResponse Ok(JsonObject body)
    {
        body["ok"] = true;
        return FakeResponse.Json(200, body);
    }

    private static FakeResponse Fail(string error) => FakeResponse.Json(200, new JsonObject { ["ok"] = false, ["error"] = error });
}
