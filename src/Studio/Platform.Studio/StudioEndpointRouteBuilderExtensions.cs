using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Studio;

/// <summary>Maps the Studio's pages and the Elsa Studio bundle's files.</summary>
public static class StudioEndpointRouteBuilderExtensions
{
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>The routes that answer with the Studio host page.</summary>
    internal static readonly string[] PageRoutes =
    [
        "/",
        "/workflows/definitions",
        "/workflows/definitions/{definitionId}/edit",
        "/workflows/instances",
        "/workflows/instances/{instanceId}/view",
    ];

    /// <summary>Our own pages around the Studio: <c>/{name}</c> serves <c>Assets/{name}.html</c>, which loads <c>{name}.js</c>.</summary>
    internal static readonly string[] OwnPages = ["intents", "channels", "conversations", "devices", "data-sources", "test-console", "templates", "keys", "signin", "users", "audit", "knowledge", "packs"];

    /// <summary>
    /// Maps the Studio at the root of the site:
    /// <list type="bullet">
    /// <item><description>the pages <c>/</c>, <c>/workflows/definitions</c>, <c>/workflows/definitions/{definitionId}/edit</c>,
    /// <c>/workflows/instances</c> and <c>/workflows/instances/{instanceId}/view</c>, each hosting one Elsa Studio
    /// custom element that talks to <c>/elsa/api</c> on the same origin with the API key the user signed in with;</description></item>
    /// <item><description>the bundle's files under <c>/_framework/</c> and <c>/_content/</c> (precompressed variants,
    /// WebAssembly content types, long caching of fingerprinted files), plus our own script and styles under
    /// <c>/_platform-studio/</c>.</description></item>
    /// </list>
    /// All endpoints allow anonymous access: the pages hold no data and the API key lives in the browser only.
    /// When the bundle is missing, the pages answer 503 with instructions. Requires
    /// <see cref="StudioServiceCollectionExtensions.AddStudio"/>; needs no middleware besides routing.
    /// </summary>
    /// <param name="endpoints">The application's endpoint route builder (e.g. the <c>WebApplication</c>).</param>
    /// <returns>The same <paramref name="endpoints"/>, for chaining.</returns>
    /// <exception cref="InvalidOperationException">AddStudio was not called.</exception>
    public static IEndpointRouteBuilder MapStudio(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        var bundle = endpoints.ServiceProvider.GetService<StudioBundle>();
        var assets = endpoints.ServiceProvider.GetService<StudioAssets>();
        if (bundle is null || assets is null)
        {
            throw new InvalidOperationException(
                "The Studio's services are missing: call services.AddStudio() before endpoints.MapStudio().");
        }

        bundle.LogStatus();

        var builders = new List<IEndpointConventionBuilder>();
        foreach (var route in PageRoutes)
        {
            builders.Add(endpoints.MapMethods(route, GetAndHead, context => assets.ServePageAsync(context, bundle)));
        }

        foreach (var folder in (string[])["_framework", "_content"])
        {
            var prefix = folder + "/";
            builders.Add(endpoints.MapMethods($"/{folder}/{{**path}}", GetAndHead,
                context => bundle.ServeAsync(context, prefix + (context.Request.RouteValues["path"] as string ?? ""))));
        }

        foreach (var file in (string[])["Elsa.Studio.Host.CustomElements.styles.css", "appsettings.json"])
        {
            builders.Add(endpoints.MapMethods("/" + file, GetAndHead, context => bundle.ServeAsync(context, file)));
        }

        builders.Add(endpoints.MapMethods(StudioAssets.Prefix + "{name}", GetAndHead,
            context => assets.ServeFileAsync(context, context.Request.RouteValues["name"] as string ?? "")));

        // Our own pages, each an HTML file and a script in Assets/ that call our API with the Studio's key:
        // Intents (/api/intents), Channels (/api/channels, /api/messages), Conversations (/api/conversations, links to the
        // instance viewer), Devices (/api/devices) and Data sources (/api/data-sources).
        foreach (var page in OwnPages)
        {
            builders.Add(endpoints.MapMethods("/" + page, GetAndHead, context => ServePageAsync(context, page)));
            builders.Add(endpoints.MapMethods(StudioAssets.Prefix + page + ".js", GetAndHead,
                context => ServeEmbeddedAsync(context, page + ".js", "text/javascript; charset=utf-8")));
        }

        foreach (var builder in builders)
        {
            builder.AllowAnonymous().ExcludeFromDescription();
        }

        return endpoints;
    }

    /// <summary>
    /// Serves one of our pages: <c>Assets/{page}.html</c> holds its <c>&lt;title&gt;</c> on the first line and then its body;
    /// <c>Assets/page-layout.html</c> is the one head, navigation bar and script list around it (rendered once per page).
    /// </summary>
    private static async Task ServePageAsync(HttpContext context, string page)
    {
        var html = RenderedPages.GetOrAdd(page, static name =>
        {
            var fragment = ReadEmbedded(name + ".html").Replace("\r\n", "\n");
            var firstLine = fragment.IndexOf('\n');
            var title = firstLine < 0 ? fragment : fragment[..firstLine];
            var body = firstLine < 0 ? "" : fragment[(firstLine + 1)..].Trim('\n');
            return Encoding.UTF8.GetBytes(ReadEmbedded("page-layout.html")
                .Replace("<!--title-->", title.Trim()).Replace("<!--page-->", name).Replace("<!--body-->", body));
        });
        SetPageHeaders(context, "text/html; charset=utf-8");
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await context.Response.Body.WriteAsync(html, context.RequestAborted);
    }

    private static readonly ConcurrentDictionary<string, byte[]> RenderedPages = new(StringComparer.Ordinal);

    private static string ReadEmbedded(string name)
    {
        using var stream = typeof(StudioAssets).Assembly.GetManifestResourceStream("Platform.Studio.Assets." + name)
            ?? throw new InvalidOperationException($"Embedded Studio asset '{name}' is missing from Platform.Studio.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static void SetPageHeaders(HttpContext context, string contentType)
    {
        context.Response.ContentType = contentType;
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
    }

    private static async Task ServeEmbeddedAsync(HttpContext context, string name, string contentType)
    {
        await using var stream = typeof(StudioAssets).Assembly.GetManifestResourceStream("Platform.Studio.Assets." + name)
            ?? throw new InvalidOperationException($"Embedded Studio asset '{name}' is missing from Platform.Studio.");
        SetPageHeaders(context, contentType);
        if (HttpMethods.IsHead(context.Request.Method)) return;
        await stream.CopyToAsync(context.Response.Body, context.RequestAborted);
    }
}
