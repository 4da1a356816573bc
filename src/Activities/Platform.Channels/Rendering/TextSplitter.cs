namespace Platform.Channels.Rendering;

/// <summary>Splits already-rendered text into parts that fit a channel's length limit.</summary>
public static class TextSplitter
{
    /// <summary>
    /// Splits plain text into parts of at most <paramref name="maxLength"/> UTF-16 code units, preferring paragraph,
    /// line, sentence and word boundaries, never inside a grapheme (surrogate pairs and emoji sequences stay whole).
    /// </summary>
    public static IReadOnlyList<string> SplitPlainText(string text, int maxLength) =>
        string.IsNullOrEmpty(text) ? [] : PieceSplitter.Split(PieceSplitter.FromPlainText(text), maxLength);

    /// <summary>
    /// Splits an HTML fragment (Telegram's HTML subset) into parts of at most <paramref name="maxLength"/> UTF-16 code
    /// units. A cut never falls inside a tag or an entity; elements open at a cut are closed at the end of the part and
    /// opened again (with their attributes) at the start of the next.
    /// </summary>
    public static IReadOnlyList<string> SplitHtml(string html, int maxLength) =>
        string.IsNullOrEmpty(html) ? [] : PieceSplitter.Split(PieceSplitter.FromHtml(html), maxLength);
}
