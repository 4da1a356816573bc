using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Platform.Testing.Fakes;

/// <summary>A message the fake Telegram accepted through <c>sendMessage</c> or <c>sendDocument</c>.</summary>
public sealed record TelegramSentMessage
{
    /// <summary>The <c>message_id</c> the fake gave it.</summary>
    public required long MessageId { get; init; }

    /// <summary>The <c>chat_id</c> as sent.</summary>
    public required string ChatId { get; init; }

    /// <summary>The text as sent (with markup), or the document reference.</summary>
    public required string Text { get; init; }

    /// <summary>The text after entity parsing (what the user reads).</summary>
    public required string PlainText { get; init; }

    /// <summary>The <c>parse_mode</c>, or null.</summary>
    public string? ParseMode { get; init; }

    /// <summary>The <c>reply_markup</c>, or null.</summary>
    public JsonNode? ReplyMarkup { get; init; }

    /// <summary><c>reply_parameters.message_id</c> (or the old <c>reply_to_message_id</c>), or null.</summary>
    public long? ReplyToMessageId { get; init; }

    /// <summary><c>message_thread_id</c>, or null.</summary>
    public long? MessageThreadId { get; init; }

    /// <summary>The method (<c>sendMessage</c> or <c>sendDocument</c>).</summary>
    public string Method { get; init; } = "sendMessage";
}

/// <summary>A chat action the fake Telegram accepted through <c>sendChatAction</c>.</summary>
/// <param name="ChatId">The <c>chat_id</c> as sent.</param>
/// <param name="Action">The action, e.g. <c>typing</c>.</param>
/// <param name="MessageThreadId">The <c>message_thread_id</c>, or null.</param>
/// <param name="At">When it arrived.</param>
public sealed record TelegramChatAction(string ChatId, string Action, long? MessageThreadId, DateTimeOffset At);

/// <summary>
/// A loopback Bot API: <c>/bot&lt;token&gt;/&lt;method&gt;</c> with parameters as query, form, multipart or JSON, like
/// the real one. Checks the token (401 Unauthorized), required fields, <c>parse_mode</c> entity parsing (400 "can't
/// parse entities"), the 4096-character limit, inline keyboards (<c>callback_data</c> 1–64 bytes), and the
/// webhook/getUpdates conflict (409). Queue updates for <c>getUpdates</c> with <see cref="EnqueueUpdate"/>, or POST them
/// to a webhook with <see cref="SendUpdateAsync"/>.
/// </summary>
public sealed class FakeTelegramServer : FakeServer
{
    private static readonly Regex SecretTokenPattern = new("^[A-Za-z0-9_-]{1,256}$", RegexOptions.Compiled);
    private readonly ConcurrentQueue<TelegramSentMessage> _sent = new();
    private readonly List<JsonObject> _updates = [];
    private readonly ConcurrentDictionary<string, (string Path, byte[] Content)> _files = new();
    private readonly Lock _updatesLock = new();
    private TaskCompletionSource _updateArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextMessageId = 1000;
    private long _nextUpdateId = 500_000;

    private FakeTelegramServer(string botToken) => BotToken = botToken;

    /// <summary>The token the fake accepts.</summary>
    public string BotToken { get; }

    /// <summary>When not empty, only these chat ids exist (others get "chat not found").</summary>
    public HashSet<string> KnownChatIds { get; } = [];

    /// <summary>The webhook URL set through <c>setWebhook</c>, or null.</summary>
    public string? WebhookUrl { get; private set; }

    /// <summary>The secret token set through <c>setWebhook</c>, or null.</summary>
    public string? WebhookSecretToken { get; private set; }

