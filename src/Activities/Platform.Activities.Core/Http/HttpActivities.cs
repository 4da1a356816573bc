using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Platform.Activities;

namespace Platform.Activities.Core.Http;

/// <summary>Starts a workflow when an HTTP request arrives at <c>/http/{path}</c> (anonymous: check headers in the workflow when needed).</summary>
[Activity("Elsa", "HTTP", "Starts the workflow when an HTTP request arrives at /http/{Path}.", Kind = ActivityKind.Trigger, DisplayName = "HTTP Endpoint")]
public sealed class HttpEndpoint : Activity, ITrigger
{
    /// <summary>The trigger and bookmark name.</summary>
    public const string TriggerName = "Elsa.HttpEndpoint";

    /// <summary>The path below /http, for example <c>orders</c>.</summary>
    [Input(Description = "The path below /http, e.g. 'orders' answers /http/orders.")]
    public Input<string> Path { get; set; } = new("");

    /// <summary>The HTTP methods.</summary>
    [Input(Description = "The HTTP methods, e.g. GET, POST.", UIHint = UIHints.MultiText)]
    public Input<string[]> SupportedMethods { get; set; } = new(["GET"]);

    /// <summary>The request body (JSON parsed, or text).</summary>
    [Output] public Output<object?> Body { get; set; } = new();

    /// <summary>The query string.</summary>
    [Output] public Output<IDictionary<string, object?>> QueryString { get; set; } = new();

    /// <summary>The request headers.</summary>
    [Output] public Output<IDictionary<string, object?>> Headers { get; set; } = new();

    /// <summary>The trigger key of a method and path: <c>POST:/orders</c>.</summary>
    public static string Key(string method, string path) => $"{method.ToUpperInvariant()}:/{path.Trim().Trim('/').ToLowerInvariant()}";

    /// <inheritdoc />
    public IEnumerable<string?> GetTriggerKeys(TriggerIndexContext context)
    {
        var path = context.Get(Path) ?? "";
        var methods = context.Get(SupportedMethods) is { Length: > 0 } m ? m : ["GET"];
        return methods.Select(method => (string?)Key(method, path));
    }

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        if (context.IsTriggerOfWorkflow)
        {
            SetOutputs(context, context.WorkflowInput);
            context.Complete();
        }
        else
        {
            var methods = SupportedMethods.Get(context) is { Length: > 0 } m ? m : ["GET"];
            context.CreateBookmark(new BookmarkRequest(TriggerName, Key(methods[0], Path.Get(context) ?? "")));
        }
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        SetOutputs(context, context.ResumeInput);
        context.Complete();
        return ValueTask.CompletedTask;
    }

    private void SetOutputs(ActivityExecutionContext context, IReadOnlyDictionary<string, object?> input)
    {
        Body.Set(context, input.GetValueOrDefault("body"));
        QueryString.Set(context, input.GetValueOrDefault("query") as IDictionary<string, object?> ?? new Dictionary<string, object?>());
        Headers.Set(context, input.GetValueOrDefault("headers") as IDictionary<string, object?> ?? new Dictionary<string, object?>());
    }
}

/// <summary>Sets the response to the HTTP request that triggered the workflow.</summary>
[Activity("Elsa", "HTTP", "Sets the response of the HTTP request that started the workflow.", DisplayName = "HTTP Response")]
public sealed class WriteHttpResponse : Activity
{
    /// <summary>The instance property that carries the response to the HTTP host.</summary>
    public const string ResponseProperty = "httpResponse";

    /// <summary>The status code.</summary>
    [Input(Description = "The HTTP status code.")]
    public Input<int> StatusCode { get; set; } = new(200);

    /// <summary>The content: text, or an object written as JSON.</summary>
    [Input(Description = "The response content (text, or an object written as JSON).", UIHint = UIHints.MultiLine)]
    public Input<object?> Content { get; set; } = new((object?)null);

