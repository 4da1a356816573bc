using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Channels.Http;
using Platform.Channels.Rendering;
using Platform.Channels.Webhooks;

namespace Platform.Channels.Discord;

/// <summary>
/// One Discord application: the interactions endpoint in (Ed25519-signed; PING answered with PONG, slash commands and button
/// presses acknowledged with a deferred response, type 5), and out either the interaction's follow-up webhook (the deferred
/// response edited, then follow-ups, within 15 minutes) or a bot message in the channel (<c>POST /channels/{id}/messages</c>).
/// Quick replies are buttons. Create one per configured application with an <see cref="HttpClient"/> from <c>IHttpClientFactory</c>.
/// </summary>
public sealed class DiscordChannel : IChannelSender, IInboundAttachmentSource
{
    /// <summary>The prefix of an interaction's <see cref="IncomingMessage.ChannelMessageId"/>: <c>interaction:{id}:{token}</c>.</summary>
    public const string InteractionPrefix = "interaction:";

    /// <summary>The answer to a PING.</summary>
    public const string Pong = "{\"type\":1}";

    /// <summary>The answer to a command or button press: DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE ("thinking…" until the reply).</summary>
    public const string Deferred = "{\"type\":5}";

    private const long DiscordEpochMilliseconds = 1420070400000;
    private readonly HttpClient _http;
    private readonly IReplayCache? _replays;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the channel.</summary>
    public DiscordChannel(string channelName, DiscordOptions options, HttpClient http, IReplayCache? replays = null, TimeProvider? time = null,
        ILogger<DiscordChannel>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        ArgumentException.ThrowIfNullOrEmpty(options.ApplicationId);
        if (!DiscordSignature.IsValidPublicKey(options.PublicKey))
        {
            throw new ArgumentException($"Discord channel '{channelName}': publicKey must be the application's public key, 64 hex digits.", nameof(options));
        }

        ChannelName = channelName;
        Options = options;
        _http = http;
        _replays = replays;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger<DiscordChannel>.Instance;
    }

    /// <inheritdoc />
    public ChannelKind Kind => ChannelKind.Discord;

    /// <inheritdoc />
    public string ChannelName { get; }

    /// <summary>The options.</summary>
    public DiscordOptions Options { get; }

    /// <summary>
    /// Verifies (Ed25519 over timestamp + body, timestamp window, signature not seen before) and parses one interaction. The
    /// result's <see cref="InboundResult.ResponseBody"/> is the interaction response to answer with (JSON): PONG for a PING, a
    /// deferred response for a command or button press, an ephemeral notice for other interactions.
    /// </summary>
    public async Task<InboundResult> HandleInteractionAsync(string body, string? timestamp, string? signature, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        if (DiscordSignature.Verify(Options.PublicKey, timestamp, signature, body, now, Options.MaxClockSkew) is { } rejection)
        {
            return Log(rejection);
        }

        if (_replays is not null && !await _replays.TryRegisterAsync($"discord:{ChannelName}:{signature!.ToLowerInvariant()}",
                now + Options.MaxClockSkew + Options.MaxClockSkew, cancellationToken))
        {
            return Log(InboundResult.Reject(RejectionReason.Replay, "This signed interaction was already received (replayed request)."));
        }

        return Log(Parse(body, now));
    }