    /// <summary>The longest a long poll waits here, whatever <c>timeout</c> asks (keeps tests fast).</summary>
    public TimeSpan MaxLongPollWait { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Messages accepted so far.</summary>
    public IReadOnlyList<TelegramSentMessage> SentMessages => [.. _sent];

    /// <summary>The updates not yet confirmed by a <c>getUpdates</c> offset.</summary>
    public int PendingUpdates
    {
        get
        {
            lock (_updatesLock)
            {
                return _updates.Count;
            }
        }
    }

    /// <summary>Starts a fake that accepts <paramref name="botToken"/>.</summary>
    public static async Task<FakeTelegramServer> StartAsync(string botToken = "123456:TEST-token_abcdefghijklmnopqrstuvwxyz")
    {
        var server = new FakeTelegramServer(botToken);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Makes a file downloadable through <c>getFile</c> and <c>/file/bot&lt;token&gt;/&lt;path&gt;</c>.</summary>
    public void AddFile(string fileId, string filePath, byte[] content) => _files[fileId] = (filePath, content);

    /// <summary>Queues an update for <c>getUpdates</c>; a missing <c>update_id</c> is assigned. Returns the update_id.</summary>
    public long EnqueueUpdate(JsonObject update)
    {
        lock (_updatesLock)
        {
            if (update["update_id"] is null)
            {
                update["update_id"] = Interlocked.Increment(ref _nextUpdateId);
            }

            _updates.Add(update);
            _updateArrived.TrySetResult();
            return update["update_id"]!.GetValue<long>();
        }
    }

    /// <summary>POSTs an update to a webhook URL like Telegram does: JSON body, and the secret token header when
    /// <paramref name="secretToken"/> is given (pass the one set by <c>setWebhook</c>, or a wrong one).</summary>
    public async Task<FakeResponse> SendUpdateAsync(Uri webhookUrl, JsonObject update, string? secretToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, webhookUrl)
        {
            Content = new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (secretToken is not null)
        {
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", secretToken);
        }

        return await ReadAsync(await Sender.SendAsync(request));
    }

    /// <inheritdoc />
    protected override FakeResponse TooManyRequests(TimeSpan retryAfter)
    {
        var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
        return FakeResponse.Json(429, new JsonObject
        {
            ["ok"] = false,
            ["error_code"] = 429,
            ["description"] = $"Too Many Requests: retry after {seconds}",
            ["parameters"] = new JsonObject { ["retry_after"] = seconds },
        }, new Dictionary<string, string> { ["Retry-After"] = seconds.ToString(CultureInfo.InvariantCulture) });
    }

    /// <inheritdoc />
    protected override FakeResponse ServerError(int status) => FakeResponse.Json(status, new JsonObject
    {
        ["ok"] = false,
        ["error_code"] = status,
        ["description"] = status == 502 ? "Bad Gateway" : "Internal Server Error",
    });

    /// <inheritdoc />
    protected override async Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context)
    {
        var segments = request.Path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length >= 3 && segments[0] == "file" && segments[1].StartsWith("bot", StringComparison.Ordinal))
        {
            return DownloadFile(segments[1][3..], string.Join('/', segments[2..]));
        }

        if (segments.Length != 2 || !segments[0].StartsWith("bot", StringComparison.Ordinal))
        {
            return Error(404, "Not Found");
        }

        if (segments[0][3..] != BotToken)
        {
            return Error(401, "Unauthorized");
        }

        var parameters = Parameters(request);
        return segments[1].ToLowerInvariant() switch
        {
            "getme" => Ok(new JsonObject { ["id"] = BotId, ["is_bot"] = true, ["first_name"] = "Fake Bot", ["username"] = "fake_bot" }),
            "sendmessage" => SendMessage(parameters),
            "sendchataction" => SendChatAction(parameters),
            "senddocument" => SendDocument(parameters),
            "getupdates" => await GetUpdatesAsync(parameters, context.RequestAborted),
            "setwebhook" => SetWebhook(parameters),
            "deletewebhook" => DeleteWebhook(),
            "getwebhookinfo" => Ok(new JsonObject { ["url"] = WebhookUrl ?? "", ["pending_update_count"] = PendingUpdates }),
            "answercallbackquery" => Str(parameters, "callback_query_id") is null
                ? Error(400, "Bad Request: QUERY_ID_INVALID")
                : Ok(JsonValue.Create(true)),
            "getfile" => GetFile(parameters),
            _ => Error(404, "Not Found"),
        };
    }

