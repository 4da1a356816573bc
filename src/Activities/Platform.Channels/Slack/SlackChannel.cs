using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Channels.Http;
using Platform.Channels.Rendering;

namespace Platform.Channels.Slack;

/// <summary>
/// One Slack app: Events API and interactivity verification and parsing in, <c>chat.postMessage</c> out. Create one
/// per configured app with an <see cref="HttpClient"/> from <c>IHttpClientFactory</c>.
/// </summary>
public sealed class SlackChannel : IChannelSender, ITypingChannel, IInboundAttachmentSource
{
    /// <summary>Slack errors in a 200 <c>{"ok":false}</c> answer that are worth retrying.</summary>
    private static readonly HashSet<string> RetryableErrors =
        ["ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"];

    private readonly HttpClient _http;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the channel.</summary>
    public SlackChannel(string channelName, SlackOptions options, HttpClient http, TimeProvider? time = null,
        ILogger<SlackChannel>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        ArgumentException.ThrowIfNullOrEmpty(options.SigningSecret);
        ChannelName = channelName;
        Options = options;
        _http = http;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<SlackChannel>.Instance;
    }

    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Slack;

    /// <inheritdoc />
    public string ChannelName { get; }

    /// <summary>The options.</summary>
    public SlackOptions Options { get; }

    /// <summary>True for a shared file's <c>url_private</c> on Slack's file host (<c>files.slack.com</c>, or the host of
    /// <see cref="SlackOptions.ApiBaseUrl"/>): the bot token is sent to no other host.</summary>
    public bool CanOpen(MessageAttachment attachment) =>
        Uri.TryCreate(attachment?.SourceUri, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
        && (uri.Host.Equals("files.slack.com", StringComparison.OrdinalIgnoreCase) || uri.Authority.Equals(Options.ApiBaseUrl.Authority, StringComparison.OrdinalIgnoreCase));

    /// <summary>Downloads a shared file: <c>GET url_private</c> with <c>Authorization: Bearer &lt;bot token&gt;</c> (the app
    /// needs the <c>files:read</c> scope). Slack answers its sign-in page instead of the file when the token may not read it.</summary>
    public async Task<AttachmentDownload> OpenAsync(MessageAttachment attachment, AttachmentPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        if (!CanOpen(attachment)) throw new AttachmentDownloadException($"'{attachment.SourceUri}' is not a Slack file URL.", false);
        var request = new HttpRequestMessage(HttpMethod.Get, attachment.SourceUri);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Options.BotToken);
        var download = await AttachmentDownload.SendAsync(_http, request, "Slack", attachment.Name, policy, cancellationToken).ConfigureAwait(false);
        if (download.ContentType is "text/html" && !attachment.ContentType.StartsWith("text/html", StringComparison.OrdinalIgnoreCase))
        {
            await download.DisposeAsync().ConfigureAwait(false);
            throw new AttachmentDownloadException(
                $"Slack answered its sign-in page instead of the file '{attachment.Name}': give the app the files:read bot scope, reinstall it, and check the botToken.", false);
        }

        return download;
    }

    /// <summary>
    /// Verifies (v0 signature, timestamp window) and parses one Events API delivery. Pass the raw body exactly as
    /// received and the header values (<see cref="SlackSignature.TimestampHeader"/>,
    /// <see cref="SlackSignature.SignatureHeader"/>, and on redeliveries <see cref="SlackSignature.RetryNumHeader"/>,
    /// <see cref="SlackSignature.RetryReasonHeader"/>). Answer within three seconds, or Slack retries.
    /// </summary>
    public InboundResult HandleEvent(string body, string? timestamp, string? signature, string? retryNum = null, string? retryReason = null)
    {
        var result = SlackSignature.Verify(Options.SigningSecret, timestamp, signature, body, _time.GetUtcNow(), Options.MaxClockSkew)
            ?? SlackEventParser.ParseEvent(ChannelName, body, Options.Attachments, _time.GetUtcNow(), Options.BotUserId);
        var retry = int.TryParse(retryNum, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? n
            : (int?)null;
        if (retry is not null && result.Message is { } message)
        {
            result = result with
            {
                Message = message with
                {
                    Metadata = new Dictionary<string, string>(message.Metadata) { ["slack.retry_num"] = retryNum!, ["slack.retry_reason"] = retryReason ?? "" },
                },
            };
        }

        return Log(result with { RetryNumber = retry, RetryReason = retryReason });
    }

    /// <summary>Verifies and parses one interactivity delivery (a quick-reply button press).</summary>
    public InboundResult HandleInteraction(string formBody, string? timestamp, string? signature) =>
        Log(SlackSignature.Verify(Options.SigningSecret, timestamp, signature, formBody, _time.GetUtcNow(), Options.MaxClockSkew)
            ?? SlackEventParser.ParseInteraction(ChannelName, formBody, _time.GetUtcNow()));

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        if (message.Attachments.FirstOrDefault(a => !AttachmentPolicy.IsHttpUrl(a.SourceUri)) is { } local)
        {
            return SendResult.Permanent(
                $"Attachment '{local.Name}' has no http(s) URL; this Slack adapter links files by URL and does not upload them.",
                "attachment_upload_unsupported");
        }

        var markdown = message.Text;
        foreach (var attachment in message.Attachments)
        {
            markdown += $"\n\n[{attachment.Name.Replace("]", "", StringComparison.Ordinal)}]({attachment.SourceUri})";
        }

