using Microsoft.EntityFrameworkCore;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>The durable inbox on the platform database. Claims are conditional updates, so with several nodes one wins.</summary>
public sealed partial class EfInboxStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : IInboxStore
{
    /// <inheritdoc />
    public async Task<(InboxMessage Message, bool Added)> AddAsync(InboxMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        using (await gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = factory.CreateDbContext();
            db.Add(message);
            try
            {
                // Insert first: a new message (the common case) costs one round trip; the unique key catches redeliveries.
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return (message, true);
            }
            catch (DbUpdateException)
            {
                // A redelivery (or another node stored the same delivery first): answer with the stored copy.
                await using var again = factory.CreateDbContext();
                var winner = await again.Set<InboxMessage>().AsNoTracking().FirstOrDefaultAsync(m => m.DeduplicationKey == message.DeduplicationKey, ct).ConfigureAwait(false);
                if (winner is null) throw;
                return (winner, false);
            }
        }
    }

    /// <inheritdoc />
    public async Task<InboxMessage?> FindAsync(string id, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        return await db.Set<InboxMessage>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<InboxMessage>> FindClaimableAsync(DateTimeOffset now, int take, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        return await db.Set<InboxMessage>().AsNoTracking()
            .Where(m => m.Status == InboxStatus.Received && (m.LeaseUntil == null || m.LeaseUntil <= now))
            .OrderBy(m => m.ReceivedAt).ThenBy(m => m.Id).Take(take).ToListAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct = default)
    {
        using (await gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = factory.CreateDbContext();
            var n = await db.Set<InboxMessage>()
                .Where(m => m.Id == id && m.Status == InboxStatus.Received && (m.LeaseUntil == null || m.LeaseUntil <= now))
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.LeaseUntil, leaseUntil).SetProperty(m => m.Attempts, m => m.Attempts + 1), ct).ConfigureAwait(false);
            return n == 1;
        }
    }

    /// <inheritdoc />
    public async Task UpdateAsync(string id, InboxStatus status, string? error, DateTimeOffset? leaseUntil, DateTimeOffset now, CancellationToken ct = default)
    {
        DateTimeOffset? processedAt = status == InboxStatus.Received ? null : now;
        using (await gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = factory.CreateDbContext();
            await db.Set<InboxMessage>().Where(m => m.Id == id)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, status).SetProperty(m => m.Error, error)
                    .SetProperty(m => m.LeaseUntil, leaseUntil).SetProperty(m => m.ProcessedAt, processedAt), ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task CompleteWithOutboxAsync(string id, IReadOnlyList<OutboxMessage> outbox, DateTimeOffset now, CancellationToken ct = default)
    {
        using (await gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = factory.CreateDbContext();
            await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
            db.AddRange(outbox);
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            await db.Set<InboxMessage>().Where(m => m.Id == id)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, InboxStatus.Processed).SetProperty(m => m.ProcessedAt, now)
                    .SetProperty(m => m.LeaseUntil, (DateTimeOffset?)null), ct).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<Page<InboxMessage>> ListAsync(string? channel, InboxStatus? status, PageArgs page, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        var q = db.Set<InboxMessage>().AsNoTracking();
        if (channel is not null) q = q.Where(m => m.Channel == channel);
        if (status is not null) q = q.Where(m => m.Status == status);
        var total = await q.LongCountAsync(ct).ConfigureAwait(false);
        var items = await q.OrderByDescending(m => m.ReceivedAt).ThenByDescending(m => m.Id).Skip(page.Skip).Take(page.Take).ToListAsync(ct).ConfigureAwait(false);
        return new Page<InboxMessage>(items, total);
    }
}

