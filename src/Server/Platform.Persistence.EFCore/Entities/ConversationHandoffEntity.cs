namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>conversation_handoffs</c>: a conversation handled by people (Hand Off To Human) until it is returned to the bot.</summary>
public sealed class ConversationHandoffEntity
{
    public required string ConversationKey { get; set; }
    public required string Channel { get; set; }
    public required string WorkflowInstanceId { get; set; }
    public string? Reason { get; set; }
    public string? Queue { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? TimeoutAt { get; set; }
    public string? AssignedTo { get; set; }
    public DateTimeOffset? AssignedAt { get; set; }
}
