using System.Globalization;
using Platform.Engine.Expressions;

namespace Platform.Engine.Runtime;

/// <summary>How the wait between attempts grows.</summary>
public enum RetryBackoff
{
    /// <summary>The same delay before every retry.</summary>
    Fixed,
    /// <summary>The delay doubles with every retry (delay, 2×delay, 4×delay…), capped by <see cref="RetryPolicy.MaxDelay"/>.</summary>
    Exponential,
}

/// <summary>
/// When an activity faults, how often and after how long the engine runs it again. Set per activity in the designer as
/// <c>customProperties.retryPolicy = {"maxAttempts": 3, "backoff": "exponential", "delay": "2s", "maxDelay": "1m"}</c>,
/// or for every activity with <c>Platform:Engine:DefaultRetryPolicy</c>. See docs/hangfire.md.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>The custom property that holds an activity's policy.</summary>
    public const string CustomPropertyName = "retryPolicy";

    /// <summary>The most attempts a policy may allow.</summary>
    public const int MaxAllowedAttempts = 100;

    /// <summary>Attempts in total, the first run included (3 = the first run and up to two retries).</summary>
    public int MaxAttempts { get; init; } = 1;

    /// <summary>How the delay grows.</summary>
    public RetryBackoff Backoff { get; init; } = RetryBackoff.Fixed;

    /// <summary>The delay before the first retry.</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay (exponential backoff); null means no cap.</summary>
    public TimeSpan? MaxDelay { get; init; }

    /// <summary>The wait before attempt number <paramref name="nextAttempt"/> (2 for the first retry).</summary>
    public TimeSpan DelayBefore(int nextAttempt)
    {
        var retry = Math.Max(1, nextAttempt - 1);
        var delay = Backoff == RetryBackoff.Exponential
            ? TimeSpan.FromMilliseconds(Math.Min(Delay.TotalMilliseconds * Math.Pow(2, retry - 1), TimeSpan.FromDays(365).TotalMilliseconds))
            : Delay;
        return MaxDelay is { } max && delay > max ? max : delay;
    }

    /// <summary>
    /// Reads a policy from its JSON shape (<c>maxAttempts</c>, <c>backoff</c>, <c>delay</c>, <c>maxDelay</c>; durations as
    /// <c>00:00:02</c>, <c>2s</c>, <c>500ms</c> or a number of seconds). Null when <paramref name="value"/> is null.
    /// </summary>
    /// <exception cref="FormatException">The policy is not valid; the message says how to fix it.</exception>
    public static RetryPolicy? Parse(object? value)
    {
        if (value is null) return null;
        if (value is not IDictionary<string, object?> d)
            throw new FormatException("retryPolicy must be an object such as {\"maxAttempts\": 3, \"backoff\": \"exponential\", \"delay\": \"2s\"}.");
        object? Get(string name) => d.FirstOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value;
        return Create(Get("maxAttempts"), Get("backoff"), Get("delay"), Get("maxDelay"));
    }

    /// <summary>Builds a policy from loosely typed values (configuration strings or JSON values).</summary>
    /// <exception cref="FormatException">A value is not valid; the message says how to fix it.</exception>
    public static RetryPolicy Create(object? maxAttempts, object? backoff, object? delay, object? maxDelay)
    {
        int attempts;
        try { attempts = maxAttempts is null or "" ? 1 : Convert.ToInt32(maxAttempts, CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new FormatException($"retryPolicy.maxAttempts '{maxAttempts}' is not a whole number. Use the total number of attempts, e.g. 3.", e);
        }
        if (attempts is < 1 or > MaxAllowedAttempts)
            throw new FormatException($"retryPolicy.maxAttempts is {attempts}; use 1 (no retry) to {MaxAllowedAttempts}.");

        var kind = (backoff?.ToString() ?? "").Trim().ToLowerInvariant() switch
        {
            "" or "fixed" or "constant" => RetryBackoff.Fixed,
            "exponential" => RetryBackoff.Exponential,
            _ => throw new FormatException($"retryPolicy.backoff '{backoff}' is not known. Use \"fixed\" or \"exponential\"."),
        };
        var first = Duration(delay, "delay") ?? TimeSpan.FromSeconds(1);
        var cap = Duration(maxDelay, "maxDelay");
        if (cap is { } c && c < first)
            throw new FormatException($"retryPolicy.maxDelay ({c}) is shorter than delay ({first}). Make maxDelay at least as long as delay, or leave it out.");
        return new RetryPolicy { MaxAttempts = attempts, Backoff = kind, Delay = first, MaxDelay = cap };
    }

    private static TimeSpan? Duration(object? value, string name)
    {
        if (value is null || value is string { Length: 0 }) return null;
        TimeSpan span;
        try
        {
            span = value switch
            {
                TimeSpan t => t,
                string s => ValueConverter.ParseTimeSpan(s),
                IConvertible n => TimeSpan.FromSeconds(Convert.ToDouble(n, CultureInfo.InvariantCulture)),
                _ => throw new FormatException(),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        {
            throw new FormatException($"retryPolicy.{name} '{value}' is not a duration. Use 00:00:02, 2s, 500ms, 1m or a number of seconds.", e);
        }
        if (span < TimeSpan.Zero) throw new FormatException($"retryPolicy.{name} must not be negative.");
        return span;
    }
}

/// <summary>Engine run-time settings (<c>Platform:Engine</c> in the server's configuration).</summary>
public sealed class EngineRuntimeOptions
{
    /// <summary>The policy for activities that set none in the designer; null means faults are not retried.</summary>
    public RetryPolicySettings? DefaultRetryPolicy { get; set; }

    /// <summary>How long host shutdown waits for running bursts and in-process background activities (default 30 s).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the message triggers and the published workflow versions read from the database are reused before they are
    /// read again (default 1 s; zero reads them for every message). Changes made on this node apply at once; a workflow
    /// published or retracted on another node sharing the database is seen within this time.
    /// </summary>
    public TimeSpan LookupCacheDuration { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a "no instance waits for this" answer of the bookmark lookup (made for every HTTP request and message) is
    /// reused (default 30 s; zero turns the reuse off). Bookmarks created on this node, and on other nodes through the
    /// PostgreSQL change feed, end the reuse at once; the time only bounds a change the feed could have missed.
    /// </summary>
    public TimeSpan BookmarkAbsenceDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether the <see cref="Contracts.IStartupWarmUp"/> steps run in the background after start (default true). They take
    /// about 2 s of one core on a fresh process, and the first message after a restart then answers in ~0.1 s instead of ~1.4 s.
    /// </summary>
    public bool WarmUp { get; set; } = true;
}

/// <summary>A retry policy as configuration text (<c>MaxAttempts</c>, <c>Backoff</c>, <c>Delay</c>, <c>MaxDelay</c>).</summary>
public sealed class RetryPolicySettings
{
    /// <summary>Attempts in total, the first run included.</summary>
    public int MaxAttempts { get; set; } = 1;
    /// <summary><c>fixed</c> or <c>exponential</c>.</summary>
    public string? Backoff { get; set; }
    /// <summary>The first delay: <c>00:00:02</c>, <c>2s</c>…</summary>
    public string? Delay { get; set; }
    /// <summary>The longest delay, or empty.</summary>
    public string? MaxDelay { get; set; }

    /// <summary>The policy.</summary>
    /// <exception cref="FormatException">A value is not valid.</exception>
    public RetryPolicy ToPolicy() => RetryPolicy.Create(MaxAttempts, Backoff, Delay, MaxDelay);
}
