using Platform.Intents.Entities;

namespace Platform.Intents.Text;

/// <summary>
/// A spelling pass against a vocabulary (the words of an intent set's examples and entity values): a Latin word the
/// vocabulary does not know is replaced by the nearest word it knows, when one is close enough ("trun on teh bedroom
/// lihgt" → "turn on the bedroom light"). Close enough: for 3-letter words only two swapped letters, for 4–7 letters one
/// edit (a letter inserted, deleted, changed, or two neighbours swapped), from 8 letters two; ties go to the more frequent
/// word. Words with digits next to them, words of 1–2 letters and CJK text are left alone. Thread-safe once built.
/// </summary>
public sealed class SpellingCorrector
{
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly List<string> _words;

    /// <summary>Builds the vocabulary from texts (examples, entity values and synonyms).</summary>
    public SpellingCorrector(IEnumerable<string?> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        foreach (var text in texts)
        {
            if (string.IsNullOrEmpty(text)) continue;
            foreach (var (start, length) in Words(text))
            {
                if (length < 2) continue;
                var w = text.Substring(start, length).ToLowerInvariant();
                _counts[w] = _counts.GetValueOrDefault(w) + 1;
            }
        }
        _words = _counts.Keys.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>How many distinct words the vocabulary has.</summary>
    public int VocabularySize => _words.Count;

    /// <summary>True when the vocabulary has <paramref name="word"/> (any case).</summary>
    public bool Knows(string word) => _counts.ContainsKey(word.ToLowerInvariant());

    /// <summary>Corrects the unknown words of <paramref name="text"/>; the result maps positions back to the original.</summary>
    public SpellingCorrection Correct(string text)
    {
        if (string.IsNullOrEmpty(text) || _words.Count == 0) return new SpellingCorrection(text ?? "", text ?? "", []);
        List<SpellingEdit>? edits = null;
        var sb = new System.Text.StringBuilder(text.Length);
        var copied = 0;
        foreach (var (start, length) in Words(text))
        {
            if (length < 3 || length > 30) continue;
            if ((start > 0 && char.IsDigit(text[start - 1])) || (start + length < text.Length && char.IsDigit(text[start + length]))) continue;
            var word = text.Substring(start, length);
            var lower = word.ToLowerInvariant();
            if (_counts.ContainsKey(lower)) continue;
            if (Nearest(lower) is not { } fix) continue;
            if (char.IsUpper(word[0])) fix = char.ToUpperInvariant(fix[0]) + fix[1..];
            sb.Append(text, copied, start - copied);
            edits ??= [];
            edits.Add(new SpellingEdit(start, length, sb.Length, fix.Length, word, fix));
            sb.Append(fix);
            copied = start + length;
        }
        if (edits is null) return new SpellingCorrection(text, text, []);
        sb.Append(text, copied, text.Length - copied);
        return new SpellingCorrection(text, sb.ToString(), edits);
    }

    private string? Nearest(string word)
    {
        var max = word.Length switch { < 4 => 1, < 8 => 1, _ => 2 };
        string? best = null;
        int bestDistance = int.MaxValue, bestCount = 0;
        foreach (var candidate in _words)
        {
            if (Math.Abs(candidate.Length - word.Length) > max || candidate.Length < 3) continue;
            var d = Distance(word, candidate, max);
            if (d > max) continue;
            if (word.Length < 4 && !IsSwap(word, candidate)) continue;
            var count = _counts[candidate];
            if (d < bestDistance || (d == bestDistance && count > bestCount))
            {
                best = candidate;
                bestDistance = d;
                bestCount = count;
            }
        }
        return best;
    }

    private static bool IsSwap(string a, string b)
    {
        if (a.Length != b.Length) return false;
        var i = 0;
        while (i < a.Length && a[i] == b[i]) i++;
        return i + 1 < a.Length && a[i] == b[i + 1] && a[i + 1] == b[i] && a.AsSpan(i + 2).SequenceEqual(b.AsSpan(i + 2));
    }

    /// <summary>The optimal-string-alignment distance (insert, delete, change, swap neighbours), or more than
    /// <paramref name="max"/> as soon as it is certain.</summary>
    internal static int Distance(string a, string b, int max)
    {
        var n = a.Length;
        var m = b.Length;
        if (Math.Abs(n - m) > max) return max + 1;
        var d = new int[n + 1, m + 1];
        for (var i = 0; i <= n; i++) d[i, 0] = i;
        for (var j = 0; j <= m; j++) d[0, j] = j;
        for (var i = 1; i <= n; i++)
        {
            var rowMin = int.MaxValue;
            for (var j = 1; j <= m; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                var v = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) v = Math.Min(v, d[i - 2, j - 2] + 1);
                d[i, j] = v;
                rowMin = Math.Min(rowMin, v);
            }
            if (rowMin > max) return max + 1;
        }
        return d[n, m];
    }

