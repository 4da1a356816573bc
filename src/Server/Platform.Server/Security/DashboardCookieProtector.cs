using System.Globalization;
using System.Security.Cryptography;
using Platform.Activities.Security;

namespace Platform.Server.Security;

/// <summary>
/// The Hangfire dashboard's sign-in cookie: the key and an expiry (12 hours), sealed with the platform's secrets key
/// (<see cref="SecretProtector"/>, AES-GCM), so the raw key is never stored in the browser and every node that shares
/// <c>Platform:Secrets:Key</c> accepts the cookie.
/// </summary>
internal static class DashboardCookieProtector
{
    private const string Purpose = "Platform.HangfireDashboard.Cookie.v1";

    /// <summary>How long a dashboard sign-in lasts.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    public static string Protect(HttpContext context, string key)
    {
        var expires = DateTimeOffset.UtcNow.Add(Lifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return Protector(context).Protect($"{expires}:{key}", Purpose);
    }

    /// <summary>The key in the cookie, or null when the cookie is missing, forged, expired or sealed with another secrets key.</summary>
    public static string? Unprotect(HttpContext context, string? cookie)
    {
        if (string.IsNullOrEmpty(cookie)) return null;
        string plain;
        try
        {
            plain = Protector(context).Unprotect(cookie, Purpose);
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            return null;
        }
        var colon = plain.IndexOf(':', StringComparison.Ordinal);
        return colon > 0
               && long.TryParse(plain.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
               && DateTimeOffset.UtcNow.ToUnixTimeSeconds() < expires
            ? plain[(colon + 1)..]
            : null;
    }

    private static SecretProtector Protector(HttpContext context) => context.RequestServices.GetRequiredService<SecretProtector>();
}
