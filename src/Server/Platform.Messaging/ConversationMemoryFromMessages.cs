using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Activities;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Messaging;

/// <summary>
/// Conversation memory read from the durable inbox (user turns: the <see cref="IncomingMessage"/> JSON of processed
/// messages) and outbox (assistant turns: the <see cref="OutgoingEnvelope"/> JSON of replies not dead-lettered). Nothing
/// is stored twice: the memory is exactly what the platform received and answered.
/// </summary>
public sealed class ConversationMemoryFromMessages(IInboxStore inbox, IOutboxStore outbox, ILogger<ConversationMemoryFromMessages>? logger = null)
    : IConversationMemory
{
    private readonly ILogger _logger = (ILogger?)logger ?? NullLogger.Instance;

    /// <inheritdoc />
    public async Task<IReadOnlyList<ConversationTurn>> GetRecentTurnsAsync(string conversationKey, int count, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(conversationKey) || count <= 0) return [];
        var received = await inbox.GetRecentTurnsAsync(conversationKey, count, cancellationToken).ConfigureAwait(false);
        var sent = await outbox.GetRecentTurnsAsync(conversationKey, count, cancellationToken).ConfigureAwait(false);
        var turns = new List<(ConversationTurn Turn, int Order)>(received.Count + sent.Count);
        foreach (var m in received)
            if (UserTurn(m) is { } turn) turns.Add((turn, 0));
        foreach (var m in sent)
            if (AssistantTurn(m) is { } turn) turns.Add((turn, 1));
        // Oldest first; at the same instant the question comes before its answer.
        return turns.OrderBy(t => t.Turn.At).ThenBy(t => t.Order).Select(t => t.Turn).TakeLast(count).ToList();
    }

    private ConversationTurn? UserTurn(InboxMessage row)
    {
        try
        {
            var message = MessageJson.Deserialize(row.Payload);
            return string.IsNullOrWhiteSpace(message.Text) ? null
                : new ConversationTurn(ConversationRole.User, message.Text, row.ReceivedAt, message.ChannelMessageId);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            _logger.LogDebug(e, "Inbox message {Id} is not an incoming message; left out of the conversation memory", row.Id);
            return null;
        }
    }

    private ConversationTurn? AssistantTurn(OutboxMessage row)
    {
        try
        {
            var envelope = OutgoingEnvelope.FromJson(row.Payload);
            return string.IsNullOrWhiteSpace(envelope.Text) ? null : new ConversationTurn(ConversationRole.Assistant, envelope.Text, row.CreatedAt, row.Id);
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException)
        {
            _logger.LogDebug(e, "Outbox message {Id} is not an envelope; left out of the conversation memory", row.Id);
            return null;
        }
    }
}
