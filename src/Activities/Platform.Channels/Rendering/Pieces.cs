using System.Globalization;
using System.Net;
using System.Text;

namespace Platform.Channels.Rendering;

/// <summary>What a piece of rendered output is.</summary>
internal enum PieceKind
{
    /// <summary>One grapheme (or one entity / escape sequence): never split.</summary>
    Text,

    /// <summary>An opening tag or marker; <see cref="Piece.Close"/> is what closes it.</summary>
    Open,

    /// <summary>The closing tag or marker of the innermost open piece.</summary>
    Close,

    /// <summary>A structural line or paragraph break (with any quote prefix of the next line).</summary>
    Break,
}

/// <summary>How good a place is for cutting a long text into parts.</summary>
internal enum CutQuality
{
    None,
    Character,
    Word,
    Sentence,
    Line,
    Paragraph,
}

/// <summary>One atomic unit of rendered output.</summary>
/// <param name="Kind">The kind.</param>
/// <param name="Value">The serialized output.</param>
/// <param name="Visible">For text, what the reader sees (for finding word and sentence boundaries).</param>
/// <param name="Close">For <see cref="PieceKind.Open"/>, the serialized close.</param>
/// <param name="Name">For tags, the tag name.</param>
/// <param name="Quality">For <see cref="PieceKind.Break"/>, how good a cut it makes.</param>
internal readonly record struct Piece(PieceKind Kind, string Value, string Visible = "", string Close = "", string Name = "",
    CutQuality Quality = CutQuality.None)
{
    public bool IsWhitespaceText => Kind == PieceKind.Text && Visible.Length > 0 && string.IsNullOrWhiteSpace(Visible);

    public bool IsBlank => Kind == PieceKind.Break || IsWhitespaceText;

    public static Piece Text(string serialized, string visible) => new(PieceKind.Text, serialized, visible);
}

/// <summary>The open elements at a point of the output: a persistent stack, so each position can keep its own.</summary>
internal sealed class OpenStack
{
    private OpenStack(Piece open, OpenStack? parent)
    {
        Open = open;
        Parent = parent;
        OpenLength = (parent?.OpenLength ?? 0) + open.Value.Length;
        CloseLength = (parent?.CloseLength ?? 0) + open.Close.Length;
    }

    public Piece Open { get; }

    public OpenStack? Parent { get; }

    /// <summary>Length of all opens, bottom to top.</summary>
    public int OpenLength { get; }

    /// <summary>Length of all closes, top to bottom.</summary>
    public int CloseLength { get; }

    public static OpenStack Push(OpenStack? stack, Piece open) => new(open, stack);

    public static void AppendOpens(StringBuilder builder, OpenStack? stack)
    {
        if (stack is null)
        {
            return;
        }

        AppendOpens(builder, stack.Parent);
        builder.Append(stack.Open.Value);
    }

    public static void AppendCloses(StringBuilder builder, OpenStack? stack)
    {
        for (var node = stack; node is not null; node = node.Parent)
        {
            builder.Append(node.Open.Close);
        }
    }
}

/// <summary>Cuts a sequence of pieces into parts of at most a maximum serialized length. Every part closes the
/// elements open at its end and the next part opens them again, so each part is well-formed on its own; a cut never
/// falls inside a tag, an entity, an escape sequence, a surrogate pair or a grapheme cluster.</summary>
internal static class PieceSplitter
{
    public static string Serialize(IReadOnlyList<Piece> pieces)
    {
        var builder = new StringBuilder();
        foreach (var piece in pieces)
        {
            builder.Append(piece.Value);
        }

        return builder.ToString();
    }

    public static IReadOnlyList<string> Split(IReadOnlyList<Piece> pieces, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 16);
        var n = pieces.Count;
        var prefix = new int[n + 1];
        var stacks = new OpenStack?[n + 1];
        OpenStack? stack = null;
        for (var i = 0; i < n; i++)
        {
            prefix[i + 1] = prefix[i] + pieces[i].Value.Length;
            stacks[i] = stack;
            stack = pieces[i].Kind switch
            {
                PieceKind.Open => OpenStack.Push(stack, pieces[i]),
                PieceKind.Close => stack?.Parent,
                _ => stack,
            };
        }

