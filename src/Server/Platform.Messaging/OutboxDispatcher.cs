using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Messaging;

/// <summary>
/// Delivers outbox messages: right after the commit that stored them on this node, and by polling for the rest (retries that
/// fell due, messages of a node that died). Each attempt is claimed with a lease, so one node sends it. Retryable failures
/// back off exponentially, at least as long as the service's <c>Retry-After</c>; permanent failures and the last attempt
/// dead-letter the message with the reason. A split message resumes after the parts already delivered.
/// </summary>
public sealed class OutboxDispatcher : BackgroundService, IOutboxListener
{
    private readonly IOutboxStore _store;
    private readonly ChannelHub _channels;
    private readonly TimeProvider _clock;
    private readonly MessagingOptions _options;
    private readonly ILogger<OutboxDispatcher> _logger;
    private readonly LaneWorker<OutboxMessage> _lanes;

    private readonly IAttachmentStore? _attachments;

    public OutboxDispatcher(IOutboxStore store, ChannelHub channels, TimeProvider clock, IOptions<MessagingOptions> options, ILogger<OutboxDispatcher> logger,
        IAttachmentStore? attachments = null)
    {
        _attachments = attachments;
        _store = store;
        _channels = channels;
        _clock = clock;
        _options = options.Value;
        _logger = logger;
        _lanes = new LaneWorker<OutboxMessage>(_options.Lanes, DeliverAsync, logger);
    }

    /// <summary>Raised after each delivery attempt (tests and the web chat use it).</summary>
    public event Action<OutboxMessage>? Attempted;

    /// <summary>Raised after each delivery attempt with its outcome (the channel health monitor counts them).</summary>
    public event Action<OutboxMessage, SendStatus, SendResult?>? AttemptFinished;

    /// <inheritdoc />
    public void OnCommitted(IReadOnlyList<OutboxMessage> messages)
    {
        // Committed already claimed by this node (OutboxMessage.CommitLease): sent without another claim.
        foreach (var m in messages)
        {
            MessagingTelemetry.RememberParent(m.Id);
            _lanes.Enqueue(m.Id, m.ConversationKey, m);
        }
    }

