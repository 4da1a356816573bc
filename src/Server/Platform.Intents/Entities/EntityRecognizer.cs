using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Platform.Intents.Text;

namespace Platform.Intents.Entities;

/// <summary>
/// Finds entities in a text: built-in numbers and dates/times, list entities (synonyms → canonical value) and regex
/// entities. When matches overlap, the longer one wins, and at equal length list and regex entities win over the
/// built-ins. Thread-safe.
/// </summary>
public sealed class EntityRecognizer
{
    private readonly List<EntityDefinition> _definitions;
    private readonly List<(string Entity, string Canonical, string Normalized)> _synonyms = [];
    private readonly List<(string Entity, Regex Regex)> _regexes = [];

    /// <summary>Creates a recognizer.</summary>
    /// <param name="definitions">The entities to look for.</param>
    /// <exception cref="ArgumentException">A regex pattern is invalid.</exception>
    public EntityRecognizer(IEnumerable<EntityDefinition> definitions)
    {
        _definitions = definitions.ToList();
        foreach (var d in _definitions)
        {
            switch (d)
            {
                case ListEntity list:
                    foreach (var (canonical, synonyms) in list.Values)
                    {
                        foreach (var s in synonyms.Prepend(canonical).Distinct(StringComparer.OrdinalIgnoreCase))
                        {
                            var n = Normalize(s);
                            if (n.Length > 0) _synonyms.Add((list.Name, canonical, n));
                        }
                    }
                    break;
                case RegexEntity re:
                    try
                    {
                        _regexes.Add((re.Name, new Regex(re.Pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(200))));
                    }
                    catch (ArgumentException ex)
                    {
                        throw new ArgumentException($"Entity '{re.Name}': invalid pattern: {ex.Message}", nameof(definitions), ex);
                    }
                    break;
            }
        }
        _synonyms.Sort((a, b) => b.Normalized.Length.CompareTo(a.Normalized.Length));
    }

    /// <summary>The definitions.</summary>
    public IReadOnlyList<EntityDefinition> Definitions => _definitions;

    /// <summary>The longest prefix of a text that is searched for entities (longer texts are cut there).</summary>
    public const int MaxTextLength = IntentTextLimits.MaxRecognizedLength;

    /// <summary>Finds the entities in <paramref name="text"/>, in text order.</summary>
    /// <param name="text">The text.</param>
    /// <param name="now">The reference time for relative dates; default now.</param>
    /// <param name="timeZone">The time zone dates are resolved in; default UTC.</param>
    /// <param name="cancellationToken">Stops the search (between entity kinds and within the synonym search).</param>
    /// <remarks>Only the first <see cref="MaxTextLength"/> characters are searched; the cost is linear in that length.</remarks>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public IReadOnlyList<EntityMatch> Recognize(string text, DateTimeOffset? now = null, TimeZoneInfo? timeZone = null,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(text)) return [];
        if (text.Length > MaxTextLength) text = text[..MaxTextLength];
        cancellationToken.ThrowIfCancellationRequested();
        var zone = timeZone ?? TimeZoneInfo.Utc;
        var reference = now ?? DateTimeOffset.UtcNow;
        var candidates = new List<(EntityMatch Match, int Priority)>();
        foreach (var d in _definitions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (d)
            {
                case NumberEntity:
                    foreach (var (start, length, value) in NumberParser.Find(text))
                        candidates.Add((new EntityMatch(d.Name, "number", text.Substring(start, length), start, length, value), 0));
                    break;
                case DateTimeEntity:
                    foreach (var (start, length, value) in DateTimeParser.Find(text, reference, zone))
                        candidates.Add((new EntityMatch(d.Name, "datetime", text.Substring(start, length), start, length, value), 1));
                    break;
            }
        }
        foreach (var (entity, regex) in _regexes)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                foreach (Match m in regex.Matches(text))
                {
                    if (m.Length == 0) continue;
                    var g = m.Groups["value"];
                    candidates.Add((new EntityMatch(entity, "regex", m.Value, m.Index, m.Length, g.Success ? g.Value : m.Value), 2));
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // A pathological pattern: no match rather than a hang.
            }
        }
        if (_synonyms.Count > 0) FindSynonyms(text, candidates, cancellationToken);
        cancellationToken.ThrowIfCancellationRequested();

        var kept = new List<EntityMatch>();
        var occupied = new Occupancy(text.Length);
        foreach (var (match, _) in candidates.OrderByDescending(c => c.Match.Length).ThenByDescending(c => c.Priority).ThenBy(c => c.Match.Start))
        {
            if (occupied.TryTake(match.Start, match.Start + match.Length)) kept.Add(match);
        }
        kept.Sort((a, b) => a.Start.CompareTo(b.Start));
        return kept;
    }

    private void FindSynonyms(string text, List<(EntityMatch, int)> candidates, CancellationToken cancellationToken)
    {
        // Normalise while keeping a map back to the original positions.
        var sb = new StringBuilder(text.Length);
        var map = new List<int>(text.Length + 1);
        for (var i = 0; i < text.Length; i++)
        {
            foreach (var c in text[i].ToString().Normalize(NormalizationForm.FormD))
            {
                if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
                sb.Append(char.ToLowerInvariant(c));
                map.Add(i);
            }
        }
        map.Add(text.Length);
        var normalized = sb.ToString();
        foreach (var (entity, canonical, synonym) in _synonyms)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var from = 0;
            while ((from = normalized.IndexOf(synonym, from, StringComparison.Ordinal)) >= 0)
            {
                var end = from + synonym.Length;
                if (Boundary(normalized, from - 1, synonym[0]) && Boundary(normalized, end, synonym[^1]))
                {
                    var start = map[from];
                    var stop = end < map.Count - 1 ? map[end] : text.Length;
                    candidates.Add((new EntityMatch(entity, "list", text[start..stop], start, stop - start, canonical), 3));
                }
                from++;
            }
        }
    }

    private static bool Boundary(string s, int index, char inner)
    {
        if (index < 0 || index >= s.Length) return true;
        if (TextFeatures.IsCjk(inner) || TextFeatures.IsCjk(s[index])) return true;
        return !char.IsLetterOrDigit(s[index]);
    }

    private static string Normalize(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var c in s.Trim().Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }
}
