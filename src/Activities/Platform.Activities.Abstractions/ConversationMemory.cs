using Microsoft.Extensions.Logging;

namespace Platform.Activities;

/// <summary>Who said a turn of a conversation.</summary>
public enum ConversationRole
{
    /// <summary>The person on the channel (an incoming message).</summary>
    User,

    /// <summary>The platform (a reply or message that a workflow sent).</summary>
    Assistant,
}

/// <summary>One turn of a conversation: an incoming message or a reply.</summary>
/// <param name="Role">Who said it.</param>
/// <param name="Text">The text (plain text for incoming messages, the Markdown the workflow sent for replies).</param>
/// <param name="At">When it was received, or when the reply was queued.</param>
/// <param name="MessageId">The channel's message id of an incoming message (as in the instance property
/// <see cref="ConversationMemory.LastMessageIdProperty"/>), or the outbox id of a reply.</param>
public sealed record ConversationTurn(ConversationRole Role, string Text, DateTimeOffset At, string? MessageId = null);

/// <summary>
/// The recent turns of conversations, for activities that need context, such as a chat model prompt. The host that
/// runs channels registers it; activities get it with <c>context.GetService(typeof(IConversationMemory))</c> and work
/// without it when it is missing.
/// </summary>
public interface IConversationMemory
{
    /// <summary>
    /// The last <paramref name="count"/> turns of a conversation, oldest first: the incoming messages already handled
    /// (the one a workflow is handling right now is not among them) and the replies sent or being sent. Turns without
    /// text (an attachment alone) are left out. Empty for an unknown conversation or <paramref name="count"/> ≤ 0.
    /// </summary>
    /// <param name="conversationKey">The conversation key (<c>channel:chat[:thread]</c>), as in the instance property
    /// <see cref="ConversationMemory.ConversationProperty"/>.</param>
    /// <param name="count">How many turns at most.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    Task<IReadOnlyList<ConversationTurn>> GetRecentTurnsAsync(string conversationKey, int count, CancellationToken cancellationToken = default);
}

/// <summary>Names shared by the messaging activities and the activities that read conversation memory.</summary>
public static class ConversationMemory
{
    /// <summary>The instance property (<see cref="ActivityExecutionContext.Properties"/>) holding the conversation key of a
    /// workflow started or resumed by a message.</summary>
    public const string ConversationProperty = "platform.conversation";

    /// <summary>The instance property holding the channel message id of the latest incoming message.</summary>
    public const string LastMessageIdProperty = "platform.lastMessageId";

    /// <summary>The conversation key of the running workflow, or null when no message started or resumed it.</summary>
    public static string? ConversationKeyOf(ActivityExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ConversationKeyOf(context.Properties);
    }

    /// <summary>The conversation key in instance properties, or null when no message started or resumed the workflow.</summary>
    public static string? ConversationKeyOf(IDictionary<string, object?>? properties) =>
        properties is not null && properties.TryGetValue(ConversationProperty, out var value) && value?.ToString() is { Length: > 0 } key ? key : null;

    /// <summary>The channel message id of the latest incoming message in instance properties, or null.</summary>
    public static string? LastMessageIdOf(IDictionary<string, object?>? properties) =>
        properties is not null && properties.TryGetValue(LastMessageIdProperty, out var value) && value?.ToString() is { Length: > 0 } id ? id : null;

    /// <summary>
    /// The last <paramref name="count"/> earlier turns of a conversation, oldest first, without the incoming message with
    /// the channel message id <paramref name="currentMessageId"/> (the one a workflow is handling now). Empty for
    /// <paramref name="count"/> ≤ 0 or an empty key.
    /// </summary>
    public static async Task<IReadOnlyList<ConversationTurn>> GetHistoryAsync(IConversationMemory memory, string conversationKey, string? currentMessageId, int count, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(memory);
        if (count <= 0 || string.IsNullOrEmpty(conversationKey)) return [];
        // One more than asked: the message being handled is left out when a finished run already counts it as processed.
        var turns = await memory.GetRecentTurnsAsync(conversationKey, count + 1, cancellationToken).ConfigureAwait(false);
        return turns.Where(t => !(t.Role == ConversationRole.User && currentMessageId is not null && t.MessageId == currentMessageId)).TakeLast(count).ToList();
    }

    /// <summary>
    /// <see cref="GetHistoryAsync"/> for templates and expressions, which must not fail because the memory does: a memory
    /// that throws is logged as a warning (naming <paramref name="reader"/>) and the answer is null.
    /// </summary>
    public static async Task<IReadOnlyList<ConversationTurn>?> TryGetHistoryAsync(IConversationMemory memory, string conversationKey, string? currentMessageId, int count,
        ILogger? logger, string reader, CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetHistoryAsync(memory, conversationKey, currentMessageId, count, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is not OutOfMemoryException)
        {
            logger?.LogWarning(e, "{Reader}: the conversation history of {Conversation} could not be read; it is used as empty", reader, conversationKey);
            return null;
        }
    }

    /// <summary>
    /// A turn as a plain value for expressions and templates: <c>{ role: "user" | "assistant", text, at }</c>, <c>at</c>
    /// in ISO 8601 (UTC, round-trip format).
    /// </summary>
    public static Dictionary<string, object?> ToValue(ConversationTurn turn)
    {
        ArgumentNullException.ThrowIfNull(turn);
        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["role"] = turn.Role == ConversationRole.User ? "user" : "assistant",
            ["text"] = turn.Text,
            ["at"] = turn.At.ToUniversalTime().ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        };
    }
}
