using System.Globalization;
using System.Text.RegularExpressions;

namespace Platform.Intents.Entities;

/// <summary>Finds numbers written with digits, English number words or Chinese numerals.</summary>
internal static partial class NumberParser
{
    private static readonly Dictionary<string, int> Small = new(StringComparer.Ordinal)
    {
        ["zero"] = 0, ["one"] = 1, ["two"] = 2, ["three"] = 3, ["four"] = 4, ["five"] = 5, ["six"] = 6, ["seven"] = 7,
        ["eight"] = 8, ["nine"] = 9, ["ten"] = 10, ["eleven"] = 11, ["twelve"] = 12, ["thirteen"] = 13, ["fourteen"] = 14,
        ["fifteen"] = 15, ["sixteen"] = 16, ["seventeen"] = 17, ["eighteen"] = 18, ["nineteen"] = 19, ["twenty"] = 20,
        ["thirty"] = 30, ["forty"] = 40, ["fifty"] = 50, ["sixty"] = 60, ["seventy"] = 70, ["eighty"] = 80, ["ninety"] = 90,
    };

    private static readonly Dictionary<string, long> Scales = new(StringComparer.Ordinal)
    {
        ["hundred"] = 100, ["thousand"] = 1_000, ["million"] = 1_000_000, ["billion"] = 1_000_000_000, ["dozen"] = 12,
    };

    // Not glued to a word (A1, v2.5), but Chinese has no spaces: "调到50%" has 50.
    [GeneratedRegex(@"(?<!(?![\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF\uAC00-\uD7AF])[\p{L}\d.,])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d)", RegexOptions.CultureInvariant)]
    private static partial Regex DigitsRegex();

    [GeneratedRegex(@"[a-z]+", RegexOptions.CultureInvariant)]
    private static partial Regex WordRegex();

    [GeneratedRegex(@"[零〇一二两三四五六七八九十百千万亿]+", RegexOptions.CultureInvariant)]
    private static partial Regex ChineseRegex();

    // 百分之五十, 百分之50: the number after 百分之 ("hundredths of"), as a percentage.
    [GeneratedRegex(@"百分之(?:([零〇一二两三四五六七八九十百千万亿]+)|(\d+(?:\.\d+)?))", RegexOptions.CultureInvariant)]
    private static partial Regex ChinesePercentRegex();

