using System.Security.Cryptography;
using System.Text;

namespace Platform.Channels.Twilio;

/// <summary>
/// Twilio's request signature: <c>X-Twilio-Signature = base64(HMAC-SHA1(auth token, full URL + every POST parameter
/// sorted by name, each name followed by its value))</c>.
/// </summary>
public static class TwilioSignature
{
    /// <summary>The signature header.</summary>
    public const string Header = "X-Twilio-Signature";

    /// <summary>Computes the signature of a request to <paramref name="url"/> with form <paramref name="parameters"/>.</summary>
    public static string Compute(string authToken, string url, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var data = new StringBuilder(url);
        foreach (var parameter in parameters.OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal))
        {
            data.Append(parameter.Key).Append(parameter.Value);
        }

        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }

    /// <summary>
    /// Checks a signature in constant time. <paramref name="url"/> must be the URL exactly as Twilio called it (the
    /// public URL, with its query string). As Twilio's own helpers do, the URL is also tried with the default port
    /// added or removed, since proxies differ on whether the port is part of the URL.
    /// </summary>
    public static bool IsValid(string authToken, string? signature, string url, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        if (string.IsNullOrEmpty(signature))
        {
            return false;
        }

        var actual = Encoding.UTF8.GetBytes(signature.Trim());
        foreach (var candidate in UrlVariants(url))
        {
            if (CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Compute(authToken, candidate, parameters)), actual))
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<string> UrlVariants(string url)
    {
        yield return url;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            yield break;
        }

        var builder = new UriBuilder(uri);
        var explicitPort = url.Contains($"{uri.Host}:{uri.Port}", StringComparison.OrdinalIgnoreCase);
        if (explicitPort && uri.IsDefaultPort)
        {
            builder.Port = -1;
            yield return builder.Uri.ToString();
        }
        else if (!explicitPort)
        {
            yield return $"{uri.Scheme}://{uri.Host}:{uri.Port}{uri.PathAndQuery}";
        }
    }
}