        var parts = MessageRenderer.RenderParts(markdown, TextFormat.SlackMrkdwn, Options.MaxMessageLength);
        if (parts.Count == 0)
        {
            return SendResult.Permanent("The message has no text.", "no_text");
        }

        var result = await PartSender.SendAsync(parts.Count, message.SkipParts, async (index, ct) =>
        {
            var payload = new JsonObject { ["channel"] = recipient, ["text"] = parts[index], ["mrkdwn"] = true };
            if (!string.IsNullOrEmpty(message.ThreadId))
            {
                payload["thread_ts"] = message.ThreadId;
            }

            if (index == parts.Count - 1 && message.QuickReplies.Count > 0)
            {
                payload["blocks"] = Blocks(parts[index], message.QuickReplies);
            }

            return await PostAsync("chat.postMessage", payload, recipient, ct);
        }, cancellationToken);
        if (!result.IsSuccess)
        {
            _logger.LogWarning("Slack channel {Channel}: sending to {Recipient} failed: {Result}", ChannelName, recipient, result);
        }

        return result;
    }

    /// <inheritdoc />
    public TimeSpan TypingRefreshInterval => TimeSpan.FromSeconds(60);

    /// <summary>
    /// <c>assistant.threads.setStatus</c> with <c>status: "is typing..."</c> in the thread (Slack removes it when the app
    /// replies, or after two minutes). Slack has no typing indicator for bot messages outside a thread (the RTM
    /// <c>typing</c> event is gone with RTM), so without <paramref name="threadId"/> nothing is sent. The method works in
    /// apps with the "Agents &amp; AI Apps" feature (scope <c>chat:write</c>); elsewhere Slack answers an error, which is logged.
    /// </summary>
    public async Task<bool> SendTypingAsync(string recipient, string? threadId, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(recipient) || string.IsNullOrEmpty(threadId)) return false;
        var (_, failure) = await PostAsync("assistant.threads.setStatus",
            new JsonObject { ["channel_id"] = recipient, ["thread_ts"] = threadId, ["status"] = "is typing..." }, recipient, cancellationToken);
        if (failure is not null) _logger.LogDebug("Slack channel {Channel}: the typing status was refused: {Error}", ChannelName, failure.Error);
        return failure is null;
    }

    private async Task<(string? MessageId, SendResult? Failure)> PostAsync(string method, JsonObject payload, string recipient,
        CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ChannelHttp.Combine(Options.ApiBaseUrl, method))
        {
            Content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Options.BotToken);
        var (reply, failure) = await ChannelHttp.SendAsync(_http, request, Options.RequestTimeout, "Slack", _time, cancellationToken);
        if (reply is null)
        {
            return (null, failure);
        }

        JsonObject? body = null;
        try
        {
            body = JsonNode.Parse(reply.Body) as JsonObject;
        }
        catch (JsonException)
        {
        }

        var error = body?["error"]?.GetValueKind() == JsonValueKind.String ? body["error"]!.GetValue<string>() : null;
        if (!reply.IsSuccess)
        {
            return (null, ChannelHttp.Failure(reply.StatusCode, $"Slack {method}: HTTP {reply.StatusCode} {error ?? Truncate(reply.Body)}",
                error ?? reply.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture), reply.RetryAfter));
        }

        if (body?["ok"]?.GetValueKind() != JsonValueKind.True)
        {
            error ??= "invalid_response";
            var detail = body?["response_metadata"]?["messages"] is JsonArray messages ? " " + string.Join("; ", messages) : "";
            return (null, new SendResult
            {
                Status = RetryableErrors.Contains(error) ? SendStatus.RetryableFailure : SendStatus.PermanentFailure,
                Error = $"Slack {method}: {error}{detail}",
                ErrorCode = error,
                HttpStatusCode = reply.StatusCode,
                RetryAfter = reply.RetryAfter,
            });
        }

        var ts = body["ts"]?.GetValue<string>();
        var channel = body["channel"]?.GetValue<string>() ?? recipient;
        return (ts is null ? null : $"{channel}:{ts}", null);
    }

    private static JsonArray Blocks(string text, IReadOnlyList<QuickReply> replies)
    {
        var buttons = new JsonArray();
        for (var i = 0; i < replies.Count && i < 25; i++)
        {
            buttons.Add(new JsonObject
            {
                ["type"] = "button",
                ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Limit(replies[i].Label, 75), ["emoji"] = true },
                ["value"] = Limit(replies[i].Value, 2000),
                ["action_id"] = $"quick_reply_{i}",
            });
        }

        return
        [
            new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = text } },
            new JsonObject { ["type"] = "actions", ["elements"] = buttons },
        ];
    }

    private static string Limit(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private InboundResult Log(InboundResult result)
    {
        if (result.Status == InboundStatus.Rejected)
        {
            _logger.LogWarning("Slack channel {Channel} rejected a delivery ({Reason}): {Error}", ChannelName, result.Reason, result.Error);
        }

        return result;
    }
}
