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
            await db.Set<OutboxMessage>().Where(m => m.Id == message.Id)
                .ExecuteUpdateAsync(u => u.SetProperty(m => m.Status, message.Status).SetProperty(m => m.Attempts, message.Attempts)
                    .SetProperty(m => m.PartsDelivered, message.PartsDelivered).SetProperty(m => m.NextAttemptAt, message.NextAttemptAt)
                    .SetProperty(m => m.SentAt, message.SentAt).SetProperty(m => m.LastError, message.LastError), ct).ConfigureAwait(false);
        }
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