    private static readonly HashSet<string> ChatActions =
    [
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document",
        "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    ];

    private readonly ConcurrentQueue<TelegramChatAction> _actions = new();

    /// <summary>The chat actions accepted through <c>sendChatAction</c> (typing indicators), in order.</summary>
    public IReadOnlyList<TelegramChatAction> ChatActionsSent => [.. _actions];

    /// <summary><c>sendChatAction</c> as the Bot API checks it: <c>chat_id</c> (400 "chat_id is empty" / "chat not found"),
    /// <c>action</c> one of the documented actions (400 "wrong parameter action in request"); answers <c>true</c>.</summary>
    private FakeResponse SendChatAction(Dictionary<string, JsonNode?> parameters)
    {
        var chatId = Str(parameters, "chat_id");
        if (string.IsNullOrEmpty(chatId))
        {
            return Error(400, "Bad Request: chat_id is empty");
        }

        if (KnownChatIds.Count > 0 && !KnownChatIds.Contains(chatId))
        {
            return Error(400, "Bad Request: chat not found");
        }

        var action = Str(parameters, "action");
        if (string.IsNullOrEmpty(action))
        {
            return Error(400, "Bad Request: action is empty");
        }

        if (!ChatActions.Contains(action))
        {
            return Error(400, "Bad Request: wrong parameter action in request");
        }

        long? thread = long.TryParse(Str(parameters, "message_thread_id"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t : null;
        _actions.Enqueue(new TelegramChatAction(chatId, action, thread, DateTimeOffset.UtcNow));
        return Ok(JsonValue.Create(true));
    }

    private long BotId => long.Parse(BotToken.Split(':')[0], CultureInfo.InvariantCulture);

    private FakeResponse SendMessage(Dictionary<string, JsonNode?> parameters)
    {
        var chatId = Str(parameters, "chat_id");
        if (string.IsNullOrEmpty(chatId))
        {
            return Error(400, "Bad Request: chat_id is empty");
        }

        if (KnownChatIds.Count > 0 && !KnownChatIds.Contains(chatId))
        {
            return Error(400, "Bad Request: chat not found");
        }

        var text = Str(parameters, "text");
        if (string.IsNullOrWhiteSpace(text))
        {
            return Error(400, "Bad Request: message text is empty");
        }

        var parseMode = Str(parameters, "parse_mode");
        string? error = null;
        var plain = parseMode switch
        {
            null or "" => text,
            "HTML" or "html" => TelegramEntityParser.ParseHtml(text, out error),
            "MarkdownV2" or "markdownv2" => TelegramEntityParser.ParseMarkdownV2(text, out error),
            "Markdown" or "markdown" => text,
            _ => null,
        };
        if (plain is null)
        {
            return Error(400, error is null ? "Bad Request: unsupported parse_mode" : "Bad Request: can't parse entities: " + error);
        }

        if (string.IsNullOrWhiteSpace(plain))
        {
            return Error(400, "Bad Request: message text is empty");
        }

        if (plain.Length > 4096)
        {
            return Error(400, "Bad Request: message is too long");
        }

        var markup = ReplyMarkup(parameters, out var markupError);
        if (markupError is not null)
        {
            return Error(400, markupError);
        }

        var message = Record(new TelegramSentMessage
        {
            MessageId = Interlocked.Increment(ref _nextMessageId),
            ChatId = chatId,
            Text = text,
            PlainText = plain,
            ParseMode = parseMode,
            ReplyMarkup = markup,
            ReplyToMessageId = ReplyTo(parameters),
            MessageThreadId = Long(parameters, "message_thread_id"),
        });
        return Ok(MessageJson(message, new JsonObject { ["text"] = plain }));
    }

    private FakeResponse SendDocument(Dictionary<string, JsonNode?> parameters)
    {
        var chatId = Str(parameters, "chat_id");
        if (string.IsNullOrEmpty(chatId))
        {
            return Error(400, "Bad Request: chat_id is empty");
        }

        if (KnownChatIds.Count > 0 && !KnownChatIds.Contains(chatId))
        {
            return Error(400, "Bad Request: chat not found");
        }

        var document = Str(parameters, "document");
        if (string.IsNullOrEmpty(document))
        {
            return Error(400, "Bad Request: there is no document in the request");
        }

        var message = Record(new TelegramSentMessage
        {
            MessageId = Interlocked.Increment(ref _nextMessageId),
            ChatId = chatId,
            Text = document,
            PlainText = Str(parameters, "caption") ?? "",
            ReplyToMessageId = ReplyTo(parameters),
            MessageThreadId = Long(parameters, "message_thread_id"),
            Method = "sendDocument",
        });
        return Ok(MessageJson(message, new JsonObject
        {
            ["document"] = new JsonObject { ["file_id"] = "BQACAgI" + message.MessageId, ["file_unique_id"] = "AgAD" + message.MessageId, ["file_name"] = document },
        }));
    }

    private async Task<FakeResponse> GetUpdatesAsync(Dictionary<string, JsonNode?> parameters, CancellationToken aborted)
    {
        if (WebhookUrl is not null)
        {
            return Error(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
        }

        var offset = Long(parameters, "offset");
        var timeout = TimeSpan.FromSeconds(Long(parameters, "timeout") ?? 0);
        var limit = (int)Math.Clamp(Long(parameters, "limit") ?? 100, 1, 100);
        var deadline = DateTime.UtcNow + (timeout < MaxLongPollWait ? timeout : MaxLongPollWait);
        while (true)
        {
            Task arrived;
            lock (_updatesLock)
            {
                if (offset is { } confirmed)
                {
                    _updates.RemoveAll(u => u["update_id"]!.GetValue<long>() < confirmed);
                }

                if (_updates.Count > 0 || DateTime.UtcNow >= deadline)
                {
                    return Ok(new JsonArray(_updates.Take(limit).Select(u => (JsonNode?)u.DeepClone()).ToArray()));
                }

                if (_updateArrived.Task.IsCompleted)
                {
                    _updateArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                arrived = _updateArrived.Task;
            }

            var wait = deadline - DateTime.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    await arrived.WaitAsync(wait, aborted);
                }
                catch (TimeoutException)
                {
                }
            }
        }
    }

    private FakeResponse SetWebhook(Dictionary<string, JsonNode?> parameters)
    {
        var url = Str(parameters, "url");
        if (string.IsNullOrEmpty(url))
        {
            return DeleteWebhook();
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "https")
        {
            return Error(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook");
        }

        var secret = Str(parameters, "secret_token");
        if (secret is not null && !SecretTokenPattern.IsMatch(secret))
        {
            return Error(400, "Bad Request: secret token contains unallowed characters");
        }

        WebhookUrl = url;
        WebhookSecretToken = secret;
        return Ok(JsonValue.Create(true), "Webhook was set");
    }

    private FakeResponse DeleteWebhook()
    {
        var existed = WebhookUrl is not null;
        WebhookUrl = null;
        WebhookSecretToken = null;
        return Ok(JsonValue.Create(true), existed ? "Webhook was deleted" : "Webhook is already deleted");
    }

    private FakeResponse GetFile(Dictionary<string, JsonNode?> parameters)
    {
        var fileId = Str(parameters, "file_id");
        if (fileId is null || !_files.TryGetValue(fileId, out var file))
        {
            return Error(400, "Bad Request: invalid file_id");
        }

        return Ok(new JsonObject
        {
            ["file_id"] = fileId,
            ["file_unique_id"] = "u" + fileId,
            ["file_size"] = file.Content.Length,
            ["file_path"] = file.Path,
        });
    }

    private FakeResponse DownloadFile(string token, string path)
    {
        if (token != BotToken)
        {
            return Error(401, "Unauthorized");
        }

        var file = _files.Values.FirstOrDefault(f => f.Path == path);
        return file.Content is null
            ? Error(404, "Not Found")
            : new FakeResponse(200, "", "application/octet-stream") { Bytes = file.Content };
    }

    private TelegramSentMessage Record(TelegramSentMessage message)
    {
        _sent.Enqueue(message);
        return message;
    }

    private JsonObject MessageJson(TelegramSentMessage message, JsonObject extra)
    {
        var json = new JsonObject
        {
            ["message_id"] = message.MessageId,
            ["from"] = new JsonObject { ["id"] = BotId, ["is_bot"] = true, ["first_name"] = "Fake Bot", ["username"] = "fake_bot" },
            ["chat"] = long.TryParse(message.ChatId, CultureInfo.InvariantCulture, out var id)
                ? new JsonObject { ["id"] = id, ["type"] = id < 0 ? "supergroup" : "private" }
                : new JsonObject { ["id"] = -1001, ["type"] = "channel", ["username"] = message.ChatId.TrimStart('@') },
            ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        };
        if (message.MessageThreadId is { } thread)
        {
            json["message_thread_id"] = thread;
        }

        foreach (var property in extra.ToList())
        {
            extra.Remove(property.Key);
            json[property.Key] = property.Value;
        }

        return json;
    }

    private static JsonNode? ReplyMarkup(Dictionary<string, JsonNode?> parameters, out string? error)
    {
        error = null;
        if (!parameters.TryGetValue("reply_markup", out var node) || node is null)
        {
            return null;
        }

        try
        {
            if (node.GetValueKind() == JsonValueKind.String)
            {
                node = JsonNode.Parse(node.GetValue<string>());
            }
        }
        catch (JsonException)
        {
            error = "Bad Request: can't parse reply keyboard markup JSON object";
            return null;
        }

        if (node is not JsonObject markup)
        {
            error = "Bad Request: can't parse reply keyboard markup JSON object";
            return null;
        }

        if (markup["inline_keyboard"] is { } keyboard)
        {
            if (keyboard is not JsonArray rows || rows.Any(r => r is not JsonArray))
            {
                error = "Bad Request: field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array of Arrays";
                return null;
            }

            foreach (var button in rows.SelectMany(r => r!.AsArray()))
            {
                if (button is not JsonObject b || b["text"]?.GetValueKind() != JsonValueKind.String)
                {
                    error = "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
                    return null;
                }

                var data = b["callback_data"]?.GetValue<string>();
                if (data is not null && Encoding.UTF8.GetByteCount(data) is < 1 or > 64)
                {
                    error = "Bad Request: BUTTON_DATA_INVALID";
                    return null;
                }

                if (data is null && b["url"] is null)
                {
                    error = "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must have exactly one optional field";
                    return null;
                }
            }
        }

        return markup;
    }

    private static long? ReplyTo(Dictionary<string, JsonNode?> parameters)
    {
        if (parameters.TryGetValue("reply_parameters", out var node) && node is not null)
        {
            if (node.GetValueKind() == JsonValueKind.String)
            {
                node = JsonNode.Parse(node.GetValue<string>());
            }

            return node?["message_id"]?.GetValue<long>();
        }

        return Long(parameters, "reply_to_message_id");
    }

    private static Dictionary<string, JsonNode?> Parameters(RecordedRequest request)
    {
        var parameters = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
        foreach (var pair in ParseForm(request.Query.TrimStart('?')))
        {
            parameters[pair.Key] = JsonValue.Create(pair.Value);
        }

        foreach (var pair in request.FormFields)
        {
            parameters[pair.Key] = JsonValue.Create(pair.Value);
        }

        if (request.Json is JsonObject json)
        {
            foreach (var property in json)
            {
                parameters[property.Key] = property.Value?.DeepClone();
            }
        }

        return parameters;
    }

    private static string? Str(Dictionary<string, JsonNode?> parameters, string key) =>
        parameters.TryGetValue(key, out var node) && node is JsonValue value
            ? value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString()
            : null;

    private static long? Long(Dictionary<string, JsonNode?> parameters, string key) =>
        long.TryParse(Str(parameters, key), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static FakeResponse Ok(JsonNode result, string? description = null)
    {
        var body = new JsonObject { ["ok"] = true, ["result"] = result };
        if (description is not null)
        {
            body["description"] = description;
        }

        return FakeResponse.Json(200, body);
    }

    private static FakeResponse Error(int code, string description) =>
        FakeResponse.Json(code, new JsonObject { ["ok"] = false, ["error_code"] = code, ["description"] = description });
}
