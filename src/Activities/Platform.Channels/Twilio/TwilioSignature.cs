using System.Security.Cryptography;
using System.Text;
using Twilio.Security;

namespace Platform.Channels.Twilio;

/// <summary>
/// Twilio's request signature (checked with the Twilio SDK): <c>X-Twilio-Signature = base64(HMAC-SHA1(auth token, full URL + every POST parameter
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
    /// Checks a signature with the Twilio SDK's <see cref="RequestValidator"/> (constant-time comparison, and the URL
    /// tried with the default port added and removed, since proxies differ on whether the port is part of the URL).
    /// <paramref name="url"/> must be the URL exactly as Twilio called it (the public URL, with its query string).
    /// Twilio never repeats a parameter of a webhook; a request that does is refused, since the SDK's validator
    /// (a dictionary of parameters) cannot check it.
    /// </summary>
    public static bool IsValid(string authToken, string? signature, string url, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        if (string.IsNullOrEmpty(signature) || string.IsNullOrEmpty(authToken) || !Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            return false;
        }

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in parameters)
        {
            if (!fields.TryAdd(key, value))
            {
                return false;
            }
        }

        return new RequestValidator(authToken).Validate(url, fields, signature.Trim());
    }
}
