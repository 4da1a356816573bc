using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Platform.Channels;
using Platform.Channels.Rendering;
using Platform.Channels.Webhooks;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;
using Platform.Messaging.WebChat;

namespace Platform.Server.Apis;

/// <summary>
/// <c>POST /channels/{name}/webhook</c>: a signed message for an HTTP webhook channel (body and signature in
/// docs/channels.md). Anonymous; only the HMAC signature is trusted. The message is stored in the inbox (deduplicated on
/// its <c>id</c>) before answering. By default the answer is 202 with the inbox message id and replies go to the
/// channel's <c>outboundUrl</c>. With <c>?wait=true</c> (or the header <c>X-Platform-Wait: true</c>) the request waits up
/// to the channel's <c>syncTimeout</c> (seconds, default 10, at most 120) for the first reply and answers 200 with it;
/// that reply is then not POSTed to the outbound URL. No reply in time: 202, and the reply goes out as usual.
/// 401 bad or stale signature and replays, 400 malformed body, 404 unknown or disabled channel, 413 too large.
/// </summary>
public static class WebhookChannelApi
{
    /// <summary>The header that asks for a synchronous reply.</summary>
    public const string WaitHeader = "X-Platform-Wait";

    /// <summary>The default largest body (channel setting <c>maxBodyBytes</c> changes it).</summary>
    public const int DefaultMaxBodyBytes = 1024 * 1024;

