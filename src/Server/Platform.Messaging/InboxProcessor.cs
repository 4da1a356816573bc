using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Messaging;

/// <summary>
/// Processes stored incoming messages, one conversation in order: a workflow waiting for the conversation's next message is
/// resumed; otherwise every published workflow with a <c>MessageReceived</c> trigger for the channel starts; otherwise the
/// channel's fallback text is sent. The inbox row is marked processed in the same transaction as the workflow commit, so a
/// crash at any point neither loses the message nor processes it twice. Messages a dead node held are taken over when their
/// lease ends.
/// </summary>
public sealed class InboxProcessor : BackgroundService
{
    private readonly IInboxStore _inbox;
    private readonly IOutboxStore _outbox;
    private readonly IBookmarkStore _bookmarks;
    private readonly ITriggerStore _triggers;
    private readonly IWorkflowRuntime _runtime;
    private readonly ChannelHub _channels;
    private readonly OutboxDispatcher _dispatcher;
    private readonly TimeProvider _clock;
    private readonly MessagingOptions _options;
    private readonly ILogger<InboxProcessor> _logger;
    private readonly LaneWorker<InboxMessage> _lanes;
    private readonly Platform.Activities.IConversationHandoffs? _handoffs;
    private readonly InboundAttachments? _attachments;

    public InboxProcessor(IInboxStore inbox, IOutboxStore outbox, IBookmarkStore bookmarks, ITriggerStore triggers, IWorkflowRuntime runtime,
        ChannelHub channels, OutboxDispatcher dispatcher, TimeProvider clock, IOptions<MessagingOptions> options, ILogger<InboxProcessor> logger,
        Platform.Activities.IConversationHandoffs? handoffs = null, InboundAttachments? attachments = null)
    {
        _handoffs = handoffs;
        _attachments = attachments;
        _inbox = inbox;
        _outbox = outbox;
        _bookmarks = bookmarks;
        _triggers = triggers;
        _runtime = runtime;
        _channels = channels;
        _dispatcher = dispatcher;
        _clock = clock;
        _options = options.Value;
        _logger = logger;
        _lanes = new LaneWorker<InboxMessage>(_options.Lanes, ProcessAsync, logger);
    }

    /// <summary>Queues a message this node stored and holds the lease of (called by <see cref="MessageInbox"/> right after storing it).</summary>
    public void Enqueue(InboxMessage claimed) => _lanes.Enqueue(claimed.Id, claimed.ConversationKey, claimed);

