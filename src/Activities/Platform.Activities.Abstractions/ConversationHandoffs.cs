namespace Platform.Activities;

/// <summary>
/// A conversation handed to people by the <c>Hand Off To Human</c> activity: while it exists the bot does not answer the
/// conversation (its incoming messages are stored and shown to agents) and agents reply from the Studio's Conversations page.
/// </summary>
public sealed record ConversationHandoff
{
    /// <summary>The conversation key (<c>kind:channel:chat[:thread]</c>).</summary>
    public required string ConversationKey { get; init; }

    /// <summary>The channel name the conversation is on (agent replies go out on it).</summary>
    public required string Channel { get; init; }

    /// <summary>The workflow instance that waits for the agents (resumed by <c>Return to bot</c> or its timeout).</summary>
    public required string WorkflowInstanceId { get; init; }

    /// <summary>Why the bot handed it off (shown to agents), or null.</summary>
    public string? Reason { get; init; }

    /// <summary>The queue (team) it waits in, or null for the default queue.</summary>
    public string? Queue { get; init; }

    /// <summary>When it was handed off (the waiting time counts from here).</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the hand-off times out if nobody returns it to the bot, or null for no limit.</summary>
    public DateTimeOffset? TimeoutAt { get; init; }

    /// <summary>The user name of the agent it is assigned to, or null while nobody has taken it.</summary>
    public string? AssignedTo { get; init; }

    /// <summary>When it was assigned.</summary>
    public DateTimeOffset? AssignedAt { get; init; }
}

/// <summary>
/// The conversations handed to people (the <c>conversation_handoffs</c> table on the platform database). The messaging activities
/// write it; the inbox reads it before it routes a message; the Conversations API lists and assigns.
/// </summary>
public interface IConversationHandoffs
{
    /// <summary>Marks the conversation as handled by people (replacing an earlier hand-off of the same conversation).</summary>
    Task StartAsync(ConversationHandoff handoff, CancellationToken cancellationToken = default);

    /// <summary>The hand-off of a conversation, or null when the bot handles it.</summary>
    Task<ConversationHandoff?> FindAsync(string conversationKey, CancellationToken cancellationToken = default);

    /// <summary>Every waiting conversation, longest waiting first.</summary>
    Task<IReadOnlyList<ConversationHandoff>> ListAsync(CancellationToken cancellationToken = default);

    /// <summary>Assigns the conversation to <paramref name="userName"/> (null: unassigns). False when it is not handed off.</summary>
    Task<bool> AssignAsync(string conversationKey, string? userName, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Gives the conversation back to the bot, if the hand-off is still the one of <paramref name="workflowInstanceId"/>.
    /// False when there was none.</summary>
    Task<bool> EndAsync(string conversationKey, string workflowInstanceId, CancellationToken cancellationToken = default);
}