    /// <summary>The content type.</summary>
    [Input(Description = "The content type; defaults to application/json for objects and text/plain for text.")]
    public Input<string> ContentType { get; set; } = new("");

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        context.Properties[ResponseProperty] = new Dictionary<string, object?>
        {
            ["statusCode"] = StatusCode.Get(context), ["content"] = Content.Get(context), ["contentType"] = ContentType.Get(context),
        };
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Sends an HTTP request. Done on 2xx; Failed on other status codes, timeouts and connection errors. Its type name is
/// <c>Platform.SendHttpRequest</c>: Elsa Studio draws <c>Elsa.SendHttpRequest</c> with embedded drop slots this activity does
/// not run; workflows saved with that old name still resolve to this activity.
/// </summary>
[Activity("Platform", "HTTP", "Sends an HTTP request.", DisplayName = "HTTP Request", Kind = ActivityKind.Task)]
[FlowNode("Done", "Failed")]
public sealed class SendHttpRequest : Activity
{
    private static readonly HttpClient SharedClient = new() { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

    /// <summary>The URL.</summary>
    [Input(Description = "The absolute URL.")]
    public Input<string> Url { get; set; } = new("");

    /// <summary>The method.</summary>
    [Input(Description = "The HTTP method.", Options = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])]
    public Input<string> Method { get; set; } = new("GET");

    /// <summary>The body: text, or an object sent as JSON.</summary>
    [Input(Description = "The request body (text, or an object sent as JSON).", UIHint = UIHints.MultiLine)]
    public Input<object?> Content { get; set; } = new((object?)null);

    /// <summary>The body's content type.</summary>
    [Input(Description = "The body's content type; objects default to application/json.")]
    public Input<string> ContentType { get; set; } = new("");

    /// <summary>Extra request headers.</summary>
    [Input(Description = "Request headers as a JSON object.", UIHint = UIHints.JsonEditor)]
    public Input<IDictionary<string, object?>> RequestHeaders { get; set; } = new((IDictionary<string, object?>)new Dictionary<string, object?>());

    /// <summary>The timeout.</summary>
    [Input(Description = "The timeout, e.g. 30s.")]
    public Input<TimeSpan> Timeout { get; set; } = new(TimeSpan.FromSeconds(30));

    /// <summary>The status code.</summary>
    [Output] public Output<int> StatusCode { get; set; } = new();

    /// <summary>The response body (JSON parsed, else text).</summary>
    [Output] public Output<object?> ResponseContent { get; set; } = new();

    /// <summary>The response headers.</summary>
    [Output] public Output<IDictionary<string, object?>> ResponseHeaders { get; set; } = new();

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var url = Url.Get(context);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new ActivityFaultException(FaultCodes.Configuration, $"'{url}' is not an absolute http(s) URL. Set the URL input, e.g. https://example.com/api.", nonRetryable: true);
        var client = (context.GetService(typeof(IHttpClientFactory)) as IHttpClientFactory)?.CreateClient(nameof(SendHttpRequest)) ?? SharedClient;
        using var request = new HttpRequestMessage(new HttpMethod(Method.Get(context) ?? "GET"), uri);
        var content = Content.Get(context);
        var contentType = ContentType.Get(context);
        if (content is not null)
        {
            var isText = content is string;
            request.Content = new StringContent(isText ? (string)content : JsonSerializer.Serialize(content), Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(string.IsNullOrEmpty(contentType) ? (isText ? "text/plain" : "application/json") : contentType);
        }
        foreach (var (k, v) in RequestHeaders.Get(context) ?? new Dictionary<string, object?>())
            request.Headers.TryAddWithoutValidation(k, v?.ToString());

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(Timeout.Get(context) is { } t && t > TimeSpan.Zero ? t : TimeSpan.FromSeconds(30));
        try
        {
            using var response = await client.SendAsync(request, cts.Token);
            var body = await response.Content.ReadAsStringAsync(cts.Token);
            object? parsed = body;
            if (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true && body.Length > 0)
            {
                try { parsed = JsonSerializer.Deserialize<JsonElement>(body); } catch (JsonException) { }
            }
            StatusCode.Set(context, (int)response.StatusCode);
            ResponseContent.Set(context, parsed);
            ResponseHeaders.Set(context, response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => (object?)string.Join(",", h.Value)));
            context.Complete(response.IsSuccessStatusCode ? "Done" : "Failed");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !context.CancellationToken.IsCancellationRequested)
        {
            context.AddJournalData("error", e is TaskCanceledException ? "The request timed out." : e.Message);
            context.Complete("Failed");
        }
    }
}
