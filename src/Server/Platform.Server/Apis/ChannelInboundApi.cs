using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Channels;
using Platform.Channels.Slack;
using Platform.Channels.Telegram;
using Platform.Channels.Twilio;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;

namespace Platform.Server.Apis;

/// <summary>
/// The URLs that Telegram, Slack and Twilio call: <c>/channels/{name}/telegram/webhook</c>, <c>/channels/{name}/slack/events</c>,
/// <c>/channels/{name}/slack/interactions</c>, <c>/channels/{name}/twilio/messages</c> and <c>/channels/{name}/twilio/status</c> (delivery
/// reports of the SMS sent). They are anonymous (the services
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
        group.MapPost("/twilio/status", TwilioStatusAsync);
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
        // Twilio signs the URL it called; behind a proxy that differs from what we see, so a channel may name it (publicUrl),
        // or the server's public address (publicBaseUrl, which the status callbacks use too).
        var publicUrl = runtime?.Config.Get("publicUrl") is { Length: > 0 } configured
            ? configured
            : runtime?.Config.Get("publicBaseUrl") is { Length: > 0 } publicBase
                ? $"{publicBase.TrimEnd('/')}{request.Path}{request.QueryString}"
                : $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}";
        return await HandleAsync<TwilioChannel>(name, ChannelKind.Sms, request, hub, inbox, loggers, ct,
            (c, body) => c.HandleIncomingMessage(publicUrl, body, request.Headers["X-Twilio-Signature"].FirstOrDefault()));
    }

    /// <summary>
    /// Twilio's <c>StatusCallback</c> for the SMS a channel sent: signed like an inbound SMS (over the callback URL as sent, which
    /// names the outbox message in <c>?outbox=</c>). The reported status (<c>queued</c>, <c>sent</c>, <c>delivered</c>,
    /// <c>undelivered</c>, <c>failed</c>…) and error code go on the outbox row; a report for a message the outbox does not know is
    /// answered 200 all the same (Twilio would retry otherwise) and logged.
    /// </summary>
    private static async Task<IResult> TwilioStatusAsync(string name, HttpRequest request, ChannelHub hub, IOutboxStore outbox, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger(typeof(ChannelInboundApi));
        var (channel, body, refusal) = await ReadDeliveryAsync<TwilioChannel>(name, ChannelKind.Sms, request, hub, logger, ct);
        if (refusal is not null) return refusal;
        // Twilio signs the URL it called: the StatusCallback the message went out with (the configured callback plus ?outbox=…).
        var url = channel!.Options.StatusCallbackUrl is { } callback
            ? callback.GetLeftPart(UriPartial.Path) + request.QueryString
            : $"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}{request.QueryString}";
        var parsed = channel.HandleStatusCallback(url, body!, request.Headers[TwilioSignature.Header].FirstOrDefault());
        if (parsed.Status is not { } report)
        {
            logger.LogWarning("Twilio status callback to {Channel} refused ({Reason}): {Error}", name, parsed.Result.Reason, parsed.Result.Error);
            return TypedResults.Problem(statusCode: parsed.Result.HttpStatusCode, title: "The Twilio status callback was refused.", detail: parsed.Result.Error);
        }

        var status = report.Status.ToLowerInvariant();
        var updated = await outbox.RecordDeliveryStatusAsync(new DeliveryStatusUpdate
        {
            Channel = name,
            OutboxMessageId = request.Query[TwilioChannel.OutboxQueryParameter].FirstOrDefault() is { Length: > 0 } id ? id : null,
            ProviderMessageId = report.MessageSid,
            Status = status,
            ErrorCode = report.ErrorCode,
            Error = report.IsFailed ? report.Describe() : null,
            At = clock.GetUtcNow(),
        }, ct);
        if (updated is null)
            logger.LogWarning("Twilio status '{Status}' for message {Sid} on channel {Channel} ignored: the outbox has no such message.", status, report.MessageSid, name);
        else if (report.IsFailed)
            logger.LogWarning("SMS {Id} on channel {Channel} ({Sid}) was not delivered: {Reason}", updated.Id, name, report.MessageSid, report.Describe());
        else
            logger.LogDebug("SMS {Id} on channel {Channel} ({Sid}): {Status}.", updated.Id, name, report.MessageSid, status);
        return TypedResults.Ok();
    }

    private static async Task<IResult> HandleAsync<TChannel>(string name, ChannelKind kind, HttpRequest request, ChannelHub hub, MessageInbox inbox,
        ILoggerFactory loggers, CancellationToken ct, Func<TChannel, string, InboundResult> handle) where TChannel : class, IChannelSender
    {
        var logger = loggers.CreateLogger(typeof(ChannelInboundApi));
        var (channel, body, refusal) = await ReadDeliveryAsync<TChannel>(name, kind, request, hub, logger, ct);
        if (refusal is not null) return refusal;

        var result = handle(channel!, body!);
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

    /// <summary>The channel (404 unknown or disabled, 409 not configured completely) and the body (413 over <see cref="MaxBodyBytes"/>).</summary>
    internal static async Task<(TChannel? Channel, string? Body, IResult? Refusal)> ReadDeliveryAsync<TChannel>(string name, ChannelKind kind, HttpRequest request,
        ChannelHub hub, ILogger logger, CancellationToken ct) where TChannel : class, IChannelSender
    {
        var runtime = await hub.GetAsync(name, ct);
        if (runtime is null || runtime.Config.Kind != kind || !runtime.Config.Enabled)
        {
            logger.LogWarning("Delivery for unknown or disabled {Kind} channel {Channel} refused.", kind, name);
            return (null, null, Problems.NotFound($"There is no enabled {kind} channel '{name}'.", $"Create it with POST {ChannelsApi.Prefix} (kind {kind}), or check the URL set at the service."));
        }
        if (runtime.Sender is not TChannel channel)
        {
            logger.LogWarning("{Kind} channel {Channel} cannot take deliveries: {Error}", kind, name, runtime.Error);
            return (null, null, TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"Channel '{name}' is not configured completely.", detail: runtime.Error));
        }
        if (request.ContentLength is > MaxBodyBytes)
            return (null, null, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The delivery is too large.", detail: $"At most {MaxBodyBytes} bytes are accepted."));

        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[MaxBodyBytes + 1];
        var read = await reader.ReadBlockAsync(buffer.AsMemory(), ct);
        if (read > MaxBodyBytes)
            return (null, null, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The delivery is too large.", detail: $"At most {MaxBodyBytes} bytes are accepted."));
        return (channel, new string(buffer, 0, read), null);
    }
}
