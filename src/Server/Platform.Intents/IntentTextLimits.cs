namespace Platform.Intents;

/// <summary>How much of a text intent recognition looks at.</summary>
public static class IntentTextLimits
{
    /// <summary>
    /// The longest prefix of a text that is classified and searched for entities (16,384 characters). Nobody types more
    /// in one message; the channels cap message texts well below this (<c>Platform:Messaging:MaxMessageLength</c>), and
    /// the cut keeps a text from elsewhere (a variable, an e-mail body) from keeping a core busy.
    /// </summary>
    public const int MaxRecognizedLength = 16_384;

    /// <summary>The text cut to <see cref="MaxRecognizedLength"/>.</summary>
    public static string Bound(string text) =>
        text.Length > MaxRecognizedLength ? text[..MaxRecognizedLength] : text;
}