    /// <summary>The lease a receiving node takes on the message it stores.</summary>
    public TimeSpan Lease => _options.Lease;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var lanes = _lanes.RunAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var m in await _inbox.FindClaimableAsync(_clock.GetUtcNow(), 200, stoppingToken).ConfigureAwait(false))
                    _lanes.Enqueue(m.Id, m.ConversationKey);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e) { _logger.LogError(e, "Polling the inbox failed; retrying in {Interval}.", _options.PollInterval); }
            try { await Task.Delay(_options.PollInterval, _clock, stoppingToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
        await lanes.ConfigureAwait(false);
    }

    private async Task ProcessAsync(string id, InboxMessage? claimed, CancellationToken ct)
    {
        var row = claimed;
        if (row is null)
        {
            var now = _clock.GetUtcNow();
            if (!await _inbox.TryClaimAsync(id, now, now + _options.Lease, ct).ConfigureAwait(false)) return;
            row = await _inbox.FindAsync(id, ct).ConfigureAwait(false);
            if (row is null) return;
        }
        IncomingMessage? parsed = null;
        try { parsed = MessageJson.Deserialize(row.Payload); }
        catch (Exception e) when (e is not OperationCanceledException) { /* reported below, with the retry logic */ }
        using var span = MessagingTelemetry.StartLinked("inbox process", row.Id,
            traceParent: parsed?.Metadata.GetValueOrDefault(MessagingTelemetry.TraceParentMetadataKey));
        span?.SetTag("messaging.channel", row.Channel);
        span?.SetTag("messaging.conversation", row.ConversationKey);
        span?.SetTag("messaging.inbox_id", row.Id);
        try
        {
            var message = parsed ?? MessageJson.Deserialize(row.Payload);
            await RouteAsync(row, message, ct).ConfigureAwait(false);
            MessagingTelemetry.RecordProcessed(row.Channel, _clock.GetUtcNow() - row.ReceivedAt);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Shutting down: the lease runs out and this or another node takes the message again.
            throw;
        }
        catch (Exception e)
        {
            span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            // row.Attempts counts this attempt (the claim counted it).
            var failed = row.Attempts >= _options.MaxProcessingAttempts;
            _logger.LogError(e, "Processing message {Id} on channel {Channel} failed (attempt {Attempt}); {Next}.", id, row.Channel, row.Attempts,
                failed ? "giving up" : "will retry");
            await _inbox.UpdateAsync(id, failed ? InboxStatus.Failed : InboxStatus.Received, e.Message,
                failed ? null : _clock.GetUtcNow() + _options.Backoff(row.Attempts), _clock.GetUtcNow(), CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task RouteAsync(InboxMessage row, IncomingMessage message, CancellationToken ct)
    {
        var conversation = row.ConversationKey;

        // 0. A text over Platform:Messaging:MaxMessageLength (cut and marked by the inbox) runs nothing: the sender is told.
        if (message.Metadata.TryGetValue(MessagingOptions.TooLongMetadataKey, out var length))
        {
            var tooLong = Reply(row, message, _options.TooLongReplyText.Replace("{length}", length, StringComparison.Ordinal)
                .Replace("{max}", _options.MaxMessageLength.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
            await _inbox.CompleteWithOutboxAsync(row.Id, [tooLong], _clock.GetUtcNow(), ct).ConfigureAwait(false);
            _logger.LogInformation("Message {Id} on {Channel} was too long ({Length} characters); the sender was told.", row.Id, message.ChannelName, length);
            _dispatcher.OnCommitted([tooLong]);
            return;
        }
        // 0a. Files: copied into the attachment store (the workflow sees stored copies); one over the channel's limits runs
        // nothing, and the sender is told why in their language.
        if (_attachments is not null && (message.Attachments.Count > 0 || message.Metadata.ContainsKey(InboundAttachments.RefusedMetadataKey)))
        {
            var (stored, refusal) = await _attachments.StoreAsync(message, ct).ConfigureAwait(false);
            if (refusal is not null)
            {
                var config = (await _channels.GetAsync(message.ChannelName, ct).ConfigureAwait(false))?.Config;
                var refused = Reply(row, message, InboundAttachments.ReplyText(refusal, message, config, _options));
                await _inbox.CompleteWithOutboxAsync(row.Id, [refused], _clock.GetUtcNow(), ct).ConfigureAwait(false);
                _logger.LogInformation("Message {Id} on {Channel} carried a file that was refused ({Name}, {Size} bytes, limit {Max}); the sender was told.",
                    row.Id, message.ChannelName, refusal.Name, refusal.Size, refusal.MaxBytes);
                _dispatcher.OnCommitted([refused]);
                return;
            }
            message = stored;
        }
        // 0b. A conversation handed to people (Hand Off To Human): the message is kept for the agents, and the bot stays silent.
        if (_handoffs is not null && await _handoffs.FindAsync(conversation, ct).ConfigureAwait(false) is { } handoff)
        {
            await _inbox.UpdateAsync(row.Id, InboxStatus.Processed, null, null, _clock.GetUtcNow(), ct).ConfigureAwait(false);
            _logger.LogInformation("Message {Id} is in conversation {Conversation}, which people handle (assigned to {Agent}); no workflow runs.",
                row.Id, conversation, handoff.AssignedTo ?? "nobody yet");
            return;
        }
        var messageInput = MessageInput.From(message);
        // The channel's "language" setting (zh, en) fixes the reply language; otherwise it is detected per message.
        if (!message.Metadata.ContainsKey("language") && messageInput["metadata"] is Dictionary<string, object?> metadata
            && (await _channels.GetAsync(message.ChannelName, ct).ConfigureAwait(false))?.Config.Get("language") is { Length: > 0 } language)
            metadata["language"] = language;
        var input = new Dictionary<string, object?>
        {
            [MessagingNames.MessageInputKey] = messageInput,
            ["text"] = message.Text,
        };

        // 1. A workflow waiting for this conversation's next message.
        foreach (var bookmark in (await _bookmarks.FindAsync(MessagingNames.WaitForMessage, conversation, ct).ConfigureAwait(false)).OrderBy(b => b.CreatedAt))
        {
            try
            {
                var resumed = await _runtime.ResumeAsync(new ResumeWorkflowRequest(bookmark.WorkflowInstanceId, bookmark.Id) { Input = input, InboxMessageId = row.Id }, ct)
                    .ConfigureAwait(false);
                _logger.LogInformation("Message {Id} resumed instance {Instance} ({Status}).", row.Id, resumed.InstanceId, resumed.SubStatus);
                await AnswerFaultAsync(row, resumed).ConfigureAwait(false);
                return;
            }
            catch (WorkflowRequestException e) when (e.Code is WorkflowRequestException.NotFound or WorkflowRequestException.Conflict)
            {
                _logger.LogDebug("Bookmark {Bookmark} was taken meanwhile: {Message}", bookmark.Id, e.Message);
            }
        }

        // 2. Workflows triggered by messages on this channel (or on any channel).
        var triggers = (await _triggers.FindAsync(MessagingNames.MessageReceived, message.ChannelName, ct).ConfigureAwait(false))
            .Concat(await _triggers.FindAsync(MessagingNames.MessageReceived, MessagingNames.AnyChannel, ct).ConfigureAwait(false))
            .DistinctBy(t => (t.DefinitionVersionId, t.ActivityId)).OrderBy(t => t.DefinitionId, StringComparer.Ordinal).ThenBy(t => t.ActivityId, StringComparer.Ordinal)
            .ToList();
        // Triggers with a text pattern take only the messages that match it.
        for (var i = triggers.Count - 1; i >= 0; i--)
            if (!await _runtime.TriggerAcceptsAsync(triggers[i], input, ct).ConfigureAwait(false)) triggers.RemoveAt(i);
        if (triggers.Count > 0)
        {
            var properties = new Dictionary<string, object?>
            {
                [MessagingNames.ConversationProperty] = conversation,
                [MessagingNames.ChannelProperty] = message.ChannelName,
                [MessagingNames.LastMessageIdProperty] = message.ChannelMessageId,
                [MessagingNames.SenderProperty] = message.Sender.Id,
                // Who the instance acts for (audit, device permissions): set only here, never from the workflow's input.
                [Platform.Activities.AuditActor.Property] = message.Sender.Id,
                [Platform.Activities.AuditActor.KindProperty] = Platform.Activities.AuditActorKinds.Channel,
            };
            for (var i = 0; i < triggers.Count; i++)
            {
                var t = triggers[i];
                var last = i == triggers.Count - 1;
                try
                {
                    // Deterministic instance ids: after a crash, starting again finds the instance and starts nothing twice.
                    var started = await _runtime.StartAsync(new StartWorkflowRequest(t.DefinitionId)
                    {
                        DefinitionVersionId = t.DefinitionVersionId, TriggerActivityId = t.ActivityId, Input = input, CorrelationId = conversation,
                        InstanceId = i == 0 ? row.Id : $"{row.Id}-{i}", Properties = properties, InboxMessageId = last ? row.Id : null,
                    }, ct).ConfigureAwait(false);
                    _logger.LogInformation("Message {Id} started {Definition} as {Instance} ({Status}).", row.Id, t.DefinitionId, started.InstanceId, started.SubStatus);
                    await AnswerFaultAsync(row, started).ConfigureAwait(false);
                }
                catch (WorkflowRequestException e) when (e.Code == WorkflowRequestException.Conflict)
                {
                    _logger.LogInformation("Message {Id} had already started {Definition}: {Message}", row.Id, t.DefinitionId, e.Message);
                    if (last) await _inbox.UpdateAsync(row.Id, InboxStatus.Processed, null, null, _clock.GetUtcNow(), ct).ConfigureAwait(false);
                }
            }
            return;
        }

        // 3. Nobody takes it: the channel's fallback answer, in the same transaction as marking it processed.
        var channel = await _channels.GetAsync(message.ChannelName, ct).ConfigureAwait(false);
        var fallback = Reply(row, message, channel?.Config.FallbackText ?? "Sorry, I can't help with that yet.");
        await _inbox.CompleteWithOutboxAsync(row.Id, [fallback], _clock.GetUtcNow(), ct).ConfigureAwait(false);
        _logger.LogInformation("No workflow handles messages on {Channel}; message {Id} got the fallback reply.", message.ChannelName, row.Id);
        _dispatcher.OnCommitted([fallback]);
    }

    /// <summary>A workflow that faulted without answering still answers the user, politely.</summary>
    private async Task AnswerFaultAsync(InboxMessage row, RunWorkflowResult result)
    {
        if (result.SubStatus != WorkflowSubStatus.Faulted) return;
        var answered = await _outbox.ListAsync(null, null, row.ConversationKey, new PageArgs(0, 50)).ConfigureAwait(false);
        if (answered.Items.Any(o => o.WorkflowInstanceId == result.InstanceId)) return;
        var message = MessageJson.Deserialize(row.Payload);
        var reply = Reply(row, message, _options.ErrorReplyText);
        await _outbox.AddAsync([reply]).ConfigureAwait(false);
        _dispatcher.OnCommitted([reply]);
        _logger.LogWarning("Instance {Instance} faulted while handling message {Id}: {Fault}", result.InstanceId, row.Id, result.Instance.State.Fault?.Message);
    }

    private OutboxMessage Reply(InboxMessage row, IncomingMessage message, string text)
    {
        var now = _clock.GetUtcNow();
        return new OutboxMessage // claimed by this node, which sends it at once (see OutboxMessage.CommitLease)
        {
            Id = Guid.CreateVersion7().ToString("N"), Channel = message.ChannelName, ConversationKey = row.ConversationKey,
            Payload = new OutgoingEnvelope { Text = text, ReplyToChannelMessageId = message.ChannelMessageId }.ToJson(), CreatedAt = now,
            Attempts = 1, NextAttemptAt = now + OutboxMessage.CommitLease,
        };
    }
}
