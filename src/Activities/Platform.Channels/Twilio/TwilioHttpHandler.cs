namespace Platform.Channels.Twilio;

/// <summary>
/// The message handler under the Twilio SDK's <c>SystemNetHttpClient</c> for one REST call: it forwards the SDK's request
/// to the channel's pooled <see cref="HttpClient"/> (from <c>IHttpClientFactory</c>) with the call's timeout and
/// cancellation token, which the SDK's API does not take; rebases requests for <c>api.twilio.com</c> onto
/// <see cref="TwilioOptions.ApiBaseUrl"/> when that is not Twilio's own (a loopback fake in tests, or a proxy); and
/// remembers the status code and <c>Retry-After</c> of the answer, which the SDK's <c>ApiException</c> does not carry.
/// </summary>
internal sealed class TwilioHttpHandler(HttpClient inner, Uri apiBaseUrl, TimeSpan timeout, TimeProvider time,
    CancellationToken cancellationToken) : HttpMessageHandler
{
    /// <summary>The host the SDK addresses (with no region or edge set).</summary>
    public const string TwilioApiHost = "api.twilio.com";

    /// <summary>The status code of the last answer, or null when none came.</summary>
    public int? LastStatus { get; private set; }

    /// <summary>The <c>Retry-After</c> of the last answer.</summary>
    public TimeSpan? RetryAfter { get; private set; }

    /// <summary>The URL last requested (after rebasing).</summary>
    public Uri? LastUri { get; private set; }

    /// <summary>True when the last request ran out of <c>timeout</c>.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>Where a request for <paramref name="uri"/> goes: unchanged for Twilio's own base URL, otherwise the same
    /// path and query under <paramref name="baseUrl"/>.</summary>
    public static Uri Rebase(Uri uri, Uri baseUrl)
    {
        if (!uri.Host.EndsWith("twilio.com", StringComparison.OrdinalIgnoreCase)
            || string.Equals(baseUrl.Host, TwilioApiHost, StringComparison.OrdinalIgnoreCase) && baseUrl.AbsolutePath == "/")
        {
            return uri;
        }

        var builder = new UriBuilder(baseUrl)
        {
            Path = baseUrl.AbsolutePath.TrimEnd('/') + uri.AbsolutePath,
            Query = uri.Query.TrimStart('?'),
        };
        return builder.Uri;
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken token)
    {
        // The SDK's request went through its own HttpClient already; the pooled client gets a copy.
        LastUri = Rebase(request.RequestUri!, apiBaseUrl);
        using var copy = new HttpRequestMessage(request.Method, LastUri) { Content = request.Content, Version = request.Version };
        foreach (var header in request.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, token);
        linked.CancelAfter(timeout);
        try
        {
            var response = await inner.SendAsync(copy, HttpCompletionOption.ResponseContentRead, linked.Token);
            LastStatus = (int)response.StatusCode;
            RetryAfter = Http.ChannelHttp.RetryAfter(response.Headers, time);
            return response;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !token.IsCancellationRequested)
        {
            TimedOut = true;
            throw;
        }
    }
}
