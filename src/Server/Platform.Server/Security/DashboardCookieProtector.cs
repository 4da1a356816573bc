using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace Platform.Server.Security;

/// <summary>
/// The Hangfire dashboard's sign-in cookie: the key encrypted and signed with ASP.NET Core data protection (valid 12 hours),
/// so the raw key is never stored in the browser.
/// </summary>
internal static class DashboardCookieProtector
{
    private const string Purpose = "Platform.HangfireDashboard.Cookie.v1";

    /// <summary>How long a dashboard sign-in lasts.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    public static string Protect(HttpContext context, string key) =>
        Protector(context).ToTimeLimitedDataProtector().Protect(key, Lifetime);

    /// <summary>The key in the cookie, or null when the cookie is missing, forged, expired or from other data protection keys.</summary>
    public static string? Unprotect(HttpContext context, string? cookie)
    {
        if (string.IsNullOrEmpty(cookie)) return null;
        try
        {
            return Protector(context).ToTimeLimitedDataProtector().Unprotect(cookie);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static IDataProtector Protector(HttpContext context) =>
        context.RequestServices.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose);
}