    /// <summary>The default wait for a synchronous reply.</summary>
    public static readonly TimeSpan DefaultSyncTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapWebhookChannelApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost("/channels/{name}/webhook", ReceiveAsync).AllowAnonymous().WithTags("Channel webhooks");
        return app;
    }

    /// <summary>POST /channels/{name}/webhook.</summary>
    public static async Task<IResult> ReceiveAsync(string name, HttpContext context, ChannelHub hub, MessageInbox inbox, IOutboxStore outbox,
        WebhookReplyWaiters waiters, TimeProvider clock, ILoggerFactory loggers, bool? wait = null)
    {
        var logger = loggers.CreateLogger(typeof(WebhookChannelApi));
        var request = context.Request;
        var ct = context.RequestAborted;
        var runtime = EfChannelStore.IsValidName(name) ? await hub.GetAsync(name, ct) : null;
        if (runtime is null || runtime.Config.Kind != ChannelKind.Webhook || !runtime.Config.Enabled)
        {
            logger.LogWarning("Webhook delivery for unknown or disabled channel {Channel} refused.", name);
            return Problems.NotFound($"There is no enabled webhook channel '{name}'.",
                "Create it with POST /api/channels (kind Webhook, settings secret and optionally outboundUrl), or check the URL.");
        }
        var channel = runtime.Sender switch { SyncReplyWebhookSender s => s.Inner as WebhookChannel, WebhookChannel w => w, _ => null };
        if (channel is null)
        {
            logger.LogWarning("Webhook channel {Channel} cannot take deliveries: {Error}", name, runtime.Error);
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"Webhook channel '{name}' is not configured completely.",
                detail: runtime.Error ?? "Set the channel's secret.");
        }

        var maxBytes = IntSetting(runtime.Config, "maxBodyBytes", DefaultMaxBodyBytes, 1, int.MaxValue - 1);
        var body = await ReadBodyAsync(request, maxBytes, ct);
        if (body is null)
        {
            logger.LogWarning("Webhook delivery to {Channel} refused: the body is over {Max} bytes.", name, maxBytes);
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The webhook body is too large.",
                detail: $"Channel '{name}' accepts at most {maxBytes} bytes (setting maxBodyBytes). Send large files as attachment URLs.");
        }

        var result = await channel.HandleAsync(request.Headers[WebhookSignature.Header].FirstOrDefault(), body, ct);
        if (result.Status == InboundStatus.Rejected)
        {
            logger.LogWarning("Webhook delivery to {Channel} refused ({Reason}): {Error}", name, result.Reason, result.Error);
            return TypedResults.Problem(statusCode: result.HttpStatusCode, title: "The webhook delivery was refused.", detail: SignatureHint(result));
        }
        if (result.Message is not { } message) return TypedResults.Ok(new JsonObject { ["status"] = "ignored", ["reason"] = result.Error });

        var synchronous = wait == true || string.Equals(request.Headers[WaitHeader].FirstOrDefault(), "true", StringComparison.OrdinalIgnoreCase);
        var conversation = message.Conversation.ToString();
        using var waiter = synchronous ? waiters.Register(conversation, message.ChannelMessageId) : null;
        var receipt = await inbox.ReceiveAsync(message, ct);
        if (receipt.Duplicate) logger.LogInformation("Webhook redelivery {Key} acknowledged without processing again.", message.DeduplicationKey);
        if (waiter is null) return Accepted(receipt, conversation);

        if (receipt.Duplicate && await FindEarlierReplyAsync(outbox, name, conversation, message.ChannelMessageId, ct) is { } earlier)
            return TypedResults.Ok(ReplyBody(receipt, conversation, earlier.Id, earlier.Message, earlier.At));
        var timeout = TimeSpan.FromSeconds(IntSetting(runtime.Config, "syncTimeout", (int)DefaultSyncTimeout.TotalSeconds, 0, 120));
        var reply = await waiter.WaitAsync(timeout, clock, ct);
        return reply is null ? Accepted(receipt, conversation) : TypedResults.Ok(ReplyBody(receipt, conversation, reply.OutboxMessageId, reply.Message, clock.GetUtcNow()));
    }

    private static IResult Accepted(InboxReceipt receipt, string conversation) => TypedResults.Json(new JsonObject
    {
        ["status"] = "accepted", ["inboxMessageId"] = receipt.InboxMessageId, ["duplicate"] = receipt.Duplicate, ["conversation"] = conversation,
    }, statusCode: StatusCodes.Status202Accepted);

    private static JsonObject ReplyBody(InboxReceipt receipt, string conversation, string id, OutgoingMessage message, DateTimeOffset at) => new()
    {
        ["status"] = "replied",
        ["inboxMessageId"] = receipt.InboxMessageId,
        ["duplicate"] = receipt.Duplicate,
        ["conversation"] = conversation,
        ["reply"] = new JsonObject
        {
            ["id"] = id,
            ["text"] = message.Text,
            ["plainText"] = MessageRenderer.Render(message.Text, TextFormat.PlainText),
            ["html"] = MessageRenderer.Render(message.Text, TextFormat.Html),
            ["replyTo"] = message.ReplyToChannelMessageId,
            ["quickReplies"] = new JsonArray(message.QuickReplies.Select(q => (JsonNode?)new JsonObject { ["label"] = q.Label, ["value"] = q.Value }).ToArray()),
            ["sentAt"] = at.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
        },
    };

    /// <summary>A reply already stored for a redelivered message (a retried synchronous request).</summary>
    private static async Task<(string Id, OutgoingMessage Message, DateTimeOffset At)?> FindEarlierReplyAsync(IOutboxStore outbox, string channel, string conversation,
        string channelMessageId, CancellationToken ct)
    {
        var page = await outbox.ListAsync(channel, null, conversation, new PageArgs(0, 50), ct);
        foreach (var m in page.Items.OrderBy(m => m.CreatedAt))
        {
            OutgoingEnvelope envelope;
            try { envelope = OutgoingEnvelope.FromJson(m.Payload); }
            catch (System.Text.Json.JsonException) { continue; }
            if (envelope.ReplyToChannelMessageId == channelMessageId) return (m.Id, envelope.ToMessage(0, m.Id, null), m.SentAt ?? m.CreatedAt);
        }
        return null;
    }

    /// <summary>The body as text, or null when it is over <paramref name="maxBytes"/>.</summary>
    private static async Task<string?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken ct)
    {
        if (request.ContentLength > maxBytes) return null;
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false } && (sizeFeature.MaxRequestBodySize is null || sizeFeature.MaxRequestBodySize > maxBytes + 1L))
            sizeFeature.MaxRequestBodySize = maxBytes + 1L;
        // A pooled buffer of the announced size (or 4 KB), grown by doubling up to maxBytes + 1: most deliveries are small.
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(request.ContentLength ?? 4096, 256), maxBytes + 1L));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes) return null;
                    var larger = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Min(buffer.Length * 2L, maxBytes + 1L));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
                var read = await request.Body.ReadAsync(buffer.AsMemory(length), ct);
                if (read == 0) break;
                length += read;
                if (length > maxBytes) return null;
            }
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static int IntSetting(ChannelConfig config, string key, int fallback, int min, int max) =>
        config.Get(key) is { Length: > 0 } text && int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? Math.Clamp(value, min, max) : fallback;

    private static string SignatureHint(InboundResult result) => result.Reason switch
    {
        RejectionReason.MissingSignature or RejectionReason.InvalidSignature =>
            $"{result.Error} Sign the raw body: {WebhookSignature.Header}: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")> (docs/channels.md).",
        RejectionReason.StaleTimestamp => $"{result.Error} Sign each request when sending it, with the current time (check the sender's clock).",
        RejectionReason.Replay => $"{result.Error} Sign every request anew (a new t and signature); to resend a message keep its id, the platform stores it once.",
        _ => result.Error ?? "The delivery was refused.",
    };
}
