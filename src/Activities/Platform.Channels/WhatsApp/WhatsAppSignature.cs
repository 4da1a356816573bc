using System.Security.Cryptography;
using System.Text;

namespace Platform.Channels.WhatsApp;

/// <summary>Meta's webhook signature: <c>X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(app secret, raw body))</c>.</summary>
public static class WhatsAppSignature
{
    /// <summary>The signature header.</summary>
    public const string Header = "X-Hub-Signature-256";

    /// <summary>Computes the header value of a body.</summary>
    public static string Compute(string appSecret, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(appSecret), Encoding.UTF8.GetBytes(body)));

    /// <summary>Null when <paramref name="signature"/> matches the body (constant time), otherwise the rejection.</summary>
    public static InboundResult? Verify(string appSecret, string? signature, string body)
    {
        if (string.IsNullOrWhiteSpace(signature))
        {
            return InboundResult.Reject(RejectionReason.MissingSignature, $"The {Header} header is missing; Meta signs every webhook delivery with the app secret.");
        }

        var expected = Encoding.ASCII.GetBytes(Compute(appSecret, body));
        var actual = Encoding.UTF8.GetBytes(signature.Trim().ToLowerInvariant());
        return CryptographicOperations.FixedTimeEquals(expected, actual)
            ? null
            : InboundResult.Reject(RejectionReason.InvalidSignature,
                $"{Header} does not match the body (wrong app secret in the channel's appSecret setting, or a modified body).");
    }
}
