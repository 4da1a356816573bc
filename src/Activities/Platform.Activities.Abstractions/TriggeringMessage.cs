namespace Platform.Activities;

/// <summary>
/// The message a workflow is answering: the one that started it (Message Received) or, after Wait For Message, the newest
/// one of its conversation. Activities that work on text (Recognize Intent, Extract Entities, Ask Model) use it when their
/// Text input is empty, so message → Recognize Intent → Send Reply works without binding variables.
/// </summary>
public static class TriggeringMessage
{
    /// <summary>The instance property the messaging activities keep the newest message text in.</summary>
    public const string TextProperty = "platform.lastMessageText";

    /// <summary>
    /// The newest message's text, or null when the workflow was not started by a message (e.g. an HTTP or timer workflow).
    /// </summary>
    public static string? GetIncomingMessageText(this ActivityExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Properties.TryGetValue(TextProperty, out var kept) && kept is string text) return text;
        return context.WorkflowInput.GetValueOrDefault("message") is IDictionary<string, object?> message
            && message.TryGetValue("text", out var t) && t is not null ? t.ToString() : null;
    }

    /// <summary><paramref name="text"/> when it has content, else <see cref="GetIncomingMessageText"/> (or an empty string).</summary>
    public static string TextOrIncomingMessage(this ActivityExecutionContext context, string? text) =>
        string.IsNullOrWhiteSpace(text) ? context.GetIncomingMessageText() ?? "" : text;
}