/// <summary>The durable outbox on the platform database. Rows are inserted by the workflow commit; this store delivers them.</summary>
public sealed partial class EfOutboxStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : IOutboxStore
{
    /// <inheritdoc />
    public async Task<OutboxMessage?> FindAsync(string id, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        return await db.Set<OutboxMessage>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == id, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OutboxMessage>> FindDueAsync(DateTimeOffset now, int take, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        return await db.Set<OutboxMessage>().AsNoTracking()
            .Where(m => m.Status == OutboxStatus.Pending && m.NextAttemptAt <= now)
            .OrderBy(m => m.CreatedAt).ThenBy(m => m.Id).Take(take).ToListAsync(ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> TryClaimAsync(string id, DateTimeOffset now, DateTimeOffset leaseUntil, CancellationToken ct = default)
    {
        using (await gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = factory.CreateDbContext();
            var n = await db.Set<OutboxMessage>()
                .Where(m => m.Id == id && m.Status == OutboxStatus.Pending && m.NextAttemptAt <= now)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.NextAttemptAt, leaseUntil).SetProperty(m => m.Attempts, m => m.Attempts + 1), ct).ConfigureAwait(false);
            return n == 1;
        }
    }

    /// <inheritdoc />
    public async Task UpdateAsync(OutboxMessage message, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        using (await gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = factory.CreateDbContext();
            await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
            await using var batch = new BatchCommand(db);
            batch.Update<OutboxMessage>(message.Id,
            [
                (nameof(OutboxMessage.Status), message.Status), (nameof(OutboxMessage.Attempts), message.Attempts),
                (nameof(OutboxMessage.PartsDelivered), message.PartsDelivered), (nameof(OutboxMessage.NextAttemptAt), message.NextAttemptAt),
                (nameof(OutboxMessage.SentAt), message.SentAt), (nameof(OutboxMessage.ProviderMessageIds), message.ProviderMessageIds),
            ]);
            // A delivery report may have come in since the attempt began: its failure reason stays (the report fields are not written here).
            batch.Update<OutboxMessage>(message.Id, [(nameof(OutboxMessage.LastError), message.LastError)],
                unlessIn: (nameof(OutboxMessage.DeliveryStatus), DeliveryStatuses.Failures));
            await batch.ExecuteAsync(ct).ConfigureAwait(false);
            await tx.CommitAsync(ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<OutboxMessage?> RecordDeliveryStatusAsync(DeliveryStatusUpdate update, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        await using var db = factory.CreateDbContext();
        var id = update.OutboxMessageId;
        if (id is null)
        {
            id = await db.Set<OutboxMessage>().AsNoTracking()
                .Where(m => m.Channel == update.Channel && m.ProviderMessageIds == update.ProviderMessageId)
                .Select(m => m.Id).FirstOrDefaultAsync(ct).ConfigureAwait(false);
            if (id is null) return null;
        }

        // One conditional update: the status moves only forward, so reports arriving out of order (or twice) cannot undo a later one.
        var before = DeliveryStatuses.Before(update.Status);
        var failure = DeliveryStatuses.IsFailure(update.Status);
        using (await gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await db.Set<OutboxMessage>()
                .Where(m => m.Id == id && m.Channel == update.Channel && (m.DeliveryStatus == null || before.Contains(m.DeliveryStatus)))
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.DeliveryStatus, update.Status).SetProperty(m => m.DeliveryErrorCode, update.ErrorCode)
                    .SetProperty(m => m.DeliveryUpdatedAt, update.At)
                    .SetProperty(m => m.LastError, m => failure ? update.Error : m.LastError), ct).ConfigureAwait(false);
        }
        return await db.Set<OutboxMessage>().AsNoTracking().FirstOrDefaultAsync(m => m.Id == id && m.Channel == update.Channel, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task AddAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken ct = default)
    {
        using (await gate.EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = factory.CreateDbContext();
            db.AddRange(messages);
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<Page<OutboxMessage>> ListAsync(string? channel, OutboxStatus? status, string? conversationKey, PageArgs page, CancellationToken ct = default)
    {
        await using var db = factory.CreateDbContext();
        var q = db.Set<OutboxMessage>().AsNoTracking();
        if (channel is not null) q = q.Where(m => m.Channel == channel);
        if (status is not null) q = q.Where(m => m.Status == status);
        if (conversationKey is not null) q = q.Where(m => m.ConversationKey == conversationKey);
        var total = await q.LongCountAsync(ct).ConfigureAwait(false);
        var items = await q.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Skip(page.Skip).Take(page.Take).ToListAsync(ct).ConfigureAwait(false);
        return new Page<OutboxMessage>(items, total);
    }
}

/// <summary>Conversations over the inbox and outbox tables, grouped by conversation key (indexes on key + time and channel + time).</summary>
public sealed class EfConversationStore(IDbContextFactory<PlatformDbContext> factory) : IConversationStore
{
    private sealed class Activity
    {
        public string Key { get; init; } = "";
        public string Channel { get; init; } = "";
        public long In { get; init; }
        public long Out { get; init; }
        public DateTimeOffset Last { get; init; }
    }

    /// <inheritdoc />
    public async Task<Page<ConversationSummary>> ListAsync(string? channel, PageArgs page, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(page);
        await using var db = factory.CreateDbContext();
        var inbox = db.Set<InboxMessage>().AsNoTracking();
        var outbox = db.Set<OutboxMessage>().AsNoTracking().Where(m => m.ConversationKey != null);
        if (channel is not null)
        {
            inbox = inbox.Where(m => m.Channel == channel);
            outbox = outbox.Where(m => m.Channel == channel);
        }

        var received = inbox.GroupBy(m => new { m.ConversationKey, m.Channel })
            .Select(g => new Activity { Key = g.Key.ConversationKey, Channel = g.Key.Channel, In = g.LongCount(), Out = 0, Last = g.Max(m => m.ReceivedAt) });
        var sent = outbox.GroupBy(m => new { m.ConversationKey, m.Channel })
            .Select(g => new Activity { Key = g.Key.ConversationKey!, Channel = g.Key.Channel, In = 0, Out = g.LongCount(), Last = g.Max(m => m.CreatedAt) });
        var conversations = received.Concat(sent).GroupBy(a => a.Key)
            .Select(g => new Activity { Key = g.Key, Channel = g.Max(a => a.Channel)!, In = g.Sum(a => a.In), Out = g.Sum(a => a.Out), Last = g.Max(a => a.Last) });

        var total = await conversations.LongCountAsync(ct).ConfigureAwait(false);
        var rows = await conversations.OrderByDescending(a => a.Last).ThenBy(a => a.Key).Skip(page.Skip).Take(page.Take).ToListAsync(ct).ConfigureAwait(false);
        if (rows.Count == 0) return new Page<ConversationSummary>([], total);

        // The newest message of each listed conversation, for its text.
        var keys = rows.Select(r => r.Key).ToList();
        var lastIn = await inbox.Where(m => keys.Contains(m.ConversationKey)).GroupBy(m => m.ConversationKey)
            .Select(g => g.OrderByDescending(m => m.ReceivedAt).ThenByDescending(m => m.Id).First()).ToListAsync(ct).ConfigureAwait(false);
        var lastOut = await outbox.Where(m => keys.Contains(m.ConversationKey!)).GroupBy(m => m.ConversationKey)
            .Select(g => g.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).First()).ToListAsync(ct).ConfigureAwait(false);
        var inByKey = lastIn.ToDictionary(m => m.ConversationKey, StringComparer.Ordinal);
        var outByKey = lastOut.ToDictionary(m => m.ConversationKey!, StringComparer.Ordinal);

        var items = rows.Select(r =>
        {
            inByKey.TryGetValue(r.Key, out var i);
            outByKey.TryGetValue(r.Key, out var o);
            var outbound = o is not null && (i is null || o.CreatedAt >= i.ReceivedAt);
            return new ConversationSummary
            {
                Key = r.Key, Channel = r.Channel, InboundCount = r.In, OutboundCount = r.Out, LastActivityAt = r.Last,
                LastDirection = outbound ? MessageDirection.Out : MessageDirection.In, LastPayload = outbound ? o!.Payload : i?.Payload,
            };
        }).ToList();
        return new Page<ConversationSummary>(items, total);
    }

    /// <inheritdoc />
    public async Task<ConversationMessages?> GetAsync(string conversationKey, int take, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(conversationKey);
        await using var db = factory.CreateDbContext();
        var inbox = db.Set<InboxMessage>().AsNoTracking().Where(m => m.ConversationKey == conversationKey);
        var outbox = db.Set<OutboxMessage>().AsNoTracking().Where(m => m.ConversationKey == conversationKey);
        var inCount = await inbox.LongCountAsync(ct).ConfigureAwait(false);
        var outCount = await outbox.LongCountAsync(ct).ConfigureAwait(false);
        if (inCount == 0 && outCount == 0) return null;
        var inbound = await inbox.OrderByDescending(m => m.ReceivedAt).ThenByDescending(m => m.Id).Take(take).ToListAsync(ct).ConfigureAwait(false);
        var outbound = await outbox.OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(take).ToListAsync(ct).ConfigureAwait(false);
        inbound.Reverse();
        outbound.Reverse();
        var channel = inbound.Count > 0 ? inbound[^1].Channel : outbound[^1].Channel;
        return new ConversationMessages(conversationKey, channel, inbound, outbound, inCount, outCount);
    }
}
