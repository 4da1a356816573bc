using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Platform.Testing.Fakes;

/// <summary>One request a fake received, with the answer it gave.</summary>
public sealed record RecordedRequest
{
    /// <summary>The HTTP method.</summary>
    public required string Method { get; init; }

    /// <summary>The full URL as requested (encoded), as a signing service sees it.</summary>
    public string Url { get; init; } = "";

    /// <summary>The path (decoded).</summary>
    public required string Path { get; init; }

    /// <summary>The query string including <c>?</c>, or empty.</summary>
    public string Query { get; init; } = "";

    /// <summary>The headers (case-insensitive names; repeated headers joined by commas).</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    /// <summary>The <c>Content-Type</c>, or null.</summary>
    public string? ContentType { get; init; }

    /// <summary>The raw body as text (UTF-8); empty for multipart bodies, see <see cref="Form"/>.</summary>
    public string Body { get; init; } = "";

    /// <summary>Form fields (url-encoded or multipart; files as their file name).</summary>
    public IReadOnlyDictionary<string, string> Form { get; init; } = new Dictionary<string, string>();

    /// <summary>Every form field in order (repeated keys such as Twilio's <c>MediaUrl</c> appear several times).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> FormFields { get; init; } = [];

    /// <summary>The body parsed as JSON, when it is JSON.</summary>
    public JsonNode? Json { get; init; }

    /// <summary>The status the fake answered.</summary>
    public int ResponseStatus { get; set; }

    /// <summary>The body the fake answered.</summary>
    public string ResponseBody { get; set; } = "";

    /// <summary>A header value or null.</summary>
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>The answer a fake writes.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Body">The body.</param>
/// <param name="ContentType">The content type.</param>
/// <param name="Headers">Extra headers.</param>
public sealed record FakeResponse(int Status, string Body, string ContentType = "application/json; charset=utf-8",
    IReadOnlyDictionary<string, string>? Headers = null)
{
    /// <summary>A binary body, written instead of <see cref="Body"/> when set.</summary>
    public byte[]? Bytes { get; init; }

    /// <summary>A body written piece by piece after the headers (server-sent events), instead of <see cref="Body"/>; it
    /// gets the response body and the request's abort token. <see cref="Body"/> is what gets recorded.</summary>
    public Func<Stream, CancellationToken, Task>? Streamed { get; init; }

    /// <summary>A JSON answer.</summary>
    public static FakeResponse Json(int status, JsonNode body, IReadOnlyDictionary<string, string>? headers = null) =>
        new(status, body.ToJsonString(), "application/json; charset=utf-8", headers);
}

/// <summary>
/// The base of the loopback fakes: an in-process Kestrel server on 127.0.0.1 with a free port that records every
/// request and can be told to fail the next calls (429 with <c>Retry-After</c>, 5xx, or a delay longer than the
/// client's timeout).
/// </summary>
public abstract class FakeServer : IAsyncDisposable
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<Func<FakeResponse?>> _faults = new();
    private readonly ConcurrentQueue<TimeSpan> _delays = new();
    private WebApplication? _app;

