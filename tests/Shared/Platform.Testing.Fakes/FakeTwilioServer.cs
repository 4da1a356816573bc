using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;

namespace Platform.Testing.Fakes;

/// <summary>A message the fake Twilio accepted.</summary>
public sealed record TwilioCreatedMessage
{
    /// <summary>The <c>SM…</c> sid.</summary>
    public required string Sid { get; init; }

    /// <summary><c>To</c>.</summary>
    public required string To { get; init; }

    /// <summary><c>From</c>, or null with a Messaging Service.</summary>
    public string? From { get; init; }

    /// <summary><c>MessagingServiceSid</c>, or null.</summary>
    public string? MessagingServiceSid { get; init; }

    /// <summary><c>Body</c>, or null for media only.</summary>
    public string? Body { get; init; }

    /// <summary>Every <c>MediaUrl</c>.</summary>
    public IReadOnlyList<string> MediaUrls { get; init; } = [];

    /// <summary><c>StatusCallback</c>, or null.</summary>
    public string? StatusCallback { get; init; }
}

/// <summary>
/// A loopback Twilio REST API for <c>POST /2010-04-01/Accounts/{AccountSid}/Messages.json</c>: basic auth with
/// AccountSid:AuthToken and the path's account (401, code 20003 otherwise), form fields (21604 no To, 21603 no From,
/// 21602 no Body, 21211 invalid To, 21617 over 1600 characters, 21609 a StatusCallback that is not an http(s) URL with a valid host)
/// with Twilio's error JSON. Records each accepted message with its <c>StatusCallback</c>.
/// Sends signed inbound SMS and status callbacks with <see cref="SendIncomingMessageAsync"/> and
/// <see cref="SendStatusCallbackAsync(TwilioCreatedMessage, string, string?, HttpClient?, string?)"/> (to the message's own <c>StatusCallback</c>).
/// </summary>
public sealed class FakeTwilioServer : FakeServer
{
    private static readonly Regex E164 = new(@"^\+[1-9]\d{1,14}$", RegexOptions.Compiled);
    private readonly ConcurrentQueue<TwilioCreatedMessage> _created = new();
    private readonly ConcurrentDictionary<string, (byte[] Content, string ContentType)> _media = new(StringComparer.Ordinal);

    private FakeTwilioServer(string accountSid, string authToken)
    {
        AccountSid = accountSid;
        AuthToken = authToken;
    }

    /// <summary>The account.</summary>
    public string AccountSid { get; }

    /// <summary>The auth token (basic-auth password and signing key).</summary>
    public string AuthToken { get; }

    /// <summary>Messages accepted so far.</summary>
    public IReadOnlyList<TwilioCreatedMessage> CreatedMessages => [.. _created];

