using System.Globalization;
using System.Text;

namespace Platform.Knowledge;

/// <summary>
/// Keyword terms for the BM25 score: lower-cased letter/digit words (a trailing plural "s" dropped, common English stop
/// words left out), and for Chinese, Japanese and Korean characters each character and each pair of neighbours (bigrams),
/// since those scripts do not separate words with spaces.
/// </summary>
public static class Terms
{
    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "how", "i", "if", "in", "into", "is",
        "it", "its", "me", "my", "of", "on", "or", "our", "so", "that", "the", "their", "then", "there", "these", "this", "to", "was",
        "we", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your",
    };

    /// <summary>True for a CJK ideograph, kana or hangul character.</summary>
    public static bool IsCjk(char c) =>
        c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\u3040' and <= '\u30FF' or >= '\uAC00' and <= '\uD7AF' or >= '\uF900' and <= '\uFAFF';

    /// <summary>The terms of a text, in order (repeats kept: the caller counts them).</summary>
    public static List<string> Of(string text)
    {
        var terms = new List<string>();
        if (string.IsNullOrEmpty(text)) return terms;
        var word = new StringBuilder();
        var previousCjk = '\0';
        void EndWord()
        {
            if (word.Length == 0) return;
            var w = word.ToString();
            word.Clear();
            if (StopWords.Contains(w)) return;
            if (w.Length > 3 && w[^1] == 's' && w[^2] != 's' && !char.IsDigit(w[^2])) w = w[..^1];
            terms.Add(w);
        }
        foreach (var raw in text)
        {
            var c = raw;
            if (IsCjk(c))
            {
                EndWord();
                terms.Add(c.ToString());
                if (previousCjk != '\0') terms.Add(string.Concat(previousCjk, c));
                previousCjk = c;
                continue;
            }
            previousCjk = '\0';
            if (char.IsLetterOrDigit(c)) word.Append(char.ToLowerInvariant(c));
            else if (char.IsSurrogate(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            else EndWord();
        }
        EndWord();
        return terms;
    }
}
