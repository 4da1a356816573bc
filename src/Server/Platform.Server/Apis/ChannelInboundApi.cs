using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Channels;
using Platform.Channels.Slack;
using Platform.Channels.Telegram;
using Platform.Channels.Twilio;
using Platform.Messaging;

namespace Platform.Server.Apis;

/// <summary>
/// The URLs that Telegram, Slack and Twilio call: <c>/channels/{name}/telegram/webhook</c>, <c>/channels/{name}/slack/events</c>,
/// <c>/channels/{name}/slack/interactions</c> and <c>/channels/{name}/twilio/messages</c>. They are anonymous (the services
/// cannot send API keys) and trust only the service's signature or secret. A verified message is stored in the inbox
/// (deduplicated: the services retry) before the 2xx goes back; a bad signature is a 401, a malformed body a 400, an
/// unknown or disabled channel a 404. All refusals are logged.
/// </summary>
public static class ChannelInboundApi
{
    /// <summary>Largest inbound body accepted (the services send far less).</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapChannelInboundApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup("/channels/{name}").AllowAnonymous().WithTags("Channel webhooks");
        group.MapPost("/telegram/webhook", TelegramAsync);
        group.MapPost("/slack/events", SlackEventsAsync);
        group.MapPost("/slack/interactions", SlackInteractionsAsync);
        group.MapPost("/twilio/messages", TwilioAsync);
        return app;
    }

    private static async Task<IResult> TelegramAsync(string name, HttpRequest request, ChannelHub hub, MessageInbox inbox, ILoggerFactory loggers, CancellationToken ct) =>
        await HandleAsync<TelegramChannel>(name, ChannelKind.Telegram, request, hub, inbox, loggers, ct,
            (c, body) => c.HandleWebhook(request.Headers[TelegramChannel.SecretTokenHeader].FirstOrDefault(), body));

    private static async Task<IResult> SlackEventsAsync(string name, HttpRequest request, ChannelHub hub, MessageInbox inbox, ILoggerFactory loggers, CancellationToken ct) =>
        await HandleAsync<SlackChannel>(name, ChannelKind.Slack, request, hub, inbox, loggers, ct,
            (c, body) => c.HandleEvent(body, request.Headers[SlackSignature.TimestampHeader].FirstOrDefault(), request.Headers[SlackSignature.SignatureHeader].FirstOrDefault(),
                request.Headers[SlackSignature.RetryNumHeader].FirstOrDefault(), request.Headers[SlackSignature.RetryReasonHeader].FirstOrDefault()));

    private static async Task<IResult> SlackInteractionsAsync(string name, HttpRequest request, ChannelHub hub, MessageInbox inbox, ILoggerFactory loggers, CancellationToken ct) =>
        await HandleAsync<SlackChannel>(name, ChannelKind.Slack, request, hub, inbox, loggers, ct,
            (c, body) => c.HandleInteraction(body, request.Headers[SlackSignature.TimestampHeader].FirstOrDefault(), request.Headers[SlackSignature.SignatureHeader].FirstOrDefault()));

    private static async Task<IResult> TwilioAsync(string name, HttpRequest request, ChannelHub hub, MessageInbox inbox, ILoggerFactory loggers, CancellationToken ct)
    {
        var runtime = await hub.GetAsync(name, ct);
        // Twilio signs the URL it called; behind a proxy that differs from what we see, so a channel may name it.
        var publicUrl = runtime?.Config.Get("publicUrl") is { Length: > 0 } configured
            ? configured
            : $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}";
        return await HandleAsync<TwilioChannel>(name, ChannelKind.Sms, request, hub, inbox, loggers, ct,
            (c, body) => c.HandleIncomingMessage(publicUrl, body, request.Headers["X-Twilio-Signature"].FirstOrDefault()));
    }

    private static async Task<IResult> HandleAsync<TChannel>(string name, ChannelKind kind, HttpRequest request, ChannelHub hub, MessageInbox inbox,
        ILoggerFactory loggers, CancellationToken ct, Func<TChannel, string, InboundResult> handle) where TChannel : class, IChannelSender
    {
        var logger = loggers.CreateLogger(typeof(ChannelInboundApi));
        var runtime = await hub.GetAsync(name, ct);
        if (runtime is null || runtime.Config.Kind != kind || !runtime.Config.Enabled)
        {
            logger.LogWarning("Delivery for unknown or disabled {Kind} channel {Channel} refused.", kind, name);
            return Problems.NotFound($"There is no enabled {kind} channel '{name}'.", $"Create it with POST {ChannelsApi.Prefix} (kind {kind}), or check the URL set at the service.");
        }
        if (runtime.Sender is not TChannel channel)
        {
            logger.LogWarning("{Kind} channel {Channel} cannot take deliveries: {Error}", kind, name, runtime.Error);
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"Channel '{name}' is not configured completely.", detail: runtime.Error);
        }
        if (request.ContentLength is > MaxBodyBytes)
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The delivery is too large.", detail: $"At most {MaxBodyBytes} bytes are accepted.");

        string body;
        using (var reader = new StreamReader(request.Body, Encoding.UTF8))
        {
            var buffer = new char[MaxBodyBytes + 1];
            var read = await reader.ReadBlockAsync(buffer.AsMemory(), ct);
            if (read > MaxBodyBytes)
                return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The delivery is too large.", detail: $"At most {MaxBodyBytes} bytes are accepted.");
            body = new string(buffer, 0, read);
        }

        var result = handle(channel, body);
        switch (result.Status)
        {
            case InboundStatus.Rejected:
                logger.LogWarning("{Kind} delivery to {Channel} refused ({Reason}): {Error}", kind, name, result.Reason, result.Error);
                return TypedResults.Problem(statusCode: result.HttpStatusCode, title: $"The {kind} delivery was refused.", detail: result.Error);
            case InboundStatus.Accepted when result.Message is { } message:
                var receipt = await inbox.ReceiveAsync(message, ct);
                if (receipt.Duplicate) logger.LogInformation("{Kind} redelivery {Key} (retry {Retry}) acknowledged without processing again.", kind, message.DeduplicationKey, result.RetryNumber);
                break;
        }
        return result.ResponseBody is { } text
            ? TypedResults.Text(text, result.ResponseContentType ?? "text/plain", Encoding.UTF8, StatusCodes.Status200OK)
            : TypedResults.Ok();
    }
}
