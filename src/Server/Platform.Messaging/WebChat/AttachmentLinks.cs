using System.Globalization;
using System.Security.Cryptography;
using Platform.Activities.Security;
using Platform.Channels;

namespace Platform.Messaging.WebChat;

/// <summary>
/// Signed links to stored attachments for web chat visitors, who have no API key: <c>/chat/files/&lt;token&gt;</c>, the token
/// being the attachment id and an expiry sealed with the platform key (AES-256-GCM through <see cref="SecretProtector"/>), so a
/// link cannot be forged or changed to name another file, works on every node with the same key, and stops working after
/// <see cref="Lifetime"/>. Replies replayed on reconnect get fresh links.
/// </summary>
public sealed class AttachmentLinks(SecretProtector protector, TimeProvider clock)
{
    /// <summary>The route prefix of the links.</summary>
    public const string Prefix = "/chat/files/";

    private const string Purpose = "webchat-file";

    /// <summary>How long a link works.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);

    /// <summary>The link token of attachment <paramref name="id"/>.</summary>
    public string Issue(string id)
    {
        var expires = (clock.GetUtcNow() + Lifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var sealedValue = protector.Protect(id + "." + expires, Purpose);
        return Convert.ToBase64String(Convert.FromBase64String(sealedValue[SecretProtector.Prefix.Length..])).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    /// <summary>The relative URL of attachment <paramref name="id"/>.</summary>
    public string Url(string id) => Prefix + Issue(id);

    /// <summary>The attachment id in a link token, when the token is genuine and not expired.</summary>
    public bool TryRead(string? token, out string id)
    {
        id = "";
        if (string.IsNullOrWhiteSpace(token) || token.Length > 512) return false;
        try
        {
            var s = token.Trim().Replace('-', '+').Replace('_', '/');
            s = s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '=');
            var text = protector.Unprotect(SecretProtector.Prefix + Convert.ToBase64String(Convert.FromBase64String(s)), Purpose);
            var dot = text.IndexOf('.', StringComparison.Ordinal);
            if (dot < 0 || !FileAttachmentStore.IsValidId(text[..dot])
                || !long.TryParse(text.AsSpan(dot + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
                || clock.GetUtcNow() > DateTimeOffset.FromUnixTimeSeconds(Math.Min(expires, 253402300799)))
                return false;
            id = text[..dot];
            return true;
        }
        catch (Exception e) when (e is FormatException or CryptographicException or ArgumentException)
        {
            return false;
        }
    }
}
