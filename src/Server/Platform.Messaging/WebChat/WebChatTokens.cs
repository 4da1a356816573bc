using System.Security.Cryptography;
using Platform.Activities.Security;

namespace Platform.Messaging.WebChat;

/// <summary>
/// Conversation tokens of the web chat. A conversation's chat id is 128 random bits; its token is that id sealed with the
/// platform's secret key (AES-256-GCM through <see cref="SecretProtector"/>, bound to the channel name), in base64url. A
/// token cannot be forged or moved to another channel without the key, and every node with the same key accepts it.
/// Nothing is stored; rotating <c>Platform:Secrets:Key</c> invalidates all tokens (clients start new conversations).
/// </summary>
public sealed class WebChatTokens(SecretProtector protector)
{
    /// <summary>A new random chat id (32 hex digits).</summary>
    public static string NewChatId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The token of a chat on a channel.</summary>
    public string Issue(string channel, string chatId)
    {
        var sealedValue = protector.Protect(chatId, AssociatedData(channel));
        return Base64UrlEncode(Convert.FromBase64String(sealedValue[SecretProtector.Prefix.Length..]));
    }

    /// <summary>The chat id a token was issued for on <paramref name="channel"/>; false when it is not a valid token for it.</summary>
    public bool TryRead(string channel, string? token, out string chatId)
    {
        chatId = "";
        if (string.IsNullOrWhiteSpace(token) || token.Length > 512) return false;
        try
        {
            var bytes = Base64UrlDecode(token.Trim());
            var chat = protector.Unprotect(SecretProtector.Prefix + Convert.ToBase64String(bytes), AssociatedData(channel));
            if (chat.Length != 32 || !chat.All(char.IsAsciiHexDigitLower)) return false;
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
