using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Engine.Stores;

public sealed partial class InMemoryStore
{
    Task<IReadOnlyList<InboxMessage>> IInboxStore.GetRecentTurnsAsync(string conversationKey, int limit, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<InboxMessage>>(_inbox.Values
                .Where(m => m.ConversationKey == conversationKey && m.Status == InboxStatus.Processed)
                .OrderByDescending(m => m.ReceivedAt).ThenByDescending(m => m.Id, StringComparer.Ordinal)
                .Take(Math.Max(0, limit)).Select(Copy).ToList());
    }

    Task<IReadOnlyList<OutboxMessage>> IOutboxStore.GetRecentTurnsAsync(string conversationKey, int limit, CancellationToken ct)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<OutboxMessage>>(_outbox.Values
                .Where(m => m.ConversationKey == conversationKey && m.Status != OutboxStatus.DeadLettered)
                .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Id, StringComparer.Ordinal)
                .Take(Math.Max(0, limit)).Select(Copy).ToList());
    }
}
