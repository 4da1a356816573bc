using System.Globalization;
using System.Text;

namespace Platform.Intents.Text;

/// <summary>Which n-grams <see cref="TextFeatures"/> extracts.</summary>
public sealed record NgramOptions
{
    /// <summary>Word unigrams and bigrams. Default true.</summary>
    public bool WordBigrams { get; init; } = true;

    /// <summary>Shortest character n-gram inside a (boundary-padded) word. Default 2.</summary>
    public int CharMin { get; init; } = 2;

    /// <summary>Longest character n-gram inside a word. Default 4.</summary>
    public int CharMax { get; init; } = 4;

    /// <summary>Longest character n-gram inside a run of CJK characters (from 1). Default 3.</summary>
    public int CjkCharMax { get; init; } = 3;
}

/// <summary>
/// Language-independent n-gram features, hashed to 64-bit keys (FNV-1a) so no strings are allocated: word unigrams and
/// bigrams, and character n-grams within words. Text is lower-cased and accents are removed; CJK characters count as
/// one-character words, and runs of them also give character n-grams, so Chinese works without a segmenter.
/// </summary>
internal static class TextFeatures
{
    private const ulong FnvOffset = 14695981039346656037UL;
    private const ulong FnvPrime = 1099511628211UL;

    /// <summary>Normalises text: lower case, no accents, one token per run of letters/digits, CJK characters apart.</summary>
    public static List<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var sb = new StringBuilder();
        var ascii = System.Text.Ascii.IsValid(text);
        var normalized = ascii ? text : text.Normalize(NormalizationForm.FormD);
        foreach (var raw in normalized)
        {
            if (!ascii && CharUnicodeInfo.GetUnicodeCategory(raw) == UnicodeCategory.NonSpacingMark) continue;
            var c = char.ToLowerInvariant(raw);
            if (IsCjk(c))
            {
                Flush();
                tokens.Add(c.ToString());
            }
            else if (char.IsLetterOrDigit(c))
            {
                sb.Append(c);
            }
            else
            {
                Flush();
            }
        }
        Flush();
        return tokens;

        void Flush()
        {
            if (sb.Length > 0)
            {
                tokens.Add(sb.ToString());
                sb.Clear();
            }
        }
    }

    public static bool IsCjk(char c) =>
        c is >= '\u3040' and <= '\u30FF' // kana
            or >= '\u3400' and <= '\u4DBF'
            or >= '\u4E00' and <= '\u9FFF'
            or >= '\uF900' and <= '\uFAFF'
            or >= '\uAC00' and <= '\uD7AF'; // hangul syllables

    /// <summary>Adds the hashed word features of a token list.</summary>
    public static void WordFeatures(List<string> tokens, NgramOptions options, List<ulong> output)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            output.Add(Hash(1, tokens[i]));
            if (options.WordBigrams)
            {
                var prev = i == 0 ? "<s>" : tokens[i - 1];
                output.Add(Hash(Hash(2, prev), tokens[i]));
            }
        }
        if (options.WordBigrams && tokens.Count > 0) output.Add(Hash(Hash(2, tokens[^1]), "</s>"));
    }

    /// <summary>Adds the hashed character n-gram features of a token list.</summary>
    public static void CharFeatures(List<string> tokens, NgramOptions options, List<ulong> output)
    {
        Span<char> buffer = stackalloc char[66];
        var i = 0;
        while (i < tokens.Count)
        {
            var t = tokens[i];
            if (t.Length == 1 && IsCjk(t[0]))
            {
                // A run of CJK characters: n-grams 1..CjkCharMax over the run.
                var start = i;
                while (i < tokens.Count && tokens[i].Length == 1 && IsCjk(tokens[i][0])) i++;
                var run = i - start;
                for (var a = 0; a < run; a++)
                {
                    var h = FnvOffset ^ 3UL;
                    for (var n = 1; n <= options.CjkCharMax && a + n <= run; n++)
                    {
                        h = (h ^ tokens[start + a + n - 1][0]) * FnvPrime;
                        output.Add(Mix(h, (ulong)(100 + n)));
                    }
                }
                continue;
            }
            var len = Math.Min(t.Length, 64);
            buffer[0] = '<';
            t.AsSpan(0, len).CopyTo(buffer[1..]);
            buffer[len + 1] = '>';
            var padded = buffer[..(len + 2)];
            for (var n = options.CharMin; n <= options.CharMax; n++)
            {
                for (var a = 0; a + n <= padded.Length; a++)
                {
                    output.Add(Mix(Hash(4, padded.Slice(a, n)), (ulong)n));
                }
            }
            i++;
        }
    }

    public static ulong Hash(ulong seed, string s) => Hash(seed, s.AsSpan());

    public static ulong Hash(ulong seed, ReadOnlySpan<char> s)
    {
        var h = FnvOffset ^ (seed * 0x9E3779B97F4A7C15UL);
        foreach (var c in s)
        {
            h = (h ^ c) * FnvPrime;
        }
        return h;
    }

    private static ulong Mix(ulong h, ulong salt)
    {
        h ^= salt * 0xBF58476D1CE4E5B9UL;
        h ^= h >> 31;
        return h * 0x94D049BB133111EBUL;
    }
}
