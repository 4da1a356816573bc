using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Platform.Studio;

/// <summary>The small fixed responses of the Studio host.</summary>
internal static class StudioResponses
{
    internal const string FixHint =
        "Run 'npm ci' in src/Studio/Platform.Studio (it needs the npm registry), then build again so the bundle is " +
        "copied next to the server (dotnet build). Or point Platform__Studio__BundlePath at a folder holding the " +
        "contents of the @elsa-workflows/elsa-studio-wasm npm package.";

    public static Task NotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    /// <summary>503 with instructions: the page (HTML) or a bundle file (plain text) was asked for without a bundle.</summary>
    public static Task BundleMissingAsync(HttpContext context, string bundlePath, bool html)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        if (html)
        {
            response.ContentType = "text/html; charset=utf-8";
            var page = StudioAssets.BundleMissingTemplate
                .Replace("{{bundlePath}}", WebUtility.HtmlEncode(bundlePath), StringComparison.Ordinal);
            return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.WriteAsync(page, Encoding.UTF8);
        }

        response.ContentType = "text/plain; charset=utf-8";
        var text = $"The Elsa Studio bundle is missing (looked in {bundlePath}). {FixHint}\n";
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : response.WriteAsync(text, Encoding.UTF8);
    }
}