        stacks[n] = stack;
        int Length(int start, int end) =>
            (stacks[start]?.OpenLength ?? 0) + prefix[end] - prefix[start] + (stacks[end]?.CloseLength ?? 0);

        var parts = new List<string>();
        var s = 0;
        while (s < n)
        {
            if (Length(s, n) <= maxLength)
            {
                Emit(parts, pieces, stacks, s, n, trimEnd: false);
                break;
            }

            int bestLate = -1, lastFit = -1, oversized = -1;
            var bestLateQuality = CutQuality.None;
            for (var c = s + 1; c < n; c++)
            {
                var quality = Quality(pieces, c);
                if (quality == CutQuality.None)
                {
                    continue;
                }

                var length = Length(s, c);
                if (length > maxLength)
                {
                    if (lastFit < 0)
                    {
                        oversized = c; // nothing fits: take the first possible cut, oversized
                    }

                    break;
                }

                lastFit = c;
                // The best boundary in the second half of the part wins; ties go to the later one.
                if (length * 2 >= maxLength && quality >= bestLateQuality)
                {
                    bestLate = c;
                    bestLateQuality = quality;
                }
            }

            var cut = bestLate > 0 ? bestLate : lastFit > 0 ? lastFit : oversized > 0 ? oversized : n;
            Emit(parts, pieces, stacks, s, cut, trimEnd: true);
            s = cut;
            while (s < n && pieces[s].IsBlank)
            {
                s++;
            }
        }

