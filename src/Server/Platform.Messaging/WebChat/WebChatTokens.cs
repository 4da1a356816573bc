using System.Security.Cryptography;
using Platform.Activities.Security;

namespace Platform.Messaging.WebChat;

/// <summary>
/// Conversation tokens of the web chat. A conversation's chat id is 128 random bits; its token is that id sealed with the
/// platform's secret key (AES-256-GCM through <see cref="SecretProtector"/>, bound to the channel name), in base64url. A
/// token cannot be forged or moved to another channel without the key, and every node with the same keys accepts it.
/// Nothing is stored. A token sealed under a key with an id (<c>Platform:Secrets:Keys:&lt;id&gt;</c>) starts with that id and a
/// '.'; one under the key <c>default</c> has no prefix (as before key ids). So a token survives a key rotation: it is read
/// with the key it names while that key is configured, and the resume issues a fresh one under the active key.
/// A token carries the time it was issued and expires after the channel's <c>tokenLifetime</c> (default
/// <see cref="DefaultLifetime"/>); each resume issues a fresh one, so a conversation in use never expires.
/// </summary>
public sealed class WebChatTokens(SecretProtector protector, TimeProvider clock)
{
    /// <summary>How long a token is accepted after it was issued, unless the channel sets <c>tokenLifetime</c>.</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(30);

    /// <summary>A new random chat id (32 hex digits).</summary>
    public static string NewChatId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The token of a chat on a channel.</summary>
    public string Issue(string channel, string chatId)
    {
        var issued = clock.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var sealedValue = protector.Protect(chatId + "." + issued, AssociatedData(channel));
        if (sealedValue.StartsWith(SecretProtector.Prefix, StringComparison.Ordinal))
            return Base64UrlEncode(Convert.FromBase64String(sealedValue[SecretProtector.Prefix.Length..]));
        var keyId = SecretProtector.KeyIdOf(sealedValue)!;
        return keyId + "." + Base64UrlEncode(Convert.FromBase64String(sealedValue[(SecretProtector.KeyIdPrefix.Length + keyId.Length + 1)..]));
    }

    /// <summary>The chat id a token was issued for on <paramref name="channel"/>; false when it is not a valid token for it,
    /// or was issued longer than <paramref name="lifetime"/> ago (then <paramref name="expired"/> is true).</summary>
    public bool TryRead(string channel, string? token, TimeSpan lifetime, out string chatId, out bool expired)
    {
        chatId = "";
        expired = false;
        if (string.IsNullOrWhiteSpace(token) || token.Length > 512) return false;
        try
        {
            var text = token.Trim();
            var dot = text.IndexOf('.', StringComparison.Ordinal);
            string sealedValue;
            if (dot < 0) sealedValue = SecretProtector.Prefix + Convert.ToBase64String(Base64UrlDecode(text));
            else
            {
                var keyId = text[..dot];
                if (!SecretProtector.IsValidKeyId(keyId) || keyId == SecretProtector.DefaultKeyId || !protector.HasKey(keyId)) return false;
                sealedValue = $"{SecretProtector.KeyIdPrefix}{keyId}:{Convert.ToBase64String(Base64UrlDecode(text[(dot + 1)..]))}";
            }
            var sealedText = protector.Unprotect(sealedValue, AssociatedData(channel));
            // chat id (32 lower-case hex digits), '.', unix seconds issued. Tokens of earlier versions had no time: expired.
            var at = sealedText.IndexOf('.', StringComparison.Ordinal);
            var chat = at < 0 ? sealedText : sealedText[..at];
            if (chat.Length != 32 || !chat.All(char.IsAsciiHexDigitLower)) return false;
            if (at < 0 || !long.TryParse(sealedText.AsSpan(at + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var issued)
                || clock.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(Math.Min(issued, 253402300799)) > lifetime)
            {
                expired = true;
                return false;
            }
            chatId = chat;
            return true;
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            return false;
        }
    }

    private static string AssociatedData(string channel) => $"webchat:{channel}";

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Base64UrlDecode(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
        return Convert.FromBase64String(s);
    }
}