    /// <summary>Queues a stored message for an attempt now (an operator's retry).</summary>
    public void Enqueue(OutboxMessage message) => _lanes.Enqueue(message.Id, message.ConversationKey);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lanes = _lanes.RunAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var m in await _store.FindDueAsync(_clock.GetUtcNow(), 500, stoppingToken).ConfigureAwait(false))
                    _lanes.Enqueue(m.Id, m.ConversationKey);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e) { _logger.LogError(e, "Polling the outbox failed; retrying in {Interval}.", _options.PollInterval); }
            try { await Task.Delay(_options.PollInterval, _clock, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
        await lanes.ConfigureAwait(false);
    }

    private async Task DeliverAsync(string id, OutboxMessage? claimed, CancellationToken ct)
    {
        var message = claimed;
        if (message is null)
        {
            var now = _clock.GetUtcNow();
            if (!await _store.TryClaimAsync(id, now, now + _options.Lease, ct).ConfigureAwait(false)) return;
            message = await _store.FindAsync(id, ct).ConfigureAwait(false);
            if (message is null) return;
        }
        using var span = MessagingTelemetry.StartLinked("outbox deliver", message.Id, System.Diagnostics.ActivityKind.Producer, message.TraceParent);
        span?.SetTag("messaging.channel", message.Channel);
        span?.SetTag("messaging.conversation", message.ConversationKey);
        span?.SetTag("messaging.outbox_id", message.Id);

        var channel = await _channels.GetAsync(message.Channel, ct).ConfigureAwait(false);
        if (channel is null || !channel.Config.Enabled || channel.Sender is null)
        {
            var why = channel is null ? $"Channel '{message.Channel}' is not configured: add it under /api/channels, then retry the message."
                : !channel.Config.Enabled ? $"Channel '{message.Channel}' is disabled: enable it, then retry the message."
                : $"Channel '{message.Channel}' cannot send: {channel.Error}";
            await FinishAsync(message, SendStatus.PermanentFailure, why, null, null).ConfigureAwait(false);
            return;
        }

        OutgoingEnvelope envelope;
        try { envelope = OutgoingEnvelope.FromJson(message.Payload); }
        catch (JsonException e)
        {
            await FinishAsync(message, SendStatus.PermanentFailure, $"The message payload is not valid: {e.Message}", null, null).ConfigureAwait(false);
            return;
        }
        ConversationId.TryParse(message.ConversationKey, out var conversation);
        var recipient = envelope.To ?? (message.ConversationKey is null ? null : conversation.ChatId);
        if (string.IsNullOrEmpty(recipient))
        {
            await FinishAsync(message, SendStatus.PermanentFailure, "The message has no recipient: set 'To', or send it as a reply in a conversation.", null, null)
                .ConfigureAwait(false);
            return;
        }

        var outgoing = envelope.ToMessage(message.PartsDelivered, message.Id, conversation.ThreadId);
        // Stored files go to the web chat as signed links; other channels upload their bytes, read from the store here.
        if (outgoing.Attachments.Any(a => a.StoredId is not null))
        {
            var (loaded, missing) = await LoadAttachmentsAsync(outgoing.Attachments, withContent: channel.Config.Kind != ChannelKind.WebChat, ct).ConfigureAwait(false);
            if (missing is not null)
            {
                await FinishAsync(message, SendStatus.PermanentFailure, missing, null, null).ConfigureAwait(false);
                return;
            }
            outgoing = outgoing with { Attachments = loaded };
        }

        SendResult result;
        try
        {
            result = await channel.Sender.SendAsync(recipient, outgoing, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
        catch (Exception e)
        {
            // Adapters report failures as results; an exception is a bug or an unexpected network state: retry.
            _logger.LogError(e, "Channel {Channel} threw while sending {Id}.", message.Channel, id);
            result = new SendResult { Status = SendStatus.RetryableFailure, Error = e.Message, PartsDelivered = message.PartsDelivered };
        }
        await FinishAsync(message, result.Status, result.Error, result.RetryAfter, result).ConfigureAwait(false);
    }

    /// <summary>Stored attachments with their name, type and size from the store, and (<paramref name="withContent"/>) their bytes.</summary>
    private async Task<(List<MessageAttachment> Loaded, string? Missing)> LoadAttachmentsAsync(IReadOnlyList<MessageAttachment> attachments, bool withContent,
        CancellationToken ct)
    {
        var loaded = new List<MessageAttachment>(attachments.Count);
        foreach (var a in attachments)
        {
            if (a.StoredId is not { } id || a.Content is not null)
            {
                loaded.Add(a);
                continue;
            }
            if (_attachments is null || await _attachments.FindAsync(id, ct).ConfigureAwait(false) is not { } stored)
                return (loaded, $"Attachment '{a.Name}' ({id}) is not in the attachment store (the retention job may have removed it); send the message without it.");
            if (!withContent)
            {
                loaded.Add(a with { Size = stored.Size, ContentType = stored.ContentType, Name = stored.Name });
                continue;
            }
            if (await _attachments.OpenReadAsync(id, ct).ConfigureAwait(false) is not { } stream)
                return (loaded, $"Attachment '{a.Name}' ({id}) is not in the attachment store (the retention job may have removed it); send the message without it.");
            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream(stored.Size is > 0 and <= int.MaxValue ? (int)stored.Size : 0);
                await stream.CopyToAsync(buffer, ct).ConfigureAwait(false);
                loaded.Add(a with { Content = buffer.ToArray(), Size = stored.Size, ContentType = stored.ContentType, Name = stored.Name });
            }
        }
        return (loaded, null);
    }

    private async Task FinishAsync(OutboxMessage message, SendStatus status, string? error, TimeSpan? retryAfter, SendResult? result)
    {
        var now = _clock.GetUtcNow();
        var attempts = message.Attempts;
        if (result is not null) message.PartsDelivered = Math.Max(message.PartsDelivered, result.PartsDelivered);
        if (result is { ChannelMessageIds.Count: > 0 })
        {
            // The service's ids of the parts delivered (after those of earlier attempts): delivery reports (Twilio status callbacks) name them.
            message.ProviderMessageIds = string.Join(',', (message.ProviderMessageIds?.Split(',') ?? []).Concat(result.ChannelMessageIds).Distinct(StringComparer.Ordinal));
        }
        switch (status)
        {
            case SendStatus.Sent:
                message.Status = OutboxStatus.Sent;
                message.SentAt = now;
                message.LastError = null;
                MessagingTelemetry.RecordSent(message.Channel, "sent");
                MessagingTelemetry.RecordDelivered(message.Channel, now - message.CreatedAt);
                _logger.LogDebug("Delivered {Id} on {Channel}.", message.Id, message.Channel);
                break;
            case SendStatus.RetryableFailure when attempts < _options.MaxDeliveryAttempts:
                var wait = _options.Backoff(attempts);
                if (retryAfter is { } r && r > wait) wait = r;
                message.NextAttemptAt = now + wait;
                message.LastError = error;
                MessagingTelemetry.RecordSent(message.Channel, "retry");
                _logger.LogWarning("Delivery of {Id} on {Channel} failed (attempt {Attempt} of {Max}); retrying in {Wait}: {Error}",
                    message.Id, message.Channel, attempts, _options.MaxDeliveryAttempts, wait, error);
                break;
            default:
                message.Status = OutboxStatus.DeadLettered;
                MessagingTelemetry.RecordSent(message.Channel, "dead_letter");
                System.Diagnostics.Activity.Current?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, "dead-lettered");
                message.LastError = status == SendStatus.RetryableFailure ? $"Gave up after {attempts} attempts: {error}" : error;
                _logger.LogError("Message {Id} on {Channel} dead-lettered: {Error}", message.Id, message.Channel, message.LastError);
                break;
        }
        await _store.UpdateAsync(message, CancellationToken.None).ConfigureAwait(false);
        AttemptFinished?.Invoke(message, status, result);
        Attempted?.Invoke(message);
    }
}