    /// <summary>Starts a fake.</summary>
    public static async Task<FakeTwilioServer> StartAsync(string accountSid = "AC0123456789abcdef0123456789abcdef",
        string authToken = "12345678901234567890123456789012")
    {
        var server = new FakeTwilioServer(accountSid, authToken);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Twilio's signature: base64 HMAC-SHA1 over the URL plus the parameters sorted by name, name then value.</summary>
    public static string Sign(string authToken, string url, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var data = new StringBuilder(url);
        foreach (var (key, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal).ThenBy(p => p.Value, StringComparer.Ordinal))
        {
            data.Append(key).Append(value);
        }

        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }

    /// <summary>
    /// POSTs an inbound SMS to <paramref name="url"/> with the parameters Twilio sends and a correct
    /// <c>X-Twilio-Signature</c> (computed over <paramref name="signedUrl"/>, by default the same URL, with
    /// <paramref name="authToken"/>, by default the fake's). Returns the answer (TwiML expected).
    /// </summary>
    public Task<FakeResponse> SendIncomingMessageAsync(Uri url, string from, string to, string body, string? messageSid = null,
        IReadOnlyList<(string Url, string ContentType)>? media = null, string? signedUrl = null, string? authToken = null,
        string? tamperedBody = null)
    {
        var sid = messageSid ?? NewSid("SM");
        var fields = new List<KeyValuePair<string, string>>
        {
            new("ToCountry", "US"), new("ToState", "CA"), new("SmsMessageSid", sid), new("NumMedia", (media?.Count ?? 0).ToString(CultureInfo.InvariantCulture)),
            new("ToCity", "SAN FRANCISCO"), new("FromZip", "94105"), new("SmsSid", sid), new("FromState", "CA"), new("SmsStatus", "received"),
            new("FromCity", "SAN FRANCISCO"), new("Body", body), new("FromCountry", "US"), new("To", to), new("ToZip", "94105"),
            new("NumSegments", "1"), new("MessageSid", sid), new("AccountSid", AccountSid), new("From", from), new("ApiVersion", "2010-04-01"),
        };
        for (var i = 0; i < (media?.Count ?? 0); i++)
        {
            fields.Add(new($"MediaContentType{i}", media![i].ContentType));
            fields.Add(new($"MediaUrl{i}", media[i].Url));
        }

        return PostSignedAsync(url, fields, signedUrl, authToken, tamperedBody);
    }

    /// <summary>
    /// Makes <paramref name="content"/> an inbound MMS media file and returns its <c>MediaUrl</c>
    /// (<c>/2010-04-01/Accounts/{AccountSid}/Messages/{MM…}/Media/{ME…}</c>), served as an account with "HTTP Basic
    /// Authentication for media access" enabled serves it: only with basic auth AccountSid:AuthToken (401, code 20003 otherwise).
    /// </summary>
    public string AddMedia(byte[] content, string contentType)
    {
        ArgumentNullException.ThrowIfNull(content);
        var media = NewSid("ME");
        _media[media] = (content, contentType);
        return new Uri(BaseUrl, $"2010-04-01/Accounts/{AccountSid}/Messages/{NewSid("MM")}/Media/{media}").ToString();
    }

    /// <summary>POSTs a status callback (<c>MessageSid</c>, <c>MessageStatus</c>, optional <c>ErrorCode</c>), signed.</summary>
    public Task<FakeResponse> SendStatusCallbackAsync(Uri url, string messageSid, string status, string? errorCode = null,
        string to = "+15558675310", string from = "+15017122661") =>
        PostSignedAsync(url, StatusFields(messageSid, status, errorCode, to, from), null, null, null);

    /// <summary>
    /// Reports the delivery status of a message this fake accepted, as Twilio does: a POST to the message's <c>StatusCallback</c>
    /// exactly as it was given (query included), signed over that URL with the auth token (<paramref name="authToken"/> to sign
    /// with another one). With <paramref name="through"/>, the request goes to the same path and query on that client's base
    /// address instead (an in-memory test server, as a reverse proxy would forward it). Throws when the message had no
    /// <c>StatusCallback</c>: Twilio would report nothing.
    /// </summary>
    public async Task<FakeResponse> SendStatusCallbackAsync(TwilioCreatedMessage message, string status, string? errorCode = null,
        HttpClient? through = null, string? authToken = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.StatusCallback is not { } callback)
        {
            throw new InvalidOperationException($"Message {message.Sid} was sent without a StatusCallback: Twilio reports no status for it.");
        }

        var fields = StatusFields(message.Sid, status, errorCode, message.To, message.From ?? message.MessagingServiceSid ?? "");
        if (through is null)
        {
            return await PostSignedAsync(new Uri(callback), fields, null, authToken, null);
        }

        using var request = SignedRequest(new Uri(new Uri(callback).PathAndQuery, UriKind.Relative), fields, callback, authToken, null);
        return await ReadAsync(await through.SendAsync(request));
    }

