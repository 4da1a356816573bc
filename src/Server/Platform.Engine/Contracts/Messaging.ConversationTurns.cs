using Platform.Engine.Models;

namespace Platform.Engine.Contracts;

// The turns of a conversation, for conversation memory (Platform.Messaging's ConversationMemory).

public partial interface IInboxStore
{
    /// <summary>
    /// The latest <paramref name="limit"/> processed messages of a conversation (<see cref="InboxStatus.Processed"/>: the message
    /// being processed right now is not among them), newest first.
    /// </summary>
    Task<IReadOnlyList<InboxMessage>> GetRecentTurnsAsync(string conversationKey, int limit, CancellationToken ct = default);
}

public partial interface IOutboxStore
{
    /// <summary>
    /// The latest <paramref name="limit"/> messages sent or being sent in a conversation (dead letters, which never reached the
    /// user, are left out), newest first.
    /// </summary>
    Task<IReadOnlyList<OutboxMessage>> GetRecentTurnsAsync(string conversationKey, int limit, CancellationToken ct = default);
}
