using System.Globalization;
using System.Text;
using Org.BouncyCastle.Crypto.Parameters;
using Org.BouncyCastle.Crypto.Signers;

namespace Platform.Channels.Discord;

/// <summary>
/// Discord's interaction signature: <c>X-Signature-Ed25519 = hex(Ed25519 signature over X-Signature-Timestamp + raw body)</c>,
/// checked with the application's public key (.NET has no Ed25519; BouncyCastle's is used).
/// </summary>
public static class DiscordSignature
{
    /// <summary>The signature header.</summary>
    public const string SignatureHeader = "X-Signature-Ed25519";

    /// <summary>The timestamp header (Unix seconds).</summary>
    public const string TimestampHeader = "X-Signature-Timestamp";

    /// <summary>True when <paramref name="publicKeyHex"/> is 32 bytes of hex.</summary>
    public static bool IsValidPublicKey(string? publicKeyHex) => TryHex(publicKeyHex, 32, out _);

    /// <summary>Null when the headers are present, fresh and valid, otherwise the rejection.</summary>
    public static InboundResult? Verify(string publicKeyHex, string? timestamp, string? signature, string body, DateTimeOffset now, TimeSpan maxSkew)
    {
        if (string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signature))
        {
            return InboundResult.Reject(RejectionReason.MissingSignature, $"The {SignatureHeader} or {TimestampHeader} header is missing.");
        }

        if (!TryHex(publicKeyHex, 32, out var key))
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature, "The channel's publicKey setting is not 64 hex digits; copy it from the application's General Information page.");
        }

        if (!TryHex(signature, 64, out var signatureBytes))
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature, $"{SignatureHeader} is not 128 hex digits.");
        }

        var message = Encoding.UTF8.GetBytes(timestamp + body);
        var verifier = new Ed25519Signer();
        verifier.Init(false, new Ed25519PublicKeyParameters(key, 0));
        verifier.BlockUpdate(message, 0, message.Length);
        if (!verifier.VerifySignature(signatureBytes))
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature, $"{SignatureHeader} does not match (wrong publicKey setting or a modified body).");
        }

        // Checked after the signature: the timestamp is signed, so a replayed request cannot carry a new one.
        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return InboundResult.Reject(RejectionReason.InvalidSignature, $"{TimestampHeader} '{timestamp}' is not a Unix time.");
        }

        var skew = now - DateTimeOffset.FromUnixTimeSeconds(Math.Clamp(seconds, 0, 253402300799));
        return skew.Duration() > maxSkew
            ? InboundResult.Reject(RejectionReason.StaleTimestamp,
                $"{TimestampHeader} is {Math.Abs(skew.TotalSeconds):0} s away from now; at most {maxSkew.TotalSeconds:0} s is accepted (replayed or clock skew).")
            : null;
    }

    private static bool TryHex(string? text, int bytes, out byte[] value)
    {
        value = [];
        if (text is null || text.Length != bytes * 2)
        {
            return false;
        }

        try
        {
            value = Convert.FromHexString(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