    private List<KeyValuePair<string, string>> StatusFields(string messageSid, string status, string? errorCode, string to, string from)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("SmsSid", messageSid), new("SmsStatus", status), new("MessageStatus", status), new("To", to), new("MessageSid", messageSid),
            new("AccountSid", AccountSid), new("From", from), new("ApiVersion", "2010-04-01"),
        };
        if (errorCode is not null)
        {
            fields.Add(new("ErrorCode", errorCode));
        }

        return fields;
    }

    /// <inheritdoc />
    protected override FakeResponse TooManyRequests(TimeSpan retryAfter) =>
        FakeResponse.Json(429, Error(20429, "Too Many Requests", 429),
            new Dictionary<string, string> { ["Retry-After"] = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture) });

    /// <inheritdoc />
    protected override FakeResponse ServerError(int status) => FakeResponse.Json(status, Error(20500, "Internal Server Error", status));

    /// <inheritdoc />
    protected override Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context)
    {
        var mediaMatch = Regex.Match(request.Path, "^/2010-04-01/Accounts/([^/]+)/Messages/MM[0-9a-f]{32}/Media/(ME[0-9a-f]{32})$");
        if (mediaMatch.Success && request.Method == "GET")
        {
            if (!Authenticated(request.Header("Authorization"), mediaMatch.Groups[1].Value))
            {
                var denied = Error(20003, "Authenticate", 401);
                return Task.FromResult(FakeResponse.Json(401, denied, new Dictionary<string, string> { ["WWW-Authenticate"] = "Basic realm=\"Twilio API\"" }));
            }

            return Task.FromResult(_media.TryGetValue(mediaMatch.Groups[2].Value, out var file)
                ? new FakeResponse(200, "", file.ContentType) { Bytes = file.Content }
                : FakeResponse.Json(404, Error(20404, $"The requested resource {request.Path} was not found", 404)));
        }

        var match = Regex.Match(request.Path, "^/2010-04-01/Accounts/([^/]+)/Messages\\.json$");
        if (!match.Success || request.Method != "POST")
        {
            return Task.FromResult(FakeResponse.Json(404, Error(20404, $"The requested resource {request.Path} was not found", 404)));
        }

        if (!Authenticated(request.Header("Authorization"), match.Groups[1].Value))
        {
            var error = Error(20003, "Authenticate", 401);
            error["detail"] = "Your AccountSid or AuthToken was incorrect.";
            return Task.FromResult(FakeResponse.Json(401, error, new Dictionary<string, string> { ["WWW-Authenticate"] = "Basic realm=\"Twilio API\"" }));
        }

        var form = request.FormFields;
        string? Field(string key) => form.FirstOrDefault(f => f.Key == key).Value;
        var to = Field("To");
        var from = Field("From");
        var service = Field("MessagingServiceSid");
        var body = Field("Body");
        var media = form.Where(f => f.Key == "MediaUrl").Select(f => f.Value).ToList();
        var callback = Field("StatusCallback");
        var failure =
            string.IsNullOrEmpty(to) ? Error(21604, "A 'To' phone number is required.", 400)
            : string.IsNullOrEmpty(from) && string.IsNullOrEmpty(service) ? Error(21603, "A 'From' phone number is required.", 400)
            : string.IsNullOrEmpty(body) && media.Count == 0 ? Error(21602, "Message body is required.", 400)
            : !E164.IsMatch(to) ? Error(21211, $"Invalid 'To' Phone Number: {to}", 400)
            : from is not null && !E164.IsMatch(from) && !Regex.IsMatch(from, "^[A-Za-z0-9 ]{1,11}$") ? Error(21212, $"Invalid 'From' Phone Number: {from}", 400)
            : body?.Length > 1600 ? Error(21617, "The concatenated message body exceeds the 1600 character limit.", 400)
            // Twilio: an http(s) URL with a valid host name, no underscores in the host.
            : callback is not null && !(Uri.TryCreate(callback, UriKind.Absolute, out var cb) && cb.Scheme is "http" or "https"
                                        && cb.Host.Length > 0 && !cb.Host.Contains('_', StringComparison.Ordinal))
                ? Error(21609, "Invalid StatusCallback url", 400)
            : null;
        if (failure is not null)
        {
            return Task.FromResult(FakeResponse.Json(400, failure));
        }

        var sid = NewSid("SM");
        _created.Enqueue(new TwilioCreatedMessage
        {
            Sid = sid,
            To = to!,
            From = from,
            MessagingServiceSid = service,
            Body = body,
            MediaUrls = media,
            StatusCallback = callback,
        });
        var now = DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture);
        return Task.FromResult(FakeResponse.Json(201, new JsonObject
        {
            ["account_sid"] = AccountSid,
            ["api_version"] = "2010-04-01",
            ["body"] = body ?? "",
            ["date_created"] = now,
            ["date_sent"] = null,
            ["date_updated"] = now,
            ["direction"] = "outbound-api",
            ["error_code"] = null,
            ["error_message"] = null,
            ["from"] = from,
            ["messaging_service_sid"] = service,
            ["num_media"] = media.Count.ToString(CultureInfo.InvariantCulture),
            ["num_segments"] = "1",
            ["price"] = null,
            ["price_unit"] = "USD",
            ["sid"] = sid,
            ["status"] = service is null ? "queued" : "accepted",
            ["subresource_uris"] = new JsonObject { ["media"] = $"/2010-04-01/Accounts/{AccountSid}/Messages/{sid}/Media.json" },
            ["to"] = to,
            ["uri"] = $"/2010-04-01/Accounts/{AccountSid}/Messages/{sid}.json",
        }));
    }

    private bool Authenticated(string? header, string pathAccount)
    {
        if (header?.StartsWith("Basic ", StringComparison.Ordinal) != true)
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':');
        return colon > 0 && decoded[..colon] == AccountSid && decoded[(colon + 1)..] == AuthToken && pathAccount == AccountSid;
    }

    private async Task<FakeResponse> PostSignedAsync(Uri url, List<KeyValuePair<string, string>> fields, string? signedUrl, string? authToken,
        string? tamperedBody)
    {
        using var request = SignedRequest(url, fields, signedUrl ?? url.ToString(), authToken, tamperedBody);
        return await ReadAsync(await Sender.SendAsync(request));
    }

    private HttpRequestMessage SignedRequest(Uri url, List<KeyValuePair<string, string>> fields, string signedUrl, string? authToken, string? tamperedBody)
    {
        var body = string.Join('&', fields.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value).Replace("%20", "+", StringComparison.Ordinal)}"));
        var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(tamperedBody ?? body, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Add("X-Twilio-Signature", Sign(authToken ?? AuthToken, signedUrl, fields));
        request.Headers.Add("I-Twilio-Idempotency-Token", Guid.NewGuid().ToString());
        request.Headers.UserAgent.ParseAdd("TwilioProxy/1.1");
        return request;
    }

    private static JsonObject Error(int code, string message, int status) => new()
    {
        ["code"] = code,
        ["message"] = message,
        ["more_info"] = $"https://www.twilio.com/docs/errors/{code.ToString(CultureInfo.InvariantCulture)}",
        ["status"] = status,
    };

    private static string NewSid(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
}