        return parts;
    }

    private static void Emit(List<string> parts, IReadOnlyList<Piece> pieces, OpenStack?[] stacks, int start, int end, bool trimEnd)
    {
        var last = end;
        if (trimEnd)
        {
            while (last > start && pieces[last - 1].IsBlank)
            {
                last--;
            }
        }

        var visible = false;
        for (var i = start; i < last && !visible; i++)
        {
            visible = pieces[i].Kind == PieceKind.Text && !pieces[i].IsWhitespaceText;
        }

        if (!visible)
        {
            return;
        }

        var builder = new StringBuilder();
        OpenStack.AppendOpens(builder, stacks[start]);
        for (var i = start; i < last; i++)
        {
            builder.Append(pieces[i].Value);
        }

        OpenStack.AppendCloses(builder, stacks[end]);
        parts.Add(builder.ToString());
    }

    private static CutQuality Quality(IReadOnlyList<Piece> pieces, int cut)
    {
        var previous = pieces[cut - 1];
        var next = pieces[cut];
        if (previous.Kind == PieceKind.Open || next.Kind == PieceKind.Close)
        {
            return CutQuality.None;
        }

        if (previous.Kind == PieceKind.Break)
        {
            return previous.Quality;
        }

        if (previous.Kind == PieceKind.Text && IsNewline(previous.Visible))
        {
            return IsNewline(VisibleBefore(pieces, cut - 1)) ? CutQuality.Paragraph : CutQuality.Line;
        }

        if (previous.IsWhitespaceText)
        {
            var before = VisibleBefore(pieces, cut - 1);
            return before is [.., '.' or '!' or '?' or '…' or '。' or '！' or '？'] ? CutQuality.Sentence : CutQuality.Word;
        }

        return CutQuality.Character;
    }

    private static bool IsNewline(string? visible) => visible is "\n" or "\r\n" or "\r";

    private static string? VisibleBefore(IReadOnlyList<Piece> pieces, int index)
    {
        for (var i = index - 1; i >= 0; i--)
        {
            switch (pieces[i].Kind)
            {
                case PieceKind.Text:
                    return pieces[i].Visible;
                case PieceKind.Break:
                    return "\n";
            }
        }

        return null;
    }

    /// <summary>Plain text as pieces: one per grapheme cluster.</summary>
    public static List<Piece> FromPlainText(string text)
    {
        var pieces = new List<Piece>(text.Length);
        AddGraphemes(pieces, text, static g => g);
        return pieces;
    }

    /// <summary>Adds one text piece per grapheme cluster of <paramref name="raw"/>, serialized by <paramref name="escape"/>.</summary>
    public static void AddGraphemes(List<Piece> pieces, string raw, Func<string, string> escape)
    {
        var enumerator = StringInfo.GetTextElementEnumerator(raw);
        while (enumerator.MoveNext())
        {
            var grapheme = enumerator.GetTextElement();
            pieces.Add(Piece.Text(escape(grapheme), grapheme));
        }
    }

    /// <summary>HTML (Telegram's subset or any well-formed fragment) as pieces: tags, entities and graphemes.</summary>
    public static List<Piece> FromHtml(string html)
    {
        var pieces = new List<Piece>(html.Length);
        var openNames = new Stack<string>();
        var i = 0;
        var text = new StringBuilder();
        void FlushText()
        {
            if (text.Length > 0)
            {
                AddGraphemes(pieces, text.ToString(), static g => g);
                text.Clear();
            }
        }

        while (i < html.Length)
        {
            var c = html[i];
            if (c == '<' && TagEnd(html, i) is var end && end > i)
            {
                FlushText();
                var tag = html[i..(end + 1)];
                var closing = tag.StartsWith("</", StringComparison.Ordinal);
                var name = TagName(tag, closing);
                if (closing)
                {
                    if (openNames.Count > 0 && openNames.Peek() == name)
                    {
                        openNames.Pop();
                        pieces.Add(new Piece(PieceKind.Close, tag, Name: name));
                    }
                    else
                    {
                        pieces.Add(Piece.Text(tag, ""));
                    }
                }
                else if (tag.EndsWith("/>", StringComparison.Ordinal) || IsVoid(name))
                {
                    pieces.Add(Piece.Text(tag, name == "br" ? "\n" : ""));
                }
                else
                {
                    openNames.Push(name);
                    pieces.Add(new Piece(PieceKind.Open, tag, Close: $"</{name}>", Name: name));
                }

                i = end + 1;
            }
            else if (c == '&' && EntityEnd(html, i) is var semicolon && semicolon > i)
            {
                FlushText();
                var entity = html[i..(semicolon + 1)];
                pieces.Add(Piece.Text(entity, WebUtility.HtmlDecode(entity)));
                i = semicolon + 1;
            }
            else
            {
                text.Append(c);
                i++;
            }
        }

        FlushText();
        return pieces;
    }

    private static int TagEnd(string html, int start)
    {
        if (start + 1 >= html.Length || !(char.IsAsciiLetter(html[start + 1]) || html[start + 1] == '/'))
        {
            return -1;
        }

        var quote = '\0';
        for (var i = start + 1; i < html.Length; i++)
        {
            var c = html[i];
            if (quote != '\0')
            {
                if (c == quote)
                {
                    quote = '\0';
                }
            }
            else if (c is '"' or '\'')
            {
                quote = c;
            }
            else if (c == '>')
            {
                return i;
            }
            else if (c == '<')
            {
                return -1;
            }
        }

        return -1;
    }

    private static int EntityEnd(string html, int start)
    {
        for (var i = start + 1; i < html.Length && i - start <= 32; i++)
        {
            var c = html[i];
            if (c == ';')
            {
                return i > start + 1 ? i : -1;
            }

            if (!char.IsAsciiLetterOrDigit(c) && c != '#')
            {
                return -1;
            }
        }

        return -1;
    }

    private static string TagName(string tag, bool closing)
    {
        var start = closing ? 2 : 1;
        var end = start;
        while (end < tag.Length && (char.IsAsciiLetterOrDigit(tag[end]) || tag[end] == '-'))
        {
            end++;
        }

        return tag[start..end].ToLowerInvariant();
    }

    private static bool IsVoid(string name) => name is "br" or "hr" or "img" or "meta" or "link" or "input" or "wbr";
}