    // A percent sign or word right after a number: 50%, 50 %, 50％, 50 percent.
    [GeneratedRegex(@"^\s?(?:%|％|percent\b|per\s+cent\b)", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex PercentSuffixRegex();

    /// <summary>All numbers in <paramref name="text"/> as (start, length, value), not overlapping.</summary>
    public static List<(int Start, int Length, decimal Value)> Find(string text)
    {
        var result = new List<(int, int, decimal)>();
        foreach (Match m in DigitsRegex().Matches(text))
        {
            if (decimal.TryParse(m.Value.Replace(",", "", StringComparison.Ordinal), NumberStyles.Number, CultureInfo.InvariantCulture, out var v))
                result.Add((m.Index, m.Length, v));
        }
        var lower = text.ToLowerInvariant();
        var words = WordRegex().Matches(lower).Cast<Match>().ToList();
        var i = 0;
        while (i < words.Count)
        {
            if (!IsNumberWord(words[i].Value) || words[i].Value is "and")
            {
                i++;
                continue;
            }
            var j = i;
            while (j + 1 < words.Count && IsNumberWord(words[j + 1].Value) && IsJoiner(lower, words[j], words[j + 1])) j++;
            var runEnd = j;
            // Trim trailing "and" / "a".
            while (j >= i && words[j].Value is "and" or "a" or "an") j--;
            if (j < i)
            {
                // Only "a"/"an"/"and" up to the end of the run: no later start in it can make a number either. Skipping
                // the run keeps this linear ("a a a a …" was quadratic).
                i = runEnd + 1;
                continue;
            }
            if (TryParseWords(words.GetRange(i, j - i + 1).ConvertAll(w => w.Value), out var value))
            {
                var start = words[i].Index;
                result.Add((start, words[j].Index + words[j].Length - start, value));
            }
            i = Math.Max(j + 1, i + 1);
        }
        var percents = new List<(int Start, int Length, decimal Value)>();
        foreach (Match m in ChinesePercentRegex().Matches(text))
        {
            if (m.Groups[1].Success ? TryParseChinese(m.Groups[1].Value, out var p)
                : decimal.TryParse(m.Groups[2].Value, NumberStyles.Number, CultureInfo.InvariantCulture, out p))
                percents.Add((m.Index, m.Length, p));
        }
        foreach (Match m in ChineseRegex().Matches(text))
        {
            if (percents.Any(p => p.Start < m.Index + m.Length && m.Index < p.Start + p.Length)) continue;
            if (TryParseChinese(m.Value, out var v)) result.Add((m.Index, m.Length, v));
        }
        result.RemoveAll(r => percents.Any(p => p.Start < r.Item1 + r.Item2 && r.Item1 < p.Start + p.Length));
        // "50%", "50 percent": the match takes the sign (the value stays 50).
        for (var k = 0; k < result.Count; k++)
        {
            var (start, length, value) = result[k];
            var suffix = PercentSuffixRegex().Match(text, start + length, Math.Min(12, text.Length - start - length));
            if (suffix.Success && suffix.Index == start + length) result[k] = (start, length + suffix.Length, value);
        }
        result.AddRange(percents);
        result.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return result;
    }

    /// <summary>Parses one number in any of the supported forms, or returns false.</summary>
    public static bool TryParse(string text, out decimal value)
    {
        text = text.Trim();
        if (decimal.TryParse(text.Replace(",", "", StringComparison.Ordinal), NumberStyles.Number, CultureInfo.InvariantCulture, out value)) return true;
        if (TryParseChinese(text, out value)) return true;
        var words = WordRegex().Matches(text.ToLowerInvariant()).Select(m => m.Value).ToList();
        if (words.Count == 1 && words[0] is "a" or "an") { value = 1; return true; }
        return words.Count > 0 && words.All(IsNumberWord) && TryParseWords(words, out value);
    }

    private static bool IsNumberWord(string w) => Small.ContainsKey(w) || Scales.ContainsKey(w) || w is "and" or "a" or "an";

    private static bool IsJoiner(string text, Match a, Match b)
    {
        for (var k = a.Index + a.Length; k < b.Index; k++)
        {
            if (text[k] != ' ' && text[k] != '-') return false;
        }
        return true;
    }

    private static bool TryParseWords(List<string> words, out decimal value)
    {
        long total = 0, current = 0;
        var any = false;
        for (var k = 0; k < words.Count; k++)
        {
            var w = words[k];
            if (w is "and") continue;
            if (w is "a" or "an")
            {
                // Only "a hundred", "a dozen"…
                if (k + 1 >= words.Count || !Scales.ContainsKey(words[k + 1])) { value = 0; return false; }
                continue;
            }
            if (Small.TryGetValue(w, out var s))
            {
                current += s;
                any = true;
            }
            else if (Scales.TryGetValue(w, out var scale))
            {
                if (scale == 100 || scale == 12) current = (current == 0 ? 1 : current) * scale;
                else
                {
                    total += (current == 0 ? 1 : current) * scale;
                    current = 0;
                }
                any = true;
            }
        }
        value = total + current;
        return any;
    }

    internal static bool TryParseChinese(string s, out decimal value)
    {
        value = 0;
        if (s.Length == 0) return false;
        long total = 0, section = 0, number = 0;
        var seenDigit = false;
        foreach (var c in s)
        {
            var d = c switch
            {
                '零' or '〇' => 0, '一' => 1, '二' or '两' => 2, '三' => 3, '四' => 4, '五' => 5, '六' => 6, '七' => 7, '八' => 8, '九' => 9,
                _ => -1,
            };
            if (d >= 0)
            {
                number = d;
                seenDigit = true;
                continue;
            }
            long unit = c switch { '十' => 10, '百' => 100, '千' => 1000, '万' => 10_000, '亿' => 100_000_000, _ => 0 };
            if (unit == 0) return false;
            if (unit < 10_000)
            {
                section += (number == 0 && unit == 10 && !seenDigit ? 1 : number) * unit;
                seenDigit = true;
            }
            else
            {
                total += (section + number) * unit;
                section = 0;
            }
            number = 0;
        }
        if (!seenDigit) return false;
        value = total + section + number;
        return true;
    }
}
