using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Engine.Stores;

public sealed partial class InMemoryStore : IInboxStore, IOutboxStore, IConversationStore
{
    private readonly Dictionary<string, InboxMessage> _inbox = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _inboxByKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OutboxMessage> _outbox = new(StringComparer.Ordinal);

    // Called under _gate by CommitAsync.
    private void CommitMessages(WorkflowCommit commit)
    {
        foreach (var m in commit.Outbox) _outbox[m.Id] = Copy(m);
        if (commit.ProcessedInboxMessageId is { } id && _inbox.TryGetValue(id, out var inbox))
        {
            inbox.Status = InboxStatus.Processed;
            inbox.ProcessedAt = commit.Instance.UpdatedAt;
            inbox.WorkflowInstanceId ??= commit.Instance.Id;
            inbox.LeaseUntil = null;
        }
    }

    // Inbox
    public Task<(InboxMessage Message, bool Added)> AddAsync(InboxMessage message, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_inboxByKey.TryGetValue(message.DeduplicationKey, out var existing)) return Task.FromResult((Copy(_inbox[existing]), false));
            _inbox[message.Id] = Copy(message);
            _inboxByKey[message.DeduplicationKey] = message.Id;
            return Task.FromResult((message, true));
        }
    }

    Task<InboxMessage?> IInboxStore.FindAsync(string id, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_inbox.TryGetValue(id, out var m) ? Copy(m) : null);
    }

    public Task<IReadOnlyList<InboxMessage>> FindClaimableAsync(DateTimeOffset now, int take, CancellationToken ct = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<InboxMessage>>(_inbox.Values
                .Where(m => m.Status == InboxStatus.Received && (m.LeaseUntil is null || m.LeaseUntil <= now))
                .OrderBy(m => m.ReceivedAt).Take(take).Select(Copy).ToList());
    }

    Task<bool> IInboxStore.TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_inbox.TryGetValue(id, out var m) || m.Status != InboxStatus.Received || (m.LeaseUntil is { } l && l > now)) return Task.FromResult(false);
            m.LeaseUntil = leaseUntil;
            m.Attempts++;
            return Task.FromResult(true);
        }
    }

    Task IInboxStore.UpdateAsync(string id, InboxStatus status, string? error, DateTimeOffset? leaseUntil, DateTimeOffset now, CancellationToken ct)
    {
        lock (_gate)
            if (_inbox.TryGetValue(id, out var m))
            {
                m.Status = status;
                m.Error = error;
                m.LeaseUntil = leaseUntil;
                if (status != InboxStatus.Received) m.ProcessedAt = now;
            }
        return Task.CompletedTask;
    }

    public Task CompleteWithOutboxAsync(string id, IReadOnlyList<OutboxMessage> outbox, DateTimeOffset now, CancellationToken ct = default)
    {
        lock (_gate)
        {
            foreach (var o in outbox) _outbox[o.Id] = Copy(o);
            if (_inbox.TryGetValue(id, out var m))
            {
                m.Status = InboxStatus.Processed;
                m.ProcessedAt = now;
                m.LeaseUntil = null;
            }
        }
        return Task.CompletedTask;
    }

    Task<Page<InboxMessage>> IInboxStore.ListAsync(string? channel, InboxStatus? status, PageArgs page, CancellationToken ct)
    {
        lock (_gate)
        {
            var all = _inbox.Values.Where(m => (channel is null || m.Channel == channel) && (status is null || m.Status == status))
                .OrderByDescending(m => m.ReceivedAt).ToList();
            return Task.FromResult(new Page<InboxMessage>(all.Skip(page.Skip).Take(page.Take).Select(Copy).ToList(), all.Count));
        }
    }

    // Outbox
    Task<OutboxMessage?> IOutboxStore.FindAsync(string id, CancellationToken ct)
    {
        lock (_gate) return Task.FromResult(_outbox.TryGetValue(id, out var m) ? Copy(m) : null);
    }

    Task<IReadOnlyList<OutboxMessage>> IOutboxStore.FindDueAsync(DateTimeOffset now, int take, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<OutboxMessage>>(_outbox.Values.Where(m => m.Status == OutboxStatus.Pending && m.NextAttemptAt <= now)
                .OrderBy(m => m.CreatedAt).Take(take).Select(Copy).ToList());
    }

    Task<bool> IOutboxStore.TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_outbox.TryGetValue(id, out var m) || m.Status != OutboxStatus.Pending || m.NextAttemptAt > now) return Task.FromResult(false);
            m.NextAttemptAt = leaseUntil;
            m.Attempts++;
            return Task.FromResult(true);
        }
    }

    Task IOutboxStore.UpdateAsync(OutboxMessage message, CancellationToken ct)
    {
        lock (_gate)
        {
            var copy = Copy(message);
            if (_outbox.TryGetValue(message.Id, out var stored))
            {
                // Delivery reports are recorded separately (RecordDeliveryStatusAsync): keep them.
                copy.DeliveryStatus = stored.DeliveryStatus;
                copy.DeliveryErrorCode = stored.DeliveryErrorCode;
                copy.DeliveryUpdatedAt = stored.DeliveryUpdatedAt;
                if (DeliveryStatuses.IsFailure(stored.DeliveryStatus)) copy.LastError = stored.LastError;
            }
            _outbox[message.Id] = copy;
        }
        return Task.CompletedTask;
    }

    Task<OutboxMessage?> IOutboxStore.RecordDeliveryStatusAsync(DeliveryStatusUpdate update, CancellationToken ct)
    {
        lock (_gate)
        {
            var row = update.OutboxMessageId is { } id
                ? _outbox.GetValueOrDefault(id)
                : _outbox.Values.FirstOrDefault(m => m.Channel == update.Channel && m.ProviderMessageIds == update.ProviderMessageId);
            if (row is null || row.Channel != update.Channel) return Task.FromResult<OutboxMessage?>(null);
            if (DeliveryStatuses.Advances(row.DeliveryStatus, update.Status))
            {
                row.DeliveryStatus = update.Status;
                row.DeliveryErrorCode = update.ErrorCode;
                row.DeliveryUpdatedAt = update.At;
                if (DeliveryStatuses.IsFailure(update.Status)) row.LastError = update.Error;
            }
            return Task.FromResult<OutboxMessage?>(Copy(row));
        }
    }

    // Conversations
    Task<Page<ConversationSummary>> IConversationStore.ListAsync(string? channel, PageArgs page, CancellationToken ct)
    {
        lock (_gate)
        {
            var messages = _inbox.Values.Where(m => channel is null || m.Channel == channel)
                .Select(m => (m.ConversationKey, m.Channel, At: m.ReceivedAt, Direction: MessageDirection.In, m.Payload, m.Id))
                .Concat(_outbox.Values.Where(m => m.ConversationKey is not null && (channel is null || m.Channel == channel))
                    .Select(m => (ConversationKey: m.ConversationKey!, m.Channel, At: m.CreatedAt, Direction: MessageDirection.Out, m.Payload, m.Id)));
            var all = messages.GroupBy(m => m.ConversationKey, StringComparer.Ordinal).Select(g =>
                {
                    var last = g.OrderByDescending(m => m.At).ThenByDescending(m => m.Direction).First();
                    return new ConversationSummary
                    {
                        Key = g.Key, Channel = last.Channel, InboundCount = g.LongCount(m => m.Direction == MessageDirection.In),
                        OutboundCount = g.LongCount(m => m.Direction == MessageDirection.Out), LastActivityAt = last.At, LastDirection = last.Direction,
                        LastPayload = last.Payload,
                    };
                })
                .OrderByDescending(c => c.LastActivityAt).ThenBy(c => c.Key, StringComparer.Ordinal).ToList();
            return Task.FromResult(new Page<ConversationSummary>(all.Skip(page.Skip).Take(page.Take).ToList(), all.Count));
        }
    }

    Task<ConversationMessages?> IConversationStore.GetAsync(string conversationKey, int take, CancellationToken ct)
    {
        lock (_gate)
        {
            var inbound = _inbox.Values.Where(m => m.ConversationKey == conversationKey).OrderBy(m => m.ReceivedAt).ThenBy(m => m.Id, StringComparer.Ordinal).ToList();
            var outbound = _outbox.Values.Where(m => m.ConversationKey == conversationKey).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id, StringComparer.Ordinal).ToList();
            if (inbound.Count == 0 && outbound.Count == 0) return Task.FromResult<ConversationMessages?>(null);
            var channel = inbound.Count > 0 ? inbound[^1].Channel : outbound[^1].Channel;
            return Task.FromResult<ConversationMessages?>(new ConversationMessages(conversationKey, channel,
                inbound.Skip(Math.Max(0, inbound.Count - take)).Select(Copy).ToList(), outbound.Skip(Math.Max(0, outbound.Count - take)).Select(Copy).ToList(),
                inbound.Count, outbound.Count));
        }
    }

    Task IOutboxStore.AddAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken ct)
    {
        lock (_gate) foreach (var m in messages) _outbox[m.Id] = Copy(m);
        return Task.CompletedTask;
    }

    Task<Page<OutboxMessage>> IOutboxStore.ListAsync(string? channel, OutboxStatus? status, string? conversationKey, PageArgs page, CancellationToken ct)
    {
        lock (_gate)
        {
            var all = _outbox.Values.Where(m => (channel is null || m.Channel == channel) && (status is null || m.Status == status)
                && (conversationKey is null || m.ConversationKey == conversationKey)).OrderByDescending(m => m.CreatedAt).ToList();
            return Task.FromResult(new Page<OutboxMessage>(all.Skip(page.Skip).Take(page.Take).Select(Copy).ToList(), all.Count));
        }
    }
}
