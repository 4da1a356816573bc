using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Platform.Server.Extensions;

namespace Platform.Server.Infrastructure;

/// <summary>
/// Writes ProblemDetails for error responses that have no body yet (unknown routes, wrong methods, wrong content types,
/// bodies over the limit), with a detail that says what to do.
/// </summary>
internal static class StatusCodeProblems
{
    public static async Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var limit = http.RequestServices.GetRequiredService<IOptions<PlatformOptions>>().Value.Api.MaxRequestBodySize;
        var api = ApiRequestGuard.IsApi(http.Request.Path);
        var detail = status switch
        {
            StatusCodes.Status404NotFound when api =>
                $"No API endpoint matches {http.Request.Method} {http.Request.Path}. Check the path; the Elsa-compatible API lives under /elsa/api.",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Path} does not accept {http.Request.Method}.",
            StatusCodes.Status413PayloadTooLarge =>
                $"The request body is larger than the limit of {limit} bytes. Send a smaller body, or raise Platform:Api:MaxRequestBodySize.",
            StatusCodes.Status415UnsupportedMediaType => "Send the body as JSON with the header 'Content-Type: application/json'.",
            _ => null,
        };
        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = status, Detail = detail },
        });
    }
}