    /// <summary>The base URL, <c>http://127.0.0.1:&lt;port&gt;/</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Every request received so far, in order.</summary>
    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>A client for sending inbound payloads (to any URL).</summary>
    protected HttpClient Sender { get; } = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>The next <paramref name="count"/> API calls answer 429 in the service's own shape, with
    /// <c>Retry-After: <paramref name="retryAfter"/></c> seconds.</summary>
    public void RespondTooManyRequests(int count, TimeSpan retryAfter)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue(() => TooManyRequests(retryAfter));
        }
    }

    /// <summary>The next <paramref name="count"/> API calls answer <paramref name="status"/> (5xx) in the service's shape.</summary>
    public void RespondServerError(int count, int status = 500)
    {
        for (var i = 0; i < count; i++)
        {
            _faults.Enqueue(() => ServerError(status));
        }
    }

    /// <summary>The next <paramref name="count"/> API calls wait <paramref name="delay"/> before answering (to make a
    /// client time out).</summary>
    public void DelayNext(int count, TimeSpan delay)
    {
        for (var i = 0; i < count; i++)
        {
            _delays.Enqueue(delay);
        }
    }

    /// <summary>Forgets recorded requests.</summary>
    public void ClearRequests() => _requests.Clear();

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Sender.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts Kestrel on 127.0.0.1 with a free port.</summary>
    protected async Task StartServerAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = null);
        _app = builder.Build();
        _app.Run(HandleAsync);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseUrl = new Uri(address.EndsWith('/') ? address : address + "/");
    }

    /// <summary>Answers one API request; the base has already recorded it and applied injected faults.</summary>
    protected abstract Task<FakeResponse> HandleApiAsync(RecordedRequest request, HttpContext context);

    /// <summary>The service's 429 answer.</summary>
    protected abstract FakeResponse TooManyRequests(TimeSpan retryAfter);

    /// <summary>The service's 5xx answer.</summary>
    protected abstract FakeResponse ServerError(int status);

    /// <summary>Whether faults apply to this request (by default all requests).</summary>
    protected virtual bool IsFaultable(RecordedRequest request) => true;

    private async Task HandleAsync(HttpContext context)
    {
        var request = await RecordAsync(context);
        _requests.Enqueue(request);
        FakeResponse response;
        if (IsFaultable(request) && _delays.TryDequeue(out var delay))
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (IsFaultable(request) && _faults.TryDequeue(out var fault) && fault() is { } injected)
        {
            response = injected;
        }
        else
        {
            response = await HandleApiAsync(request, context);
        }

        request.ResponseStatus = response.Status;
        request.ResponseBody = response.Body;
        context.Response.StatusCode = response.Status;
        context.Response.ContentType = response.ContentType;
        foreach (var header in response.Headers ?? new Dictionary<string, string>())
        {
            context.Response.Headers[header.Key] = header.Value;
        }

        if (response.Streamed is { } streamed)
        {
            await context.Response.StartAsync(context.RequestAborted);
            try
            {
                await streamed(context.Response.Body, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The client went away mid-stream.
            }
        }
        else if (response.Bytes is { } bytes)
        {
            await context.Response.Body.WriteAsync(bytes);
        }
        else
        {
            await context.Response.WriteAsync(response.Body, Encoding.UTF8);
        }
    }

    private static async Task<RecordedRequest> RecordAsync(HttpContext context)
    {
        var http = context.Request;
        var headers = http.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var body = "";
        var fields = new List<KeyValuePair<string, string>>();
        JsonNode? json = null;
        if (http.HasFormContentType && http.ContentType?.Contains("multipart/", StringComparison.OrdinalIgnoreCase) == true)
        {
            var form = await http.ReadFormAsync();
            fields.AddRange(form.SelectMany(f => f.Value.Select(v => new KeyValuePair<string, string>(f.Key, v ?? ""))));
            fields.AddRange(form.Files.Select(f => new KeyValuePair<string, string>(f.Name, f.FileName)));
        }
        else
        {
            using var reader = new StreamReader(http.Body, Encoding.UTF8);
            body = await reader.ReadToEndAsync();
            if (http.HasFormContentType)
            {
                fields.AddRange(ParseForm(body));
            }
            else if (http.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
            {
                try
                {
                    json = JsonNode.Parse(body);
                }
                catch (System.Text.Json.JsonException)
                {
                }
            }
        }

        return new RecordedRequest
        {
            Method = http.Method,
            Url = Microsoft.AspNetCore.Http.Extensions.UriHelper.GetEncodedUrl(http),
            Path = http.Path.Value ?? "/",
            Query = http.QueryString.Value ?? "",
            Headers = headers,
            ContentType = http.ContentType,
            Body = body,
            Json = json,
            FormFields = fields,
            Form = fields.GroupBy(f => f.Key).ToDictionary(g => g.Key, g => g.First().Value),
        };
    }

    /// <summary>Parses an url-encoded form body (keys in order, <c>+</c> as space).</summary>
    public static List<KeyValuePair<string, string>> ParseForm(string body) =>
        body.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
        {
            var equals = pair.IndexOf('=');
            static string Decode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));
            return equals < 0
                ? new KeyValuePair<string, string>(Decode(pair), "")
                : new KeyValuePair<string, string>(Decode(pair[..equals]), Decode(pair[(equals + 1)..]));
        }).ToList();

    /// <summary>Reads an HTTP answer fully.</summary>
    protected static async Task<FakeResponse> ReadAsync(HttpResponseMessage response)
    {
        using (response)
        {
            return new FakeResponse((int)response.StatusCode, await response.Content.ReadAsStringAsync(),
                response.Content.Headers.ContentType?.ToString() ?? "");
        }
    }
}