    /// <summary>Parses a verified interaction.</summary>
    public InboundResult Parse(string body, DateTimeOffset receivedAt)
    {
        JsonObject? interaction;
        try
        {
            interaction = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException exception)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, $"The Discord interaction is not valid JSON: {exception.Message}");
        }

        var type = interaction?["type"] is JsonValue t && t.TryGetValue<int>(out var number) ? number : -1;
        switch (type)
        {
            case 1:
                return new InboundResult { Status = InboundStatus.Challenge, ResponseBody = Pong, ResponseContentType = "application/json" };
            case 2 or 3:
                break;
            case 4:
                return InboundResult.Ignore("Autocomplete is not offered.", "{\"type\":8,\"data\":{\"choices\":[]}}", "application/json");
            case -1:
                return InboundResult.Reject(RejectionReason.MalformedPayload, "The Discord interaction has no numeric type.");
            default:
                return InboundResult.Ignore($"Discord interaction type {type} is not processed.",
                    "{\"type\":4,\"data\":{\"content\":\"This action is not supported.\",\"flags\":64}}", "application/json");
        }

        var id = Str(interaction!["id"]);
        var token = Str(interaction["token"]);
        var channel = Str(interaction["channel_id"]) ?? Str(interaction["channel"]?["id"]);
        var user = interaction["member"]?["user"] as JsonObject ?? interaction["user"] as JsonObject;
        var userId = Str(user?["id"]);
        if (id is null || token is null || channel is null || userId is null || interaction["data"] is not JsonObject data)
        {
            return InboundResult.Reject(RejectionReason.MalformedPayload, "The Discord interaction lacks id, token, channel_id, user or data.");
        }

        var metadata = new Dictionary<string, string> { ["discord.interaction_type"] = type.ToString(CultureInfo.InvariantCulture) };
        if (Str(interaction["guild_id"]) is { } guild)
        {
            metadata["discord.guild_id"] = guild;
        }

        var attachments = new List<MessageAttachment>();
        string text;
        string? replyTo = null;
        if (type == 2)
        {
            var name = Str(data["name"]) ?? "";
            metadata["discord.command"] = name;
            var values = new List<string>();
            CollectOptions(data["options"] as JsonArray, values);
            text = values.Count > 0 ? string.Join(' ', values) : "/" + name;
            foreach (var (_, node) in data["resolved"]?["attachments"] as JsonObject ?? [])
            {
                if (node is not JsonObject a || Str(a["url"]) is not { } url)
                {
                    continue;
                }

                var fileName = Str(a["filename"]) ?? Str(a["id"]) ?? "file";
                // Over the limit: kept with its size, and the gateway answers the sender instead of running a workflow.
                var size = a["size"] is JsonValue s && s.TryGetValue<long>(out var bytes) ? bytes : -1;

                attachments.Add(new MessageAttachment
                {
                    Name = fileName, ContentType = Str(a["content_type"]) ?? "application/octet-stream", Size = size, SourceUri = url,
                });
            }
        }
        else
        {
            text = Str(data["custom_id"]) ?? "";
            metadata["discord.custom_id"] = text;
            if (Str(interaction["message"]?["id"]) is { } pressedOn)
            {
                replyTo = $"{channel}:{pressedOn}";
            }
        }

        return InboundResult.Accept(new IncomingMessage
        {
            ChannelKind = ChannelKind.Discord,
            ChannelName = ChannelName,
            ChannelMessageId = $"{InteractionPrefix}{id}:{token}",
            Conversation = new ConversationId(ChannelKind.Discord, ChannelName, channel),
            Sender = new ChannelUser(userId, NonEmpty(Str(user!["global_name"])) ?? NonEmpty(Str(user["username"]))),
            Text = text,
            Attachments = attachments,
            ReplyToChannelMessageId = replyTo,
            ReceivedAt = receivedAt,
            SentAt = SnowflakeTime(id),
            RawPayload = body,
            Metadata = metadata,
        }, Deferred, "application/json");
    }

    /// <summary>Shows "… is typing" in a channel for about 10 seconds (<c>POST /channels/{id}/typing</c>, needs the bot token).</summary>
    public async Task<SendResult> TriggerTypingAsync(string channelId, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(Options.BotToken))
        {
            return SendResult.Permanent($"Discord channel '{ChannelName}' has no botToken.", "no_bot_token");
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, Url($"channels/{Uri.EscapeDataString(channelId)}/typing"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bot", Options.BotToken);
        var (_, failure) = await CallAsync(request, cancellationToken);
        return failure ?? new SendResult { Status = SendStatus.Sent, PartsDelivered = 1, TotalParts = 1 };
    }

    /// <inheritdoc />
    public async Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(recipient);
        if (Options.Attachments.RefuseOutgoing(message.Attachments) is { } refused)
        {
            return refused;
        }

        var components = Components(message.QuickReplies, out var componentError);
        if (componentError is not null)
        {
            return SendResult.Permanent(componentError, "invalid_components");
        }

        var markdown = message.Text;
        var embeds = new JsonArray();
        foreach (var linked in message.Attachments.Where(a => a.Content is null))
        {
            if (linked.ContentType.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
            {
                embeds.Add(new JsonObject { ["image"] = new JsonObject { ["url"] = linked.SourceUri } });
            }
            else
            {
                markdown += $"\n\n[{linked.Name.Replace("]", "", StringComparison.Ordinal)}]({linked.SourceUri})";
            }
        }

        var uploads = message.Attachments.Where(a => a.Content is not null).ToList();
        var texts = MessageRenderer.RenderParts(markdown, TextFormat.DiscordMarkdown, Options.MaxMessageLength).ToList();
        if (texts.Count == 0 && (components is not null || embeds.Count > 0 || uploads.Count > 0))
        {
            texts.Add("");
        }

        if (texts.Count == 0)
        {
            return SendResult.Permanent("The message has neither text nor attachments.", "no_text");
        }

        var interaction = Interaction(message.ReplyToChannelMessageId);
        if (interaction is null && string.IsNullOrEmpty(Options.BotToken))
        {
            return SendResult.Permanent(
                $"Discord channel '{ChannelName}' has no botToken, and the message answers no interaction of the last {Options.InteractionTokenLifetime.TotalMinutes:0} minutes; set botToken to post in channels.",
                "no_bot_token");
        }

        var result = await PartSender.SendAsync(texts.Count, message.SkipParts, async (index, ct) =>
        {
            var payload = new JsonObject { ["allowed_mentions"] = new JsonObject { ["parse"] = new JsonArray() } };
            if (texts[index].Length > 0)
            {
                payload["content"] = texts[index];
            }

            var last = index == texts.Count - 1;
            if (last && components is not null)
            {
                payload["components"] = components;
            }

            if (last && embeds.Count > 0)
            {
                payload["embeds"] = embeds.DeepClone();
            }

            HttpRequestMessage request;
            if (interaction is { } token)
            {
                request = index == 0
                    ? new HttpRequestMessage(HttpMethod.Patch, Url($"webhooks/{Uri.EscapeDataString(Options.ApplicationId)}/{Uri.EscapeDataString(token)}/messages/@original"))
                    : new HttpRequestMessage(HttpMethod.Post, Url($"webhooks/{Uri.EscapeDataString(Options.ApplicationId)}/{Uri.EscapeDataString(token)}?wait=true"));
            }
            else
            {
                request = new HttpRequestMessage(HttpMethod.Post, Url($"channels/{Uri.EscapeDataString(recipient)}/messages"));
                request.Headers.Authorization = new AuthenticationHeaderValue("Bot", Options.BotToken);
            }

            using (request)
            {
                request.Content = last && uploads.Count > 0 ? Multipart(payload, uploads) : new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json");
                var (body, failure) = await CallAsync(request, ct);
                if (failure is not null)
                {
                    return (null, failure);
                }

                var messageId = Str(body?["id"]);
                return (messageId is null ? null : $"{Str(body!["channel_id"]) ?? recipient}:{messageId}", null);
            }
        }, cancellationToken);
        if (!result.IsSuccess)
        {
            _logger.LogWarning("Discord channel {Channel}: sending to {Recipient} failed: {Result}", ChannelName, recipient, result);
        }

        return result;
    }

    /// <summary>The interaction token in <paramref name="channelMessageId"/> (<c>interaction:{id}:{token}</c>) while it is still
    /// usable, else null.</summary>
    private string? Interaction(string? channelMessageId)
    {
        if (channelMessageId is null || !channelMessageId.StartsWith(InteractionPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = channelMessageId[InteractionPrefix.Length..];
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == rest.Length - 1)
        {
            return null;
        }

        var created = SnowflakeTime(rest[..colon]);
        return created is { } at && _time.GetUtcNow() - at < Options.InteractionTokenLifetime ? rest[(colon + 1)..] : null;
    }

    private static JsonArray? Components(IReadOnlyList<QuickReply> replies, out string? error)
    {
        error = null;
        if (replies.Count == 0)
        {
            return null;
        }

        if (replies.Count > 25)
        {
            error = $"Discord shows at most 25 buttons (5 rows of 5); the message has {replies.Count} quick replies.";
            return null;
        }

        var rows = new JsonArray();
        for (var row = 0; row * 5 < replies.Count; row++)
        {
            var buttons = new JsonArray();
            foreach (var reply in replies.Skip(row * 5).Take(5))
            {
                if (reply.Value.Length is < 1 or > 100)
                {
                    error = $"Quick reply '{reply.Label}' has a value of {reply.Value.Length} characters; a Discord button's custom_id takes 1 to 100.";
                    return null;
                }

                buttons.Add(new JsonObject
                {
                    ["type"] = 2, ["style"] = 1,
                    ["label"] = reply.Label.Length <= 80 ? reply.Label : reply.Label[..79] + "…",
                    ["custom_id"] = reply.Value,
                });
            }

            rows.Add(new JsonObject { ["type"] = 1, ["components"] = buttons });
        }

        return rows;
    }

    private static MultipartFormDataContent Multipart(JsonObject payload, List<MessageAttachment> uploads)
    {
        var form = new MultipartFormDataContent();
        var attachments = new JsonArray();
        for (var i = 0; i < uploads.Count; i++)
        {
            attachments.Add(new JsonObject { ["id"] = i, ["filename"] = uploads[i].Name });
            var file = new ByteArrayContent(uploads[i].Content!.Value.ToArray());
            file.Headers.ContentType = MediaTypeHeaderValue.TryParse(uploads[i].ContentType, out var type) ? type : new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, $"files[{i}]", uploads[i].Name);
        }

        payload["attachments"] = attachments;
        form.Add(new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"), "payload_json");
        return form;
    }

    private async Task<(JsonObject? Body, SendResult? Failure)> CallAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var (reply, failure) = await ChannelHttp.SendAsync(_http, request, Options.RequestTimeout, "Discord", _time, ct);
        if (reply is null)
        {
            return (null, failure);
        }

        JsonObject? body = null;
        try
        {
            body = reply.Body.Length == 0 ? null : JsonNode.Parse(reply.Body) as JsonObject;
        }
        catch (JsonException)
        {
        }

        if (reply.IsSuccess)
        {
            return (body, null);
        }

        var code = body?["code"] is JsonValue c ? c.ToJsonString() : reply.StatusCode.ToString(CultureInfo.InvariantCulture);
        var retryAfter = reply.RetryAfter
            ?? (body?["retry_after"] is JsonValue r && r.TryGetValue<double>(out var seconds) ? TimeSpan.FromSeconds(seconds) : null);
        var errors = body?["errors"] is { } details ? " " + Truncate(details.ToJsonString()) : "";
        return (null, ChannelHttp.Failure(reply.StatusCode, $"Discord: HTTP {reply.StatusCode} {Str(body?["message"]) ?? Truncate(reply.Body)} [code {code}]{errors}",
            code, retryAfter));
    }

    /// <summary>True for an attachment URL on Discord's CDN (<c>cdn.discordapp.com</c>, <c>media.discordapp.net</c>, or the host of
    /// <see cref="DiscordOptions.ApiBaseUrl"/>).</summary>
    public bool CanOpen(MessageAttachment attachment) =>
        Uri.TryCreate(attachment?.SourceUri, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"
        && (uri.Host.Equals("cdn.discordapp.com", StringComparison.OrdinalIgnoreCase) || uri.Host.Equals("media.discordapp.net", StringComparison.OrdinalIgnoreCase)
            || uri.Authority.Equals(Options.ApiBaseUrl.Authority, StringComparison.OrdinalIgnoreCase));

    /// <summary>Downloads an attachment from Discord's CDN. Its URL is signed by Discord (<c>ex</c>, <c>is</c>, <c>hm</c>: it
    /// expires after about a day), so no token is sent.</summary>
    public Task<AttachmentDownload> OpenAsync(MessageAttachment attachment, AttachmentPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        if (!CanOpen(attachment)) throw new AttachmentDownloadException($"'{attachment.SourceUri}' is not a Discord attachment URL.", false);
        return AttachmentDownload.SendAsync(_http, new HttpRequestMessage(HttpMethod.Get, attachment.SourceUri), "Discord", attachment.Name, policy, cancellationToken);
    }

    private Uri Url(string relative) => ChannelHttp.Combine(Options.ApiBaseUrl, relative);

    private static DateTimeOffset? SnowflakeTime(string id) =>
        ulong.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var snowflake)
            ? DateTimeOffset.FromUnixTimeMilliseconds((long)(snowflake >> 22) + DiscordEpochMilliseconds)
            : null;

    private static void CollectOptions(JsonArray? options, List<string> values)
    {
        foreach (var option in (options ?? []).OfType<JsonObject>())
        {
            if (option["value"] is JsonValue value && value.GetValueKind() is JsonValueKind.String or JsonValueKind.Number)
            {
                var type = option["type"] is JsonValue t && t.TryGetValue<int>(out var n) ? n : 0;
                if (type != 11) // attachment options carry an id; the file is in data.resolved.attachments
                {
                    values.Add(value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString());
                }
            }

            CollectOptions(option["options"] as JsonArray, values); // sub-commands and groups
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static string Truncate(string text) => text.Length <= 300 ? text : text[..300] + "…";

    private static string? Str(JsonNode? node) => node?.GetValueKind() == JsonValueKind.String ? node.GetValue<string>() : null;

    private InboundResult Log(InboundResult result)
    {
        if (result.Status == InboundStatus.Rejected)
        {
            _logger.LogWarning("Discord channel {Channel} rejected a delivery ({Reason}): {Error}", ChannelName, result.Reason, result.Error);
        }

        return result;
    }
}
