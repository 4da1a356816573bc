using System.Text;
using System.Text.RegularExpressions;

namespace Platform.Knowledge;

/// <summary>A piece of a document: the headings above it and its text.</summary>
public sealed record TextChunk(string? Title, string Text);

/// <summary>
/// Splits text into chunks of about <c>size</c> characters at paragraph, then sentence, then word boundaries; consecutive
/// chunks of one section share <c>overlap</c> characters. Markdown headings (<c># …</c>) start a new section and are kept as
/// the chunk's title path ("Guide › Install › Linux"), so a chunk keeps its context.
/// </summary>
public static class Chunker
{
    private static readonly Regex HeadingLine = new(@"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    /// <summary>The separator of the heading path.</summary>
    public const string TitleSeparator = " › ";

    /// <summary>Splits a document.</summary>
    public static List<TextChunk> Split(string text, int size = 800, int overlap = 120)
    {
        ArgumentNullException.ThrowIfNull(text);
        size = Math.Max(100, size);
        overlap = Math.Clamp(overlap, 0, size / 2);
        var chunks = new List<TextChunk>();
        var headings = new string?[6];
        var section = new StringBuilder();
        var inFence = false;
        void Flush()
        {
            var title = string.Join(TitleSeparator, headings.Where(h => h is not null));
            foreach (var piece in SplitSection(section.ToString(), size, overlap)) chunks.Add(new TextChunk(title.Length == 0 ? null : title, piece));
            section.Clear();
        }
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd();
            if (line.TrimStart().StartsWith("```", StringComparison.Ordinal)) inFence = !inFence;
            var m = inFence ? Match.Empty : HeadingLine.Match(line);
            if (m.Success)
            {
                Flush();
                var level = m.Groups[1].Length;
                headings[level - 1] = m.Groups[2].Value.Trim();
                for (var i = level; i < headings.Length; i++) headings[i] = null;
                continue;
            }
            section.Append(line).Append('\n');
        }
        Flush();
        return chunks;
    }

    private static IEnumerable<string> SplitSection(string section, int size, int overlap)
    {
        var paragraphs = Regex.Split(section, @"\n\s*\n", RegexOptions.None, TimeSpan.FromSeconds(1))
            .Select(p => p.Trim()).Where(p => p.Length > 0).ToList();
        var current = new StringBuilder();
        foreach (var p in paragraphs)
        {
            if (current.Length > 0 && current.Length + 2 + p.Length > size)
            {
                var done = current.ToString();
                yield return done;
                current.Clear();
                var tail = Tail(done, overlap);
                if (tail.Length > 0) current.Append(tail).Append("\n\n");
            }
            if (p.Length <= size - current.Length)
            {
                if (current.Length > 0 && !current.ToString().EndsWith("\n\n", StringComparison.Ordinal)) current.Append("\n\n");
                current.Append(p);
                continue;
            }
            // A long paragraph: windows at sentence or word boundaries, each overlapping the previous one.
            var start = 0;
            var room = Math.Max(size / 2, size - current.Length);
            while (start < p.Length)
            {
                var end = Math.Min(p.Length, start + room);
                if (end < p.Length) end = Boundary(p, start, end);
                current.Append(p, start, end - start);
                if (end >= p.Length) break;
                var done = current.ToString();
                yield return done;
                current.Clear();
                var next = Math.Max(start + 1, end - overlap);
                next = WordStart(p, next, end);
                start = next;
                room = size;
            }
        }
        if (current.Length > 0 && current.ToString().Trim().Length > 0) yield return current.ToString().Trim();
    }

    /// <summary>The best end in (start, end]: after a sentence end, else at a space; else end (CJK text has no spaces).</summary>
    private static int Boundary(string s, int start, int end)
    {
        var min = start + (end - start) / 2;
        for (var i = end - 1; i > min; i--)
            if (s[i] is '.' or '!' or '?' or '。' or '！' or '？' or '；' or ';' && (i + 1 >= s.Length || char.IsWhiteSpace(s[i + 1]) || s[i] > 0x3000)) return i + 1;
        for (var i = end - 1; i > min; i--)
            if (char.IsWhiteSpace(s[i])) return i;
        return end;
    }

    private static int WordStart(string s, int from, int limit)
    {
        for (var i = from; i < limit; i++)
            if (char.IsWhiteSpace(s[i - 1 < 0 ? 0 : i - 1])) return i;
        return from;
    }

    private static string Tail(string text, int overlap)
    {
        if (overlap <= 0 || text.Length <= overlap) return overlap <= 0 ? "" : text;
        var from = text.Length - overlap;
        var space = text.IndexOf(' ', from);
        if (space > 0 && space < text.Length - 1) from = space + 1;
        return text[from..].Trim();
    }
}
