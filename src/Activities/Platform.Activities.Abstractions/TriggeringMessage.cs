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

    /// <summary>The instance property the messaging activities keep the conversation's language in (<c>zh</c> or <c>en</c>).</summary>
    public const string LanguageProperty = "platform.language";

    /// <summary>
    /// The language replies should use: <c>zh</c> or <c>en</c> as the messaging activities detected it from the newest message
    /// (or took it from the message's <c>language</c> metadata), detected from the incoming text otherwise; <c>en</c> when
    /// there is no message.
    /// </summary>
    public static string GetIncomingMessageLanguage(this ActivityExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Properties.TryGetValue(LanguageProperty, out var kept) && kept is string language && language.Length > 0) return language;
        return DetectLanguage(context.GetIncomingMessageText()) ?? "en";
    }

    /// <summary>
    /// <c>zh</c> when Chinese characters carry the text (at least one, and at least one for every four Latin letters:
    /// "关掉卧室的灯", "turn on 卧室的灯"), <c>en</c> when it has letters otherwise, null when it has no letters at all
    /// ("1", "👍": keep the conversation's language).
    /// </summary>
    public static string? DetectLanguage(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        int cjk = 0, latin = 0;
        foreach (var c in text)
        {
            if (c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF') cjk++;
            else if (char.IsLetter(c)) latin++;
        }
        if (cjk > 0 && cjk * 4 >= latin) return "zh";
        return latin > 0 ? "en" : null;
    }

    /// <summary><paramref name="text"/> when it has content, else <see cref="GetIncomingMessageText"/> (or an empty string).</summary>
    public static string TextOrIncomingMessage(this ActivityExecutionContext context, string? text) =>
        string.IsNullOrWhiteSpace(text) ? context.GetIncomingMessageText() ?? "" : text;
}
