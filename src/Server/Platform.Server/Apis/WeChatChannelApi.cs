using System.Text;
using Platform.Channels;
using Platform.Channels.Feishu;
using Platform.Channels.WeChat;
using Platform.Messaging;
using Platform.Messaging.WebChat;
using Platform.Messaging.WeChat;

namespace Platform.Server.Apis;

/// <summary>
/// The callback URLs of the Chinese messaging services: <c>GET|POST /channels/{name}/wechat</c> (WeChat Official Account
/// 服务器配置 URL), <c>GET|POST /channels/{name}/wecom</c> (WeCom app 接收消息 URL) and <c>POST /channels/{name}/feishu/events</c>
/// (Feishu / Lark 事件与回调 request URL, events and card callbacks). Anonymous; only the services' signatures are trusted. A
/// verified message is stored in the inbox (deduplicated) before answering. WeChat and WeCom callbacks then wait up to the
/// channel's <c>passiveReplyMilliseconds</c> (default 4500; WeChat gives up after 5 s) for the answer and return it as the
/// passive XML reply; no answer in time: <c>success</c>, and the answer goes out through the send API.
/// 401 forged, stale or replayed signatures; 400 malformed XML or JSON; 404 unknown or disabled channel; 413 too large.
/// </summary>
public static class WeChatChannelApi
{
    /// <summary>Largest callback body accepted.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapWeChatChannelApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup("/channels/{name}").AllowAnonymous().WithTags("Channel webhooks");
        group.MapGet("/wechat", (string name, HttpContext http, ChannelHub hub, ILoggerFactory loggers) => VerifyAsync(name, ChannelKind.WeChat, http, hub, loggers));
        group.MapPost("/wechat", (string name, HttpContext http, ChannelHub hub, MessageInbox inbox, WebhookReplyWaiters waiters, TimeProvider clock, ILoggerFactory loggers) =>
            ReceiveAsync(name, ChannelKind.WeChat, http, hub, inbox, waiters, clock, loggers));
        group.MapGet("/wecom", (string name, HttpContext http, ChannelHub hub, ILoggerFactory loggers) => VerifyAsync(name, ChannelKind.WeCom, http, hub, loggers));
        group.MapPost("/wecom", (string name, HttpContext http, ChannelHub hub, MessageInbox inbox, WebhookReplyWaiters waiters, TimeProvider clock, ILoggerFactory loggers) =>
            ReceiveAsync(name, ChannelKind.WeCom, http, hub, inbox, waiters, clock, loggers));
        group.MapPost("/feishu/events", FeishuAsync);
        return app;
    }

    private static WeChatCallback Query(HttpRequest r) => new(r.Query["signature"].FirstOrDefault(), r.Query["timestamp"].FirstOrDefault(),
        r.Query["nonce"].FirstOrDefault(), r.Query["msg_signature"].FirstOrDefault(), r.Query["encrypt_type"].FirstOrDefault(), r.Query["echostr"].FirstOrDefault());

    private static async Task<IResult> VerifyAsync(string name, ChannelKind kind, HttpContext http, ChannelHub hub, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(WeChatChannelApi));
        var (sender, refusal) = await FindAsync<PassiveReplyWeChatSender>(name, kind, hub, logger, http.RequestAborted);
        if (refusal is not null) return refusal;
        var result = sender!.Inner.HandleVerification(Query(http.Request));
        if (result.Status == InboundStatus.Rejected) return Refuse(logger, kind, name, result);
        logger.LogInformation("{Kind} channel {Channel}: URL verification answered.", kind, name);
        return TypedResults.Text(result.ResponseBody ?? "", "text/plain", Encoding.UTF8);
    }

    private static async Task<IResult> ReceiveAsync(string name, ChannelKind kind, HttpContext http, ChannelHub hub, MessageInbox inbox, WebhookReplyWaiters waiters,
        TimeProvider clock, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(WeChatChannelApi));
        var ct = http.RequestAborted;
        var (sender, refusal) = await FindAsync<PassiveReplyWeChatSender>(name, kind, hub, logger, ct);
        if (refusal is not null) return refusal;
        var body = await ReadBodyAsync(http.Request, ct);
        if (body is null) return TooLarge(logger, kind, name);

        var channel = sender!.Inner;
        var result = await channel.HandleMessageAsync(Query(http.Request), body, ct);
        if (result.Status == InboundStatus.Rejected) return Refuse(logger, kind, name, result);
        if (result.Message is not { } message) return TypedResults.Text(WeChatChannel.Success, "text/plain", Encoding.UTF8);

        var timeout = channel.Options.PassiveReplyTimeout;
        using var waiter = timeout > TimeSpan.Zero ? waiters.Register(message.Conversation.ToString(), message.ChannelMessageId) : null;
        var receipt = await inbox.ReceiveAsync(message, ct);
        if (receipt.Duplicate)
        {
            logger.LogInformation("{Kind} redelivery {Key} acknowledged without processing again.", kind, message.DeduplicationKey);
            return TypedResults.Text(WeChatChannel.Success, "text/plain", Encoding.UTF8);
        }
        if (waiter is null) return TypedResults.Text(WeChatChannel.Success, "text/plain", Encoding.UTF8);
        var reply = await waiter.WaitAsync(timeout, clock, ct);
        if (reply is null)
        {
            logger.LogDebug("{Kind} channel {Channel}: no answer within {Timeout} ms; it goes out through the send API.", kind, name, timeout.TotalMilliseconds);
            return TypedResults.Text(WeChatChannel.Success, "text/plain", Encoding.UTF8);
        }
        return TypedResults.Text(channel.PassiveReply(message, reply.Message), "application/xml", Encoding.UTF8);
    }

    private static async Task<IResult> FeishuAsync(string name, HttpContext http, ChannelHub hub, MessageInbox inbox, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(WeChatChannelApi));
        var ct = http.RequestAborted;
        var (channel, refusal) = await FindAsync<FeishuChannel>(name, ChannelKind.Feishu, hub, logger, ct);
        if (refusal is not null) return refusal;
        var body = await ReadBodyAsync(http.Request, ct);
        if (body is null) return TooLarge(logger, ChannelKind.Feishu, name);
        var h = http.Request.Headers;
        var result = await channel!.HandleEventAsync(body, h[FeishuChannel.TimestampHeader].FirstOrDefault(), h[FeishuChannel.NonceHeader].FirstOrDefault(),
            h[FeishuChannel.SignatureHeader].FirstOrDefault(), ct);
        if (result.Status == InboundStatus.Rejected) return Refuse(logger, ChannelKind.Feishu, name, result);
        if (result.Message is { } message)
        {
            var receipt = await inbox.ReceiveAsync(message, ct);
            if (receipt.Duplicate) logger.LogInformation("Feishu redelivery {Key} acknowledged without processing again.", message.DeduplicationKey);
        }
        return TypedResults.Text(result.ResponseBody ?? "{}", result.ResponseContentType ?? "application/json", Encoding.UTF8);
    }

    private static IResult Refuse(ILogger logger, ChannelKind kind, string name, InboundResult result)
    {
        logger.LogWarning("{Kind} delivery to {Channel} refused ({Reason}): {Error}", kind, name, result.Reason, result.Error);
        return TypedResults.Problem(statusCode: result.HttpStatusCode, title: $"The {kind} delivery was refused.", detail: result.Error);
    }

    private static IResult TooLarge(ILogger logger, ChannelKind kind, string name)
    {
        logger.LogWarning("{Kind} delivery to {Channel} refused: the body is over {Max} bytes.", kind, name, MaxBodyBytes);
        return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The delivery is too large.", detail: $"At most {MaxBodyBytes} bytes are accepted.");
    }

    private static async Task<(TSender? Sender, IResult? Refusal)> FindAsync<TSender>(string name, ChannelKind kind, ChannelHub hub, ILogger logger, CancellationToken ct)
        where TSender : class, IChannelSender
    {
        var runtime = EfChannelStore.IsValidName(name) ? await hub.GetAsync(name, ct) : null;
        if (runtime is null || runtime.Config.Kind != kind || !runtime.Config.Enabled)
        {
            logger.LogWarning("Delivery for unknown or disabled {Kind} channel {Channel} refused.", kind, name);
            return (null, Problems.NotFound($"There is no enabled {kind} channel '{name}'.", $"Create it with POST {ChannelsApi.Prefix} (kind {kind}), or check the URL set in the service's console."));
        }
        if (runtime.Sender is not TSender sender)
        {
            logger.LogWarning("{Kind} channel {Channel} cannot take deliveries: {Error}", kind, name, runtime.Error);
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"Channel '{name}' is not configured completely.", detail: runtime.Error));
        }
        return (sender, null);
    }

    /// <summary>The body as text, or null when it is over <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<string?> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength > MaxBodyBytes) return null;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes) return null;
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
