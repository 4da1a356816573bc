using System.Net.Http.Headers;

namespace Platform.Channels.Http;

/// <summary>An HTTP answer read to the end.</summary>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="Body">The body as text.</param>
/// <param name="RetryAfter">The <c>Retry-After</c> header as a delay, if present.</param>
internal sealed record HttpReply(int StatusCode, string Body, TimeSpan? RetryAfter)
{
    public bool IsSuccess => StatusCode is >= 200 and < 300;
}

/// <summary>Sending requests for the adapters: per-request timeout, and every transport problem turned into a
/// retryable <see cref="SendResult"/> instead of an exception.</summary>
internal static class ChannelHttp
{
    public static async Task<(HttpReply? Reply, SendResult? Failure)> SendAsync(HttpClient http, HttpRequestMessage request,
        TimeSpan timeout, string service, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeoutSource.Token);
            var body = await response.Content.ReadAsStringAsync(timeoutSource.Token);
            return (new HttpReply((int)response.StatusCode, body, RetryAfter(response.Headers, time)), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, new SendResult
            {
                Status = SendStatus.RetryableFailure,
                Error = $"{service} did not answer within {timeout.TotalSeconds:0.#} s ({request.Method} {Describe(request.RequestUri)}).",
                ErrorCode = "timeout",
            });
        }
        catch (HttpRequestException exception)
        {
            return (null, new SendResult
            {
                Status = SendStatus.RetryableFailure,
                Error = $"{service} could not be reached ({request.Method} {Describe(request.RequestUri)}): {exception.Message}",
                ErrorCode = "network",
            });
        }
    }

    /// <summary>A failed HTTP call as a result: 408, 425, 429 and 5xx are retryable, other 4xx permanent.</summary>
    public static SendResult Failure(int statusCode, string error, string? errorCode, TimeSpan? retryAfter) => new()
    {
        Status = statusCode is 408 or 425 or 429 or >= 500 ? SendStatus.RetryableFailure : SendStatus.PermanentFailure,
        Error = error,
        ErrorCode = errorCode,
        HttpStatusCode = statusCode,
        RetryAfter = retryAfter,
    };

    public static TimeSpan? RetryAfter(HttpResponseHeaders headers, TimeProvider time)
    {
        if (headers.RetryAfter is not { } retryAfter)
        {
            return null;
        }

        if (retryAfter.Delta is { } delta)
        {
            return delta;
        }

        if (retryAfter.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>A URL for error messages, with any bot token in the path masked.</summary>
    public static string Describe(Uri? uri)
    {
        if (uri is null)
        {
            return "";
        }

        var path = uri.AbsolutePath;
        var bot = path.IndexOf("/bot", StringComparison.Ordinal);
        if (bot >= 0)
        {
            var end = path.IndexOf('/', bot + 4);
            path = path[..(bot + 4)] + "***" + (end > 0 ? path[end..] : "");
        }

        return $"{uri.Scheme}://{uri.Authority}{path}";
    }

    public static Uri Combine(Uri baseUrl, string relative)
    {
        var text = baseUrl.ToString();
        return new Uri(text.EndsWith('/') ? text + relative : text + "/" + relative);
    }
}

/// <summary>Sends the parts of a message one after another and sums up the outcome.</summary>
internal static class PartSender
{
    public static async Task<SendResult> SendAsync(int totalParts, int skipParts,
        Func<int, CancellationToken, Task<(string? MessageId, SendResult? Failure)>> sendPart, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        var first = Math.Clamp(skipParts, 0, totalParts);
        for (var index = first; index < totalParts; index++)
        {
            var (id, failure) = await sendPart(index, cancellationToken);
            if (failure is not null)
            {
                return failure with { ChannelMessageIds = ids, PartsDelivered = index, TotalParts = totalParts };
            }

            if (id is not null)
            {
                ids.Add(id);
            }
        }

        return new SendResult { Status = SendStatus.Sent, ChannelMessageIds = ids, PartsDelivered = totalParts, TotalParts = totalParts };
    }
}

/// <summary><c>application/x-www-form-urlencoded</c> bodies.</summary>
public static class FormUrlEncoded
{
    /// <summary>Parses a form body into its fields, in order (a repeated key gives several entries).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Parse(string? body)
    {
        var fields = new List<KeyValuePair<string, string>>();
        if (string.IsNullOrEmpty(body))
        {
            return fields;
        }

        foreach (var pair in body.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=');
            var key = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? "" : pair[(equals + 1)..];
            fields.Add(new(Decode(key), Decode(value)));
        }

        return fields;
    }

    /// <summary>Encodes fields as a form body.</summary>
    public static string Encode(IEnumerable<KeyValuePair<string, string>> fields) =>
        string.Join('&', fields.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}"));

    /// <summary>The first value of <paramref name="key"/>, or null.</summary>
    public static string? Get(this IReadOnlyList<KeyValuePair<string, string>> fields, string key)
    {
        foreach (var field in fields)
        {
            if (field.Key == key)
            {
                return field.Value;
            }
        }

        return null;
    }

    private static string Decode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));
}
