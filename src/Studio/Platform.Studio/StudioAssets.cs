using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Platform.Studio;

/// <summary>Our own files (host page, script, style sheet), embedded in this assembly.</summary>
internal sealed class StudioAssets
{
    /// <summary>URL prefix of our own files; outside the bundle's <c>_framework</c>/<c>_content</c>.</summary>
    internal const string Prefix = "/_platform-studio/";

    private static readonly Lazy<string> BundleMissing = new(() => ReadText("bundle-missing.html"));

    private readonly Asset _page = Asset.Load("studio.html", "text/html; charset=utf-8");
    private readonly Dictionary<string, Asset> _files = new(StringComparer.Ordinal)
    {
        ["studio.js"] = Asset.Load("studio.js", "text/javascript; charset=utf-8"),
        ["page-api.js"] = Asset.Load("page-api.js", "text/javascript; charset=utf-8"),
        ["studio.css"] = Asset.Load("studio.css", "text/css; charset=utf-8"),
        ["logo.svg"] = Asset.Load("logo.svg", "image/svg+xml"),
    };

    internal static string BundleMissingTemplate => BundleMissing.Value;

    /// <summary>The host page; identical for every Studio route (the script picks the element from the URL).</summary>
    public Task ServePageAsync(HttpContext context, StudioBundle bundle)
    {
        if (!bundle.IsAvailable)
        {
            return StudioResponses.BundleMissingAsync(context, bundle.RootPath, html: true);
        }

        var headers = context.Response.Headers;
        // The page may be opened with ?key=… (sign-in link); keep that URL out of Referer headers.
        headers["Referrer-Policy"] = "no-referrer";
        headers.XFrameOptions = "SAMEORIGIN";
        return _page.ServeAsync(context);
    }

    public Task ServeFileAsync(HttpContext context, string name) =>
        _files.TryGetValue(name, out var asset) ? asset.ServeAsync(context) : StudioResponses.NotFoundAsync(context);

    private static Stream Open(string name) =>
        typeof(StudioAssets).Assembly.GetManifestResourceStream("Platform.Studio.Assets." + name)
        ?? throw new InvalidOperationException($"Embedded Studio asset '{name}' is missing from {typeof(StudioAssets).Assembly.GetName().Name}.");

    private static string ReadText(string name)
    {
        using var reader = new StreamReader(Open(name));
        return reader.ReadToEnd();
    }

    private sealed class Asset(byte[] content, string contentType)
    {
        private readonly EntityTagHeaderValue _etag =
            new($"\"{Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12))}\"");

        public static Asset Load(string name, string contentType)
        {
            using var stream = Open(name);
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return new Asset(buffer.ToArray(), contentType);
        }

        public Task ServeAsync(HttpContext context)
        {
            var headers = context.Response.Headers;
            headers.CacheControl = "no-cache";
            headers.XContentTypeOptions = "nosniff";
            return TypedResults.File(content, contentType, entityTag: _etag).ExecuteAsync(context);
        }
    }
}
