using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Channels.Webhooks;

/// <summary>
/// The platform's webhook signature. Header <c>X-Platform-Signature: t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</c> where
/// <c>hex = lowercase hex(HMAC-SHA256(secret, "&lt;t&gt;.&lt;raw body&gt;"))</c>. A header may carry several
/// <c>v1=</c> entries (one per secret while a secret is being rotated); one match is enough.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The signature header.</summary>
    public const string Header = "X-Platform-Signature";

    /// <summary>The header carrying the delivery's unique id (the same on every retry of one message).</summary>
    public const string DeliveryIdHeader = "X-Platform-Delivery";

    /// <summary>The default allowed distance between the signed time and now.</summary>
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>The <c>v1</c> value: lowercase hex HMAC-SHA256 of <c>"{timestamp}.{body}"</c>.</summary>
    public static string ComputeV1(string secret, long timestamp, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret),
            Encoding.UTF8.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + "." + body)));

    /// <summary>The header value for a body signed now with one or more secrets.</summary>
    public static string Create(long timestamp, string body, params string[] secrets) =>
        $"t={timestamp.ToString(CultureInfo.InvariantCulture)}," + string.Join(',', secrets.Select(s => "v1=" + ComputeV1(s, timestamp, body)));
}

/// <summary>Remembers signatures already accepted, so a captured request cannot be replayed inside the time window.</summary>
public interface IReplayCache
{
    /// <summary>Records <paramref name="key"/> until <paramref name="expiresAt"/>; false when it was already recorded
    /// (a replay).</summary>
    ValueTask<bool> TryRegisterAsync(string key, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);
}

/// <summary>A replay cache in process memory; entries are dropped once expired. Use a shared store (the database)
/// when several server processes receive webhooks.</summary>
public sealed class InMemoryReplayCache(TimeProvider? time = null) : IReplayCache
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _seen = new(StringComparer.Ordinal);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _registrations;

    /// <summary>The number of remembered keys (expired ones included until the next sweep).</summary>
    public int Count => _seen.Count;

    /// <inheritdoc />
    public ValueTask<bool> TryRegisterAsync(string key, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        if (Interlocked.Increment(ref _registrations) % 256 == 0)
        {
            foreach (var entry in _seen)
            {
                if (entry.Value <= now)
                {
                    _seen.TryRemove(entry);
                }
            }
        }

        while (true)
        {
            if (_seen.TryAdd(key, expiresAt))
            {
                return ValueTask.FromResult(true);
            }

            if (_seen.TryGetValue(key, out var existing) && existing > now)
            {
                return ValueTask.FromResult(false);
            }

            _seen.TryRemove(key, out _); // expired: register again
        }
    }
}

/// <summary>Checks <see cref="WebhookSignature.Header"/> on inbound webhooks: format, time window, HMAC (constant
/// time) and replay.</summary>
public sealed class WebhookSignatureVerifier(IReplayCache replayCache, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The allowed distance between the signed time and now.</summary>
    public TimeSpan Tolerance { get; init; } = WebhookSignature.DefaultTolerance;

    /// <summary>What the replay cache keeps signatures under, e.g. the channel name: the same signed body sent to two
    /// channels that share a secret is two requests, not a replay.</summary>
    public string Scope { get; init; } = "";

    /// <summary>Verifies a request; null when it is valid (and now registered against replays), otherwise the rejection.
    /// <paramref name="secrets"/> are the accepted secrets (current first, then any previous during rotation).</summary>
    public async ValueTask<InboundResult?> VerifyAsync(string? header, string body, IReadOnlyCollection<string> secrets,
        CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return InboundResult.Reject(RejectionReason.MissingSignature, $"The {WebhookSignature.Header} header is missing.");
        }

        long? timestamp = null;
        var signatures = new List<string>();
        foreach (var part in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith("t=", StringComparison.Ordinal)
                && long.TryParse(part.AsSpan(2), NumberStyles.None, CultureInfo.InvariantCulture, out var t))
            {
                timestamp = t;
            }
            else if (part.StartsWith("v1=", StringComparison.Ordinal))
            {
                signatures.Add(part[3..]);
            }
        }

        if (timestamp is null || signatures.Count == 0)
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature,
                $"{WebhookSignature.Header} must look like t=<unix seconds>,v1=<hex HMAC-SHA256 of \"t.body\">.");
        }

        var signedAt = DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(timestamp.Value, 0, 253402300799));
        var skew = _time.GetUtcNow() - signedAt;
        if (skew.Duration() > Tolerance)
        {
            return InboundResult.Reject(RejectionReason.StaleTimestamp,
                $"The signature timestamp is {Math.Abs(skew.TotalSeconds):0} s away from now; at most {Tolerance.TotalSeconds:0} s is accepted.");
        }

        string? matched = null;
        foreach (var secret in secrets)
        {
            var expected = Encoding.ASCII.GetBytes(WebhookSignature.ComputeV1(secret, timestamp.Value, body));
            foreach (var signature in signatures)
            {
                if (CryptographicOperations.FixedTimeEquals(expected, Encoding.UTF8.GetBytes(signature)))
                {
                    matched = signature;
                }
            }
        }

        if (matched is null)
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature,
                $"{WebhookSignature.Header} does not match the body (wrong secret or modified body).");
        }

        var fresh = await replayCache.TryRegisterAsync($"{Scope}:{timestamp.Value}.{matched}", signedAt + Tolerance + TimeSpan.FromSeconds(1),
            cancellationToken);
        return fresh
            ? null
            : InboundResult.Reject(RejectionReason.Replay, "This signed request was already received (replay).");
    }
}