    /// <summary>The runs of Latin letters (and apostrophes inside them) of a text, as (start, length).</summary>
    private static IEnumerable<(int Start, int Length)> Words(string text)
    {
        var i = 0;
        while (i < text.Length)
        {
            if (!IsWordChar(text[i])) { i++; continue; }
            var start = i;
            while (i < text.Length && (IsWordChar(text[i]) || (text[i] == '\'' && i + 1 < text.Length && IsWordChar(text[i + 1])))) i++;
            yield return (start, i - start);
        }
    }

    private static bool IsWordChar(char c) => char.IsLetter(c) && !TextFeatures.IsCjk(c);
}

/// <summary>A word the spelling pass replaced.</summary>
/// <param name="OriginalStart">Where the word starts in the original text.</param>
/// <param name="OriginalLength">Its length there.</param>
/// <param name="Start">Where the replacement starts in the corrected text.</param>
/// <param name="Length">The replacement's length.</param>
/// <param name="From">The word as written.</param>
/// <param name="To">The word it was read as.</param>
public sealed record SpellingEdit(int OriginalStart, int OriginalLength, int Start, int Length, string From, string To);

/// <summary>The result of <see cref="SpellingCorrector.Correct"/>: the corrected text, and the edits to map positions back.</summary>
/// <param name="Original">The text as written.</param>
/// <param name="Text">The corrected text (the original when nothing was corrected).</param>
/// <param name="Edits">The replaced words, in text order.</param>
public sealed record SpellingCorrection(string Original, string Text, IReadOnlyList<SpellingEdit> Edits)
{
    /// <summary>True when a word was replaced.</summary>
    public bool Changed => Edits.Count > 0;

    /// <summary>The span in the original text of a span of the corrected text (a replaced word maps to the word as written).</summary>
    public (int Start, int Length) ToOriginal(int start, int length)
    {
        var s = MapStart(start);
        var e = Math.Max(s, MapEnd(start + length));
        return (s, e - s);
    }

    /// <summary>Entity matches found in the corrected text, with their spans and texts in the original.</summary>
    public IReadOnlyList<EntityMatch> MapBack(IReadOnlyList<EntityMatch> matches)
    {
        ArgumentNullException.ThrowIfNull(matches);
        if (!Changed) return matches;
        return matches.Select(m =>
        {
            var (s, l) = ToOriginal(m.Start, m.Length);
            return m with { Start = s, Length = l, Text = Original.Substring(s, l) };
        }).ToList();
    }

    private int MapStart(int p)
    {
        var delta = 0;
        foreach (var e in Edits)
        {
            if (p < e.Start) break;
            if (p < e.Start + e.Length) return e.OriginalStart;
            delta = e.OriginalStart + e.OriginalLength - (e.Start + e.Length);
        }
        return Math.Clamp(p + delta, 0, Original.Length);
    }

    private int MapEnd(int p)
    {
        var delta = 0;
        foreach (var e in Edits)
        {
            if (p <= e.Start) break;
            if (p <= e.Start + e.Length) return e.OriginalStart + e.OriginalLength;
            delta = e.OriginalStart + e.OriginalLength - (e.Start + e.Length);
        }
        return Math.Clamp(p + delta, 0, Original.Length);
    }
}
