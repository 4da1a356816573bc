using System.Text;
using Platform.Channels;
using Platform.Channels.Discord;
using Platform.Channels.WhatsApp;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;

namespace Platform.Server.Apis;

/// <summary>
/// The URLs that WhatsApp (Meta's webhooks) and Discord call: <c>GET /channels/{name}/whatsapp/webhook</c> (the verification
/// handshake), <c>POST /channels/{name}/whatsapp/webhook</c> (messages and delivery statuses, <c>X-Hub-Signature-256</c>) and
/// <c>POST /channels/{name}/discord/interactions</c> (Ed25519-signed interactions). Anonymous like the other channel webhooks: they
/// trust only the service's signature. Messages are stored in the inbox before the 2xx; a bad or replayed signature is a 401, a
/// malformed body a 400, an unknown channel a 404, and every refusal is logged.
/// </summary>
public static class ChatAppInboundApi
{
    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapChatAppInboundApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup("/channels/{name}").AllowAnonymous().WithTags("Channel webhooks");
        group.MapGet("/whatsapp/webhook", WhatsAppVerifyAsync);
        group.MapPost("/whatsapp/webhook", WhatsAppAsync);
        group.MapPost("/discord/interactions", DiscordAsync);
        return app;
    }

    private static ILogger Logger(ILoggerFactory loggers) => loggers.CreateLogger(typeof(ChatAppInboundApi));

    private static IResult Refuse(ILogger logger, ChannelKind kind, string name, InboundResult result)
    {
        logger.LogWarning("{Kind} delivery to {Channel} refused ({Reason}): {Error}", kind, name, result.Reason, result.Error);
        return TypedResults.Problem(statusCode: result.HttpStatusCode, title: $"The {kind} delivery was refused.", detail: result.Error);
    }

    private static async Task<IResult> WhatsAppVerifyAsync(string name, HttpRequest request, ChannelHub hub, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = Logger(loggers);
        var (channel, _, refusal) = await ChannelInboundApi.ReadDeliveryAsync<WhatsAppChannel>(name, ChannelKind.WhatsApp, request, hub, logger, ct);
        if (refusal is not null) return refusal;
        var result = channel!.HandleVerification(request.Query["hub.mode"].FirstOrDefault(), request.Query["hub.verify_token"].FirstOrDefault(),
            request.Query["hub.challenge"].FirstOrDefault());
        return result.Status == InboundStatus.Rejected
            ? Refuse(logger, ChannelKind.WhatsApp, name, result)
            : TypedResults.Text(result.ResponseBody, "text/plain", Encoding.UTF8, StatusCodes.Status200OK);
    }

    /// <summary>
    /// A webhook delivery: every message is stored (deduplicated on its <c>wamid</c>), every status (<c>sent</c>, <c>delivered</c>,
    /// <c>read</c>, <c>failed</c>) is recorded on the outbox row that sent the message. A delivery whose signature was already
    /// seen is refused (401) unless it carries a message that is not stored yet (Meta redelivers what was not acknowledged).
    /// </summary>
    private static async Task<IResult> WhatsAppAsync(string name, HttpRequest request, ChannelHub hub, MessageInbox inbox, IOutboxStore outbox,
        TimeProvider clock, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = Logger(loggers);
        var (channel, body, refusal) = await ChannelInboundApi.ReadDeliveryAsync<WhatsAppChannel>(name, ChannelKind.WhatsApp, request, hub, logger, ct);
        if (refusal is not null) return refusal;
        var delivery = await channel!.HandleWebhookAsync(body!, request.Headers[WhatsAppSignature.Header].FirstOrDefault(), ct);
        if (delivery.Result.Status == InboundStatus.Rejected) return Refuse(logger, ChannelKind.WhatsApp, name, delivery.Result);

        var stored = new List<IncomingMessage>();
        foreach (var message in delivery.Messages)
        {
            var receipt = await inbox.ReceiveAsync(message, ct);
            if (!receipt.Duplicate) stored.Add(message);
        }
        if (delivery.Replayed && stored.Count == 0)
            return Refuse(logger, ChannelKind.WhatsApp, name, InboundResult.Reject(RejectionReason.Replay,
                "This signed delivery was already received (replayed request); nothing was stored again."));

        foreach (var status in delivery.Statuses)
        {
            var updated = await outbox.RecordDeliveryStatusAsync(new DeliveryStatusUpdate
            {
                Channel = name, ProviderMessageId = status.MessageId, Status = status.Status, ErrorCode = status.ErrorCode,
                Error = status.IsFailed ? status.Error ?? "WhatsApp reports the message failed." : null, At = clock.GetUtcNow(),
            }, ct);
            if (updated is null)
                logger.LogInformation("WhatsApp status '{Status}' for {MessageId} on channel {Channel} ignored: the outbox has no such message.", status.Status, status.MessageId, name);
            else if (status.IsFailed)
                logger.LogWarning("WhatsApp message {Id} on channel {Channel} was not delivered: {Reason}", updated.Id, name, status.Error);
        }

        if (channel.Options.SendReadReceipts)
        {
            foreach (var message in stored)
                _ = Task.Run(async () =>
                {
                    var read = await channel.MarkReadAsync(message.ChannelMessageId, typing: true, CancellationToken.None);
                    if (!read.IsSuccess) logger.LogInformation("WhatsApp read receipt for {MessageId} on {Channel} failed: {Result}", message.ChannelMessageId, name, read);
                }, CancellationToken.None);
        }
        return TypedResults.Ok();
    }

    /// <summary>An interaction: PING is answered with PONG; a slash command or button press is stored and answered with a deferred
    /// response (the reply edits it through the interaction webhook).</summary>
    private static async Task<IResult> DiscordAsync(string name, HttpRequest request, ChannelHub hub, MessageInbox inbox, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = Logger(loggers);
        var (channel, body, refusal) = await ChannelInboundApi.ReadDeliveryAsync<DiscordChannel>(name, ChannelKind.Discord, request, hub, logger, ct);
        if (refusal is not null) return refusal;
        var result = await channel!.HandleInteractionAsync(body!, request.Headers[DiscordSignature.TimestampHeader].FirstOrDefault(),
            request.Headers[DiscordSignature.SignatureHeader].FirstOrDefault(), ct);
        if (result.Status == InboundStatus.Rejected) return Refuse(logger, ChannelKind.Discord, name, result);
        if (result is { Status: InboundStatus.Accepted, Message: { } message })
        {
            var receipt = await inbox.ReceiveAsync(message, ct);
            if (receipt.Duplicate) logger.LogInformation("Discord interaction {Key} received again; not processed twice.", message.DeduplicationKey);
        }
        return TypedResults.Text(result.ResponseBody ?? DiscordChannel.Deferred, result.ResponseContentType ?? "application/json", Encoding.UTF8, StatusCodes.Status200OK);
    }
}
