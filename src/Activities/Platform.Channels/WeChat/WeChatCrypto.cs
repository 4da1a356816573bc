using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Channels.WeChat;

/// <summary>
/// The message crypto of WeChat Official Accounts and WeCom (消息加解密): the SHA1 signature over the sorted token,
/// timestamp, nonce (and the encrypted text), and AES-256-CBC with the EncodingAESKey (43 base64 characters plus "=", the
/// IV is the key's first 16 bytes), PKCS#7 padding to 32 bytes, over <c>random(16) + msg_len(4, network order) + msg +
/// receiveid</c> (the AppID of an Official Account, the CorpID of WeCom).
/// </summary>
public static class WeChatCrypto
{
    /// <summary>The SHA1 signature: the parts sorted (ordinal), concatenated, hashed, lower-case hex.</summary>
    public static string Signature(params string[] parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        var sorted = parts.ToArray();
        Array.Sort(sorted, StringComparer.Ordinal);
        return Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(string.Concat(sorted))));
    }

    /// <summary>Whether <paramref name="actual"/> equals the signature of <paramref name="parts"/> (constant time).</summary>
    public static bool Verify(string? actual, params string[] parts) =>
        !string.IsNullOrEmpty(actual) && CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Signature(parts)), Encoding.UTF8.GetBytes(actual.Trim().ToLowerInvariant()));

    /// <summary>The 32-byte AES key of an EncodingAESKey.</summary>
    /// <exception cref="FormatException">It is not 43 base64 characters.</exception>
    public static byte[] Key(string encodingAesKey)
    {
        if (encodingAesKey is not { Length: 43 })
        {
            throw new FormatException("The EncodingAESKey must be the 43 characters shown in the console (消息加解密密钥 EncodingAESKey).");
        }

        return Convert.FromBase64String(encodingAesKey + "=");
    }

    /// <summary>Encrypts <paramref name="message"/> for <paramref name="receiveId"/>; base64.</summary>
    public static string Encrypt(string encodingAesKey, string receiveId, string message, byte[]? random16 = null)
    {
        var key = Key(encodingAesKey);
        var msg = Encoding.UTF8.GetBytes(message);
        var id = Encoding.UTF8.GetBytes(receiveId);
        var plain = new List<byte>(16 + 4 + msg.Length + id.Length + 32);
        plain.AddRange(random16 ?? RandomNumberGenerator.GetBytes(16));
        var length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, msg.Length);
        plain.AddRange(length);
        plain.AddRange(msg);
        plain.AddRange(id);
        var pad = 32 - (plain.Count % 32);
        for (var i = 0; i < pad; i++)
        {
            plain.Add((byte)pad);
        }

        using var aes = Aes.Create();
        aes.Key = key;
        return Convert.ToBase64String(aes.EncryptCbc(plain.ToArray(), key.AsSpan(0, 16), PaddingMode.None));
    }

    /// <summary>Decrypts a base64 <paramref name="encrypted"/>: the message and the receiveid it was encrypted for.</summary>
    /// <exception cref="CryptographicException">Wrong key or a tampered text.</exception>
    /// <exception cref="FormatException">Not base64, or the layout inside is wrong.</exception>
    public static (string Message, string ReceiveId) Decrypt(string encodingAesKey, string encrypted)
    {
        var key = Key(encodingAesKey);
        var cipher = Convert.FromBase64String(encrypted);
        if (cipher.Length == 0 || cipher.Length % 16 != 0)
        {
            throw new FormatException("The encrypted text is not a whole number of AES blocks.");
        }

        using var aes = Aes.Create();
        aes.Key = key;
        var plain = aes.DecryptCbc(cipher, key.AsSpan(0, 16), PaddingMode.None);
        var pad = plain[^1];
        if (pad is < 1 or > 32 || pad > plain.Length)
        {
            throw new CryptographicException("The decrypted text has no valid padding (wrong EncodingAESKey?).");
        }

        var content = plain.AsSpan(0, plain.Length - pad);
        if (content.Length < 20)
        {
            throw new FormatException("The decrypted text is too short.");
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(content.Slice(16, 4));
        if (length < 0 || 20 + length > content.Length)
        {
            throw new CryptographicException("The decrypted message length is wrong (wrong EncodingAESKey?).");
        }

        var utf8 = new UTF8Encoding(false, true);
        try
        {
            return (utf8.GetString(content.Slice(20, length)), utf8.GetString(content[(20 + length)..]));
        }
        catch (DecoderFallbackException)
        {
            throw new CryptographicException("The decrypted text is not UTF-8 (wrong EncodingAESKey?).");
        }
    }
}
