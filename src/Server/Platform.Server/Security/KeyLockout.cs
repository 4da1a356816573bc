using System.Collections.Concurrent;
using System.Globalization;
using System.Net;

namespace Platform.Server.Security;

/// <summary>The settings of <see cref="KeyLockout"/>, bound from <c>Platform:Security:Lockout</c>.</summary>
public sealed class KeyLockoutOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Security:Lockout";

    /// <summary>False turns the lockout off.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many unknown keys one IP address may present within <see cref="Window"/> before it is locked out (default 10).</summary>
    public int MaxFailures { get; set; } = 10;

    /// <summary>The window in which failures are counted (default 5 minutes).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a locked-out IP address gets 429 for every key it presents (default 15 minutes).</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Reads and checks the section.</summary>
    /// <exception cref="InvalidOperationException">A value is out of range; the message says which and how to fix it.</exception>
    public static KeyLockoutOptions Read(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SectionName);
        var options = new KeyLockoutOptions();
        if (section["Enabled"] is { Length: > 0 } enabled)
            options.Enabled = bool.TryParse(enabled, out var e) ? e
                : throw new InvalidOperationException($"{SectionName}:Enabled is '{enabled}'; use true or false.");
        if (section["MaxFailures"] is { Length: > 0 } max)
            options.MaxFailures = int.TryParse(max, NumberStyles.Integer, CultureInfo.InvariantCulture, out var m) && m > 0 ? m
                : throw new InvalidOperationException($"{SectionName}:MaxFailures is '{max}'; use a positive whole number (default 10).");
        options.Window = Span(section, "Window", options.Window);
        options.Duration = Span(section, "Duration", options.Duration);
        return options;
    }

    private static TimeSpan Span(IConfigurationSection section, string key, TimeSpan fallback)
    {
        var text = section[key]?.Trim();
        if (string.IsNullOrEmpty(text)) return fallback;
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero) return span;
        throw new InvalidOperationException($"{SectionName}:{key} is '{text}'; use a positive time span such as {fallback:c}.");
    }
}

/// <summary>
/// Locks out an IP address that presented too many unknown API keys (issue 16, M1): after <see cref="KeyLockoutOptions.MaxFailures"/>
/// unknown keys within <see cref="KeyLockoutOptions.Window"/>, every key from that address is refused with 429 for
/// <see cref="KeyLockoutOptions.Duration"/>, so that keys cannot be guessed. Expired or revoked keys are not counted (they are
/// known, not guesses), nor are requests without a client address (a Unix socket). Per node and in memory: a restart forgets it.
/// </summary>
public sealed class KeyLockout(KeyLockoutOptions options, TimeProvider clock, ILogger<KeyLockout> logger)
{
    /// <summary>Entries kept before old ones are swept.</summary>
    private const int SweepThreshold = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The settings in use.</summary>
    public KeyLockoutOptions Options => options;

    /// <summary>How long <paramref name="address"/> is still locked out; null when it is not.</summary>
    public TimeSpan? LockedFor(IPAddress? address)
    {
        if (!options.Enabled || address is null || !_entries.TryGetValue(KeyOf(address), out var entry)) return null;
        var now = clock.GetUtcNow();
        lock (entry) return entry.LockedUntil is { } until && until > now ? until - now : null;
    }

    /// <summary>Counts an unknown key from <paramref name="address"/>; true when this failure locked it out.</summary>
    public bool RecordFailure(IPAddress? address)
    {
        // Without an address (a Unix socket, an in-memory test server) there is nobody to lock out but everyone.
        if (!options.Enabled || address is null) return false;
        var now = clock.GetUtcNow();
        if (_entries.Count > SweepThreshold) Sweep(now);
        var key = KeyOf(address);
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        lock (entry)
        {
            if (entry.LockedUntil is { } until && until > now) return false;
            if (entry.WindowStart is null || now - entry.WindowStart > options.Window)
            {
                entry.WindowStart = now;
                entry.Failures = 0;
                entry.LockedUntil = null;
            }
            entry.Failures++;
            if (entry.Failures < options.MaxFailures) return false;
            entry.LockedUntil = now + options.Duration;
            entry.WindowStart = null;
            entry.Failures = 0;
        }
        logger.LogWarning("Lockout: {Ip} presented {Count} unknown API keys within {Window}; every key from it is refused with 429 until {Until:O} " +
                          "({Section})", key, options.MaxFailures, options.Window, entry.LockedUntil, KeyLockoutOptions.SectionName);
        return true;
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
        {
            bool stale;
            lock (entry)
                stale = (entry.LockedUntil is null || entry.LockedUntil <= now) && (entry.WindowStart is null || now - entry.WindowStart > options.Window);
            if (stale) _entries.TryRemove(key, out _);
        }
    }

    private static string KeyOf(IPAddress address) => (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    private sealed class Entry
    {
        public DateTimeOffset? WindowStart;
        public int Failures;
        public DateTimeOffset? LockedUntil;
    }
}
