namespace Platform.Activities;

/// <summary>
/// A message an activity wants delivered outside the workflow (a chat reply, an e-mail, an SMS). It is stored in the
/// outbox in the same transaction as the workflow state that produced it, and delivered after the commit by the
/// outbox dispatcher, with retries. So a reply is never sent for a run that was not saved, and never lost for one
/// that was.
/// </summary>
/// <param name="Channel">The configured channel name that delivers it.</param>
/// <param name="Payload">The channel-neutral message as JSON (for the built-in channels: an <c>OutgoingEnvelope</c>).</param>
public sealed record OutboxMessageRequest(string Channel, string Payload)
{
    /// <summary>The conversation it belongs to (<c>channel:chat[:thread]</c>), when it answers one.</summary>
    public string? ConversationKey { get; init; }
}
