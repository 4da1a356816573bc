using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Channels.Slack;

/// <summary>Slack's <c>v0</c> request signature: <c>X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret,
/// "v0:" + X-Slack-Request-Timestamp + ":" + raw body))</c>.</summary>
public static class SlackSignature
{
    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "X-Slack-Signature";

    /// <summary>The timestamp header (Unix seconds).</summary>
    public const string TimestampHeader = "X-Slack-Request-Timestamp";

    /// <summary>The retry counter header on redeliveries.</summary>
    public const string RetryNumHeader = "X-Slack-Retry-Num";

    /// <summary>The retry reason header on redeliveries (<c>http_timeout</c>, <c>http_error</c>…).</summary>
    public const string RetryReasonHeader = "X-Slack-Retry-Reason";

    /// <summary>Computes the header value for a body.</summary>
    public static string Compute(string signingSecret, string timestamp, string body)
    {
        var hash = HMACSHA256.HashData(Encoding.UTF8.GetBytes(signingSecret), Encoding.UTF8.GetBytes($"v0:{timestamp}:{body}"));
        return "v0=" + Convert.ToHexStringLower(hash);
    }

    /// <summary>Checks the signature headers of a request; null when they are valid, otherwise the rejection.</summary>
    public static InboundResult? Verify(string signingSecret, string? timestamp, string? signature, string body, DateTimeOffset now,
        TimeSpan maxSkew)
    {
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            return InboundResult.Reject(RejectionReason.MissingSignature,
                $"The {SignatureHeader} or {TimestampHeader} header is missing.");
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature, $"{TimestampHeader} '{timestamp}' is not a Unix time.");
        }

        var skew = now - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        if (skew.Duration() > maxSkew)
        {
            return InboundResult.Reject(RejectionReason.StaleTimestamp,
                $"{TimestampHeader} is {Math.Abs(skew.TotalSeconds):0} s away from now; at most {maxSkew.TotalSeconds:0} s is accepted (replayed or clock skew).");
        }

        var expected = Encoding.ASCII.GetBytes(Compute(signingSecret, timestamp, body));
        var actual = Encoding.UTF8.GetBytes(signature.Trim());
        return CryptographicOperations.FixedTimeEquals(expected, actual)
            ? null
            : InboundResult.Reject(RejectionReason.InvalidSignature, $"{SignatureHeader} does not match the body (wrong signing secret or modified body).");
    }
}
