using System.Text.RegularExpressions;

namespace Platform.Intents.Text;

/// <summary>
/// Cuts a message with two requests in two ("turn off the bedroom light and tell me today's orders", "关掉卧室的灯然后告诉我今天的订单"):
/// at a conjunction (and, and then, then, also, plus, a comma or semicolon; 然后, 并且, 而且, 顺便, 同时, 另外, 还有, 再, ，；, and an
/// ASCII comma between Chinese characters, which is what "，" becomes when channel text is normalised with NFKC),
/// and only where <b>both</b> halves are requests in scope on their own. The first such place from the left wins; the
/// rest may hold more requests (cut it again). Halves that are too short to be a request ("turn on the kitchen and the
/// bedroom light": the rest starts with an article) are not tried.
/// </summary>
public static partial class RequestSplitter
{
    /// <summary>At most this many places are tried per text (each costs two classifications).</summary>
    public const int MaxCandidates = 6;

    [GeneratedRegex(@"\s*[,;]?\s*\b(?:and\s+then|and\s+also|and|then|also|plus)\b\s*|\s*[;；]\s*|\s*,\s+|\s*[，、,]?(?:然后|并且|而且|顺便|同时|另外|还有|再)\s*|\s*[，]\s*|(?<=[\u3400-\u9FFF])\s*,\s*(?=[\u3400-\u9FFF])",
        RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex ConjunctionRegex();

    private static readonly HashSet<string> NounPhraseStarts = new(StringComparer.OrdinalIgnoreCase)
    {
        "the", "a", "an", "my", "your", "our", "this", "that", "these", "those", "it", "its", "them", "both", "all",
    };

    /// <summary>The places a text could be cut, left to right, as (first request, rest); both halves look like requests.</summary>
    public static IReadOnlyList<(string First, string Remainder)> Candidates(string text) =>
        Cuts(text).Select(c => (c.First, c.Remainder)).ToList();

    /// <summary>The places a text could be cut, left to right, with where the conjunction starts and where the rest starts.</summary>
    public static IReadOnlyList<RequestCut> Cuts(string text)
    {
        var result = new List<RequestCut>();
        if (string.IsNullOrWhiteSpace(text)) return result;
        foreach (Match m in ConjunctionRegex().Matches(text))
        {
            if (m.Length == 0) continue;
            var first = text[..m.Index].Trim();
            var rest = text[(m.Index + m.Length)..].Trim();
            if (!LooksLikeRequest(first) || !LooksLikeRequest(rest)) continue;
            var firstWord = Regex.Match(rest, @"^[\p{L}']+").Value;
            if (NounPhraseStarts.Contains(firstWord)) continue;
            result.Add(new RequestCut(first, rest, m.Index, m.Index + m.Length));
            if (result.Count >= MaxCandidates) break;
        }
        return result;
    }

    /// <summary>
    /// The first cut where <paramref name="recognize"/> finds both halves in scope (it returns null for out of scope), as the
    /// first half's recognition, its text and the rest; null when the text is one request. A cut whose rest only repeats
    /// the first request (<paramref name="isSameRequest"/>: "how many orders today?; DROP TABLE orders") is not a cut: the message is
    /// answered once.
    /// </summary>
    public static async ValueTask<RequestSplit<T>?> SplitAsync<T>(string text,
        Func<string, CancellationToken, ValueTask<T?>> recognize, CancellationToken cancellationToken = default,
        Func<T, T, bool>? isSameRequest = null) where T : class
    {
        ArgumentNullException.ThrowIfNull(recognize);
        foreach (var (first, rest) in Candidates(text))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await recognize(first, cancellationToken).ConfigureAwait(false) is not { } firstResult) continue;
            // The rest is in scope as a whole, or begins with a request in scope (three requests in one message).
            if (await recognize(rest, cancellationToken).ConfigureAwait(false) is not { } restResult) continue;
            if (isSameRequest?.Invoke(firstResult, restResult) == true) continue;
            return new RequestSplit<T>(firstResult, first, rest);
        }
        return null;
    }

    /// <summary>
    /// Like <see cref="SplitAsync{T}"/>, but all halves of all cuts are recognised in <b>one</b> call of
    /// <paramref name="recognizeMany"/> (one embedding-model run for all of them); it returns one result per text, null for
    /// out of scope. The first cut from the left whose halves are both in scope (and not the same request) wins.
    /// </summary>
    public static async ValueTask<RequestSplit<T>?> SplitManyAsync<T>(string text,
        Func<IReadOnlyList<string>, CancellationToken, ValueTask<IReadOnlyList<T?>>> recognizeMany, CancellationToken cancellationToken = default,
        Func<T, T, bool>? isSameRequest = null) where T : class
    {
        ArgumentNullException.ThrowIfNull(recognizeMany);
        var cuts = Cuts(text);
        if (cuts.Count == 0) return null;
        cancellationToken.ThrowIfCancellationRequested();
        var results = await recognizeMany(cuts.SelectMany(c => new[] { c.First, c.Remainder }).ToList(), cancellationToken).ConfigureAwait(false);
        for (var i = 0; i < cuts.Count; i++)
        {
            if (results[2 * i] is not { } first || results[2 * i + 1] is not { } rest) continue;
            if (isSameRequest?.Invoke(first, rest) == true) continue;
            return new RequestSplit<T>(first, cuts[i].First, cuts[i].Remainder);
        }
        return null;
    }

    private static bool LooksLikeRequest(string part)
    {
        int cjk = 0, words = 0;
        var inWord = false;
        foreach (var c in part)
        {
            if (TextFeatures.IsCjk(c)) { cjk++; inWord = false; }
            else if (char.IsLetterOrDigit(c)) { if (!inWord) words++; inWord = true; }
            else inWord = false;
        }
        return cjk >= 2 || words >= 2 || (cjk >= 1 && words >= 1);
    }
}

/// <summary>A place where a message could be cut in two (see <see cref="RequestSplitter.Cuts"/>).</summary>
/// <param name="First">The text before the conjunction.</param>
/// <param name="Remainder">The text after it.</param>
/// <param name="ConjunctionStart">Where the conjunction (with its spaces) starts in the message.</param>
/// <param name="RestStart">Where the rest starts in the message.</param>
public readonly record struct RequestCut(string First, string Remainder, int ConjunctionStart, int RestStart);

/// <summary>A message cut in two by <see cref="RequestSplitter.SplitAsync"/>.</summary>
/// <param name="First">The first request's recognition.</param>
/// <param name="FirstText">The first request's text.</param>
/// <param name="Rest">The rest of the message (one or more requests).</param>
public sealed record RequestSplit<T>(T First, string FirstText, string Rest);
