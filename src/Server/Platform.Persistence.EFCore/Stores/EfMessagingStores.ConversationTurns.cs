using Microsoft.EntityFrameworkCore;
using Platform.Engine.Models;

namespace Platform.Persistence.EFCore.Stores;

// The turns of a conversation, for conversation memory. Both queries use the conversation_key index.

public sealed partial class EfInboxStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<InboxMessage>> GetRecentTurnsAsync(string conversationKey, int limit, CancellationToken ct = default)
    {
        if (limit <= 0) return [];
        await using var db = factory.CreateDbContext();
        return await db.Set<InboxMessage>().AsNoTracking()
            .Where(m => m.ConversationKey == conversationKey && m.Status == InboxStatus.Processed)
            .OrderByDescending(m => m.ReceivedAt).ThenByDescending(m => m.Id).Take(limit).ToListAsync(ct).ConfigureAwait(false);
    }
}

public sealed partial class EfOutboxStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<OutboxMessage>> GetRecentTurnsAsync(string conversationKey, int limit, CancellationToken ct = default)
    {
        if (limit <= 0) return [];
        await using var db = factory.CreateDbContext();
        return await db.Set<OutboxMessage>().AsNoTracking()
            .Where(m => m.ConversationKey == conversationKey && m.Status != OutboxStatus.DeadLettered)
            .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id).Take(limit).ToListAsync(ct).ConfigureAwait(false);
    }
}
