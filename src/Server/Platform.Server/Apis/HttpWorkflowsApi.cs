using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Activities.Core.Http;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Models;

namespace Platform.Server.Apis;

/// <summary>
/// <c>/http/{path}</c>: starts (or resumes) the published workflows whose HTTP Endpoint trigger matches the method and path,
/// and answers with what their HTTP Response activity set, or with the instance's output.
/// </summary>
public static class HttpWorkflowsApi
{
    /// <summary>The base path of workflow HTTP endpoints.</summary>
    public const string BasePath = "/http";

    private static readonly HashSet<string> HiddenHeaders = new(StringComparer.OrdinalIgnoreCase) { "Authorization", "Cookie", "X-Api-Key" };

    public static IEndpointRouteBuilder MapHttpWorkflows(this IEndpointRouteBuilder app)
    {
        app.Map(BasePath + "/{**path}", HandleAsync).AllowAnonymous().WithName("HttpWorkflowEndpoint").ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> HandleAsync(string? path, HttpContext http, IWorkflowRuntime runtime, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(HttpWorkflowsApi));
        var request = http.Request;
        object? body = null;
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync(http.RequestAborted);
            body = text;
            if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true && text.Length > 0)
            {
                try { body = ValueConverter.FromElement(JsonSerializer.Deserialize<JsonElement>(text)); }
                catch (JsonException e)
                {
                    logger.LogInformation("Rejected malformed JSON on {Method} {Path}: {Message}", request.Method, request.Path, e.Message);
                    return Problem(StatusCodes.Status400BadRequest, "Malformed JSON", $"The request body is not valid JSON: {e.Message}");
                }
            }
        }
        var input = new Dictionary<string, object?>
        {
            ["method"] = request.Method, ["path"] = "/" + (path ?? ""), ["body"] = body,
            ["query"] = request.Query.ToDictionary(q => q.Key, q => (object?)q.Value.ToString()),
            ["headers"] = request.Headers.Where(h => !HiddenHeaders.Contains(h.Key)).ToDictionary(h => h.Key, h => (object?)h.Value.ToString()),
        };
        var key = HttpEndpoint.Key(request.Method, path ?? "");
        var results = await runtime.TriggerAsync(new TriggerRequest(HttpEndpoint.TriggerName, key)
        {
            Input = input, CorrelationId = request.Headers["X-Correlation-Id"].FirstOrDefault(),
        }, http.RequestAborted);
        if (results.Count == 0)
        {
            logger.LogInformation("No workflow answers {Key}", key);
            return Problem(StatusCodes.Status404NotFound, "No workflow for this endpoint",
                $"No published workflow has an HTTP Endpoint for {request.Method} {BasePath}/{path}. Publish a workflow whose HTTP Endpoint has Path '{path}' and method {request.Method}.");
        }

        var run = results[0];
        http.Response.Headers[ApiRouting.InstanceIdHeader] = run.InstanceId;
        if (run.Instance.State.Properties.TryGetValue(WriteHttpResponse.ResponseProperty, out var r) && r is IDictionary<string, object?> response)
        {
            var status = response.TryGetValue("statusCode", out var s) && s is not null ? Convert.ToInt32(s, System.Globalization.CultureInfo.InvariantCulture) : 200;
            var content = response.TryGetValue("content", out var c) ? c : null;
            var contentType = response.TryGetValue("contentType", out var ct) ? ct as string : null;
            if (content is string text)
                return Results.Text(text, string.IsNullOrEmpty(contentType) ? "text/plain; charset=utf-8" : contentType, statusCode: status);
            return Results.Json(content, contentType: string.IsNullOrEmpty(contentType) ? null : contentType, statusCode: status);
        }
        if (run.SubStatus == WorkflowSubStatus.Faulted)
            return Problem(StatusCodes.Status500InternalServerError, "The workflow faulted",
                $"{run.Instance.State.Fault?.Message} See the incidents of instance {run.InstanceId} in the Studio.");
        return Results.Json(new { instanceId = run.InstanceId, status = run.Instance.Status.ToString(), subStatus = run.SubStatus.ToString(), output = run.Instance.State.Output });
    }

    private static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(new ProblemDetails { Status = status, Title = title, Detail = detail });
}
