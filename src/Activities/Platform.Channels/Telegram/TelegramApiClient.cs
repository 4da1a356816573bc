using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Channels.Http;

namespace Platform.Channels.Telegram;

/// <summary>The answer of one Bot API call.</summary>
public sealed record TelegramResponse
{
    /// <summary>The <c>ok</c> field (false for transport failures too).</summary>
    public bool Ok { get; init; }

    /// <summary>The <c>result</c> field.</summary>
    public JsonNode? Result { get; init; }

    /// <summary>The HTTP status, or 0 when no answer came.</summary>
    public int HttpStatusCode { get; init; }

    /// <summary>The <c>error_code</c> field.</summary>
    public int? ErrorCode { get; init; }

    /// <summary>The <c>description</c> field (Telegram's error text).</summary>
    public string? Description { get; init; }

    /// <summary>The delay asked for by a 429 (<c>parameters.retry_after</c> or <c>Retry-After</c>).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>For failures, the same as a <see cref="SendResult"/>.</summary>
    public SendResult? Failure { get; init; }
}

/// <summary>A small Bot API client over <see cref="HttpClient"/> (<c>https://api.telegram.org/bot&lt;token&gt;/&lt;method&gt;</c>).</summary>
public sealed class TelegramApiClient(HttpClient http, TelegramOptions options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The options.</summary>
    public TelegramOptions Options { get; } = options;

    /// <summary>Calls a method with a JSON body.</summary>
    public Task<TelegramResponse> CallAsync(string method, JsonObject parameters, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, MethodUrl(method))
        {
            Content = new StringContent(parameters.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        return SendAsync(request, timeout, cancellationToken);
    }

    /// <summary><c>sendChatAction</c> (e.g. <c>typing</c>).</summary>
    public Task<TelegramResponse> SendChatActionAsync(string chatId, string action, long? messageThreadId = null, CancellationToken cancellationToken = default)
    {
        var parameters = new JsonObject { ["chat_id"] = ChatIdNode(chatId), ["action"] = action };
        if (messageThreadId is { } thread) parameters["message_thread_id"] = thread;
        return CallAsync("sendChatAction", parameters, cancellationToken: cancellationToken);
    }

    /// <summary><c>sendMessage</c>.</summary>
    public Task<TelegramResponse> SendMessageAsync(string chatId, string text, string? parseMode, long? replyToMessageId = null,
        long? messageThreadId = null, JsonObject? replyMarkup = null, CancellationToken cancellationToken = default)
    {
        var parameters = new JsonObject { ["chat_id"] = ChatIdNode(chatId), ["text"] = text };
        if (parseMode is not null)
        {
            parameters["parse_mode"] = parseMode;
        }

        if (messageThreadId is { } thread)
        {
            parameters["message_thread_id"] = thread;
        }

        if (replyToMessageId is { } replyTo)
        {
            parameters["reply_parameters"] = new JsonObject { ["message_id"] = replyTo, ["allow_sending_without_reply"] = true };
        }

        if (replyMarkup is not null)
        {
            parameters["reply_markup"] = replyMarkup;
        }

        return CallAsync("sendMessage", parameters, cancellationToken: cancellationToken);
    }

    /// <summary><c>sendDocument</c>: uploads the bytes (multipart) or passes a URL or <c>file_id</c>.</summary>
    public Task<TelegramResponse> SendDocumentAsync(string chatId, MessageAttachment attachment, long? replyToMessageId = null,
        long? messageThreadId = null, CancellationToken cancellationToken = default)
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent(chatId), "chat_id" },
        };
        if (messageThreadId is { } thread)
        {
            form.Add(new StringContent(thread.ToString(System.Globalization.CultureInfo.InvariantCulture)), "message_thread_id");
        }

        if (replyToMessageId is { } replyTo)
        {
            form.Add(new StringContent(new JsonObject { ["message_id"] = replyTo, ["allow_sending_without_reply"] = true }.ToJsonString()),
                "reply_parameters");
        }

        if (attachment.Content is { } content)
        {
            var file = new ByteArrayContent(content.ToArray());
            file.Headers.ContentType = MediaTypeHeaderValue.TryParse(attachment.ContentType, out var type)
                ? type
                : new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "document", attachment.Name);
        }
        else
        {
            var source = attachment.SourceUri ?? "";
            form.Add(new StringContent(source.StartsWith(TelegramUpdateParser.FileScheme, StringComparison.Ordinal)
                ? source[TelegramUpdateParser.FileScheme.Length..]
                : source), "document");
        }

        var request = new HttpRequestMessage(HttpMethod.Post, MethodUrl("sendDocument")) { Content = form };
        return SendAsync(request, null, cancellationToken);
    }

    /// <summary><c>getUpdates</c> with long polling; <see cref="TelegramResponse.Result"/> is the array of updates.</summary>
    public Task<TelegramResponse> GetUpdatesAsync(long? offset, int timeoutSeconds, CancellationToken cancellationToken = default)
    {
        var parameters = new JsonObject
        {
            ["timeout"] = timeoutSeconds,
            ["allowed_updates"] = new JsonArray(Options.AllowedUpdates.Select(u => (JsonNode?)u).ToArray()),
        };
        if (offset is { } value)
        {
            parameters["offset"] = value;
        }

        return CallAsync("getUpdates", parameters, Options.RequestTimeout + TimeSpan.FromSeconds(timeoutSeconds), cancellationToken);
    }

    /// <summary><c>setWebhook</c>: Telegram will POST updates to <paramref name="url"/> with
    /// <paramref name="secretToken"/> in <c>X-Telegram-Bot-Api-Secret-Token</c>.</summary>
    public Task<TelegramResponse> SetWebhookAsync(Uri url, string? secretToken, bool dropPendingUpdates = false,
        CancellationToken cancellationToken = default)
    {
        var parameters = new JsonObject
        {
            ["url"] = url.ToString(),
            ["allowed_updates"] = new JsonArray(Options.AllowedUpdates.Select(u => (JsonNode?)u).ToArray()),
            ["drop_pending_updates"] = dropPendingUpdates,
        };
        if (secretToken is not null)
        {
            parameters["secret_token"] = secretToken;
        }

        return CallAsync("setWebhook", parameters, cancellationToken: cancellationToken);
    }

    /// <summary><c>deleteWebhook</c> (needed before long polling when a webhook was set).</summary>
    public Task<TelegramResponse> DeleteWebhookAsync(bool dropPendingUpdates = false, CancellationToken cancellationToken = default) =>
        CallAsync("deleteWebhook", new JsonObject { ["drop_pending_updates"] = dropPendingUpdates }, cancellationToken: cancellationToken);

    /// <summary><c>getMe</c>: checks the token.</summary>
    public Task<TelegramResponse> GetMeAsync(CancellationToken cancellationToken = default) =>
        CallAsync("getMe", new JsonObject(), cancellationToken: cancellationToken);

    /// <summary><c>answerCallbackQuery</c>: stops the spinner on a pressed quick-reply button.</summary>
    public Task<TelegramResponse> AnswerCallbackQueryAsync(string callbackQueryId, string? text = null,
        CancellationToken cancellationToken = default)
    {
        var parameters = new JsonObject { ["callback_query_id"] = callbackQueryId };
        if (text is not null)
        {
            parameters["text"] = text;
        }

        return CallAsync("answerCallbackQuery", parameters, cancellationToken: cancellationToken);
    }

    /// <summary>Opens a file by its <c>file_id</c> for streaming: <c>getFile</c>, then <c>GET /file/bot&lt;token&gt;/&lt;file_path&gt;</c>.
    /// The size <c>getFile</c> declares is checked against <paramref name="policy"/> first.</summary>
    /// <exception cref="AttachmentTooLargeException">The file is larger than the limit.</exception>
    /// <exception cref="AttachmentDownloadException">Telegram refused (for example "file is too big": the Bot API serves files up to 20 MB) or could not be reached.</exception>
    public async Task<AttachmentDownload> OpenFileAsync(string fileId, string name, AttachmentPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var info = await CallAsync("getFile", new JsonObject { ["file_id"] = fileId }, cancellationToken: cancellationToken);
        if (!info.Ok || info.Result?["file_path"]?.GetValue<string>() is not { } path)
        {
            throw new AttachmentDownloadException($"Telegram getFile for '{name}' failed: {info.Description ?? info.Failure?.Error}",
                info.Failure?.Status == SendStatus.RetryableFailure);
        }

        if (info.Result["file_size"]?.GetValueKind() == JsonValueKind.Number)
        {
            policy.EnsureAllowed(name, info.Result["file_size"]!.GetValue<long>());
        }

        var request = new HttpRequestMessage(HttpMethod.Get, ChannelHttp.Combine(Options.ApiBaseUrl, $"file/bot{Options.BotToken}/{path}"));
        return await AttachmentDownload.SendAsync(http, request, "Telegram", name, policy, cancellationToken);
    }

    /// <summary>Downloads a file by its <c>file_id</c> (<c>getFile</c>, then <c>/file/bot&lt;token&gt;/&lt;file_path&gt;</c>),
    /// refusing files over the attachment limit.</summary>
    /// <exception cref="AttachmentTooLargeException">The file is larger than the limit.</exception>
    /// <exception cref="HttpRequestException">Telegram refused or could not be reached.</exception>
    public async Task<byte[]> DownloadFileAsync(string fileId, string name, CancellationToken cancellationToken = default)
    {
        var info = await CallAsync("getFile", new JsonObject { ["file_id"] = fileId }, cancellationToken: cancellationToken);
        if (!info.Ok || info.Result?["file_path"]?.GetValue<string>() is not { } path)
        {
            throw new HttpRequestException($"Telegram getFile failed: {info.Description ?? info.Failure?.Error}");
        }

        if (info.Result["file_size"]?.GetValue<long>() is { } declared)
        {
            Options.Attachments.EnsureAllowed(name, declared);
        }

        var url = ChannelHttp.Combine(Options.ApiBaseUrl, $"file/bot{Options.BotToken}/{path}");
        using var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Telegram file download answered {(int)response.StatusCode}.");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            Options.Attachments.EnsureAllowed(name, buffer.Length);
        }

        return buffer.ToArray();
    }

    private Uri MethodUrl(string method) => ChannelHttp.Combine(Options.ApiBaseUrl, $"bot{Options.BotToken}/{method}");

    private static JsonNode ChatIdNode(string chatId) =>
        long.TryParse(chatId, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var id)
            ? JsonValue.Create(id)
            : JsonValue.Create(chatId);

    private async Task<TelegramResponse> SendAsync(HttpRequestMessage request, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        using (request)
        {
            var (reply, failure) = await ChannelHttp.SendAsync(http, request, timeout ?? Options.RequestTimeout, "Telegram", _time,
                cancellationToken);
            if (reply is null)
            {
                return new TelegramResponse { Failure = failure };
            }

            JsonObject? body = null;
            try
            {
                body = JsonNode.Parse(reply.Body) as JsonObject;
            }
            catch (JsonException)
            {
            }

            var ok = reply.IsSuccess && body?["ok"]?.GetValueKind() == JsonValueKind.True;
            if (ok)
            {
                return new TelegramResponse { Ok = true, Result = body!["result"], HttpStatusCode = reply.StatusCode };
            }

            var errorCode = body?["error_code"]?.GetValueKind() == JsonValueKind.Number ? body["error_code"]!.GetValue<int>() : (int?)null;
            var description = body?["description"]?.GetValue<string>()
                ?? $"HTTP {reply.StatusCode}: {Truncate(reply.Body)}";
            var retryAfter = body?["parameters"]?["retry_after"]?.GetValueKind() == JsonValueKind.Number
                ? TimeSpan.FromSeconds(body["parameters"]!["retry_after"]!.GetValue<int>())
                : reply.RetryAfter;
            var status = reply.IsSuccess ? 500 : reply.StatusCode;
            return new TelegramResponse
            {
                HttpStatusCode = reply.StatusCode,
                ErrorCode = errorCode,
                Description = description,
                RetryAfter = retryAfter,
                Failure = ChannelHttp.Failure(status, $"Telegram: {description}",
                    (errorCode ?? reply.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture), retryAfter),
            };
        }
    }

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";
}
