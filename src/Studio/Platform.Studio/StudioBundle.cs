using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace Platform.Studio;

/// <summary>
/// Locates the Elsa Studio bundle on disk and serves its files: content types for the Blazor WebAssembly
/// file kinds, the precompressed <c>.br</c>/<c>.gz</c> siblings when the client accepts them, long caching for
/// fingerprinted files and revalidation (ETag) for the rest.
/// </summary>
internal sealed partial class StudioBundle
{
    /// <summary>A file every complete bundle has; its absence means npm did not run or failed.</summary>
    internal const string MarkerFile = "_framework/blazor.webassembly.js";

    internal const string ImmutableCacheControl = "public, max-age=31536000, immutable";
    internal const string RevalidateCacheControl = "no-cache";

    private static readonly FileExtensionContentTypeProvider ContentTypes = CreateContentTypes();

    private readonly ILogger<StudioBundle> _logger;
    private readonly Lock _gate = new();
    private PhysicalFileProvider? _files;

    public StudioBundle(IOptions<StudioOptions> options, ILogger<StudioBundle> logger)
    {
        _logger = logger;
        var configured = options.Value.BundlePath;
        RootPath = string.IsNullOrWhiteSpace(configured)
            ? Path.Combine(AppContext.BaseDirectory, "studio")
            : Path.GetFullPath(configured, AppContext.BaseDirectory);
    }

    /// <summary>Absolute directory the bundle is served from.</summary>
    public string RootPath { get; }

    /// <summary>Whether the bundle is present (checked again on each call while it is missing).</summary>
    public bool IsAvailable => TryGetFiles(out _);

    public void LogStatus()
    {
        if (IsAvailable)
        {
            _logger.LogInformation("Studio: serving the Elsa Studio bundle from {BundlePath}", RootPath);
        }
        else
        {
            _logger.LogWarning(
                "Studio: the Elsa Studio bundle was not found in {BundlePath}; the Studio pages answer 503. " +
                "Run 'npm ci' in src/Studio/Platform.Studio and build again, or set Platform__Studio__BundlePath.",
                RootPath);
        }
    }

    private bool TryGetFiles(out PhysicalFileProvider files)
    {
        files = Volatile.Read(ref _files)!;
        if (files is not null)
        {
            return true;
        }

        if (!File.Exists(Path.Combine(RootPath, MarkerFile)))
        {
            return false;
        }

        lock (_gate)
        {
            _files ??= new PhysicalFileProvider(RootPath, ExclusionFilters.Sensitive);
            files = _files;
            return true;
        }
    }

    /// <summary>Serves <paramref name="relativePath"/> (relative to the bundle root, '/'-separated).</summary>
    public Task ServeAsync(HttpContext context, string relativePath)
    {
        if (!TryGetFiles(out var files))
        {
            return StudioResponses.BundleMissingAsync(context, RootPath, html: false);
        }

        if (relativePath.Length == 0 || relativePath.Contains('\\') || relativePath.Contains("..", StringComparison.Ordinal))
        {
            return StudioResponses.NotFoundAsync(context);
        }

        var file = files.GetFileInfo(relativePath);
        if (!file.Exists || file.IsDirectory || file.PhysicalPath is null)
        {
            return StudioResponses.NotFoundAsync(context);
        }

        var (served, encoding, hasVariants) = ChooseRepresentation(context.Request, files, relativePath, file);
        var headers = context.Response.Headers;
        if (hasVariants)
        {
            headers.Vary = HeaderNames.AcceptEncoding;
        }

        if (encoding is not null)
        {
            headers.ContentEncoding = encoding;
        }

        headers.CacheControl = IsFingerprinted(relativePath) ? ImmutableCacheControl : RevalidateCacheControl;
        headers.XContentTypeOptions = "nosniff";

        var etag = new EntityTagHeaderValue(
            $"\"{served.Length:x}-{served.LastModified.UtcTicks:x}{(encoding is null ? "" : "-" + encoding)}\"");
        var result = TypedResults.PhysicalFile(
            served.PhysicalPath!,
            GetContentType(relativePath),
            lastModified: served.LastModified,
            entityTag: etag,
            enableRangeProcessing: encoding is null);
        return result.ExecuteAsync(context);
    }

    private static (IFileInfo File, string? Encoding, bool HasVariants) ChooseRepresentation(
        HttpRequest request, IFileProvider files, string relativePath, IFileInfo identity)
    {
        var brotli = files.GetFileInfo(relativePath + ".br");
        var gzip = files.GetFileInfo(relativePath + ".gz");
        var hasVariants = brotli.Exists || gzip.Exists;
        if (!hasVariants)
        {
            return (identity, null, false);
        }

        var acceptEncoding = request.Headers.AcceptEncoding;
        if (brotli.Exists && brotli.PhysicalPath is not null && Accepts(acceptEncoding, "br"))
        {
            return (brotli, "br", true);
        }

        if (gzip.Exists && gzip.PhysicalPath is not null && Accepts(acceptEncoding, "gzip"))
        {
            return (gzip, "gzip", true);
        }

        return (identity, null, true);
    }

    /// <summary>Whether the Accept-Encoding header allows <paramref name="coding"/> (q &gt; 0, explicitly or by '*').</summary>
    internal static bool Accepts(StringValues acceptEncoding, string coding)
    {
        if (StringValues.IsNullOrEmpty(acceptEncoding)
            || !StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var values))
        {
            return false;
        }

        double? explicitQuality = null;
        double? wildcardQuality = null;
        foreach (var value in values)
        {
            if (value.Value.Equals(coding, StringComparison.OrdinalIgnoreCase))
            {
                explicitQuality = value.Quality ?? 1;
            }
            else if (value.Value.Equals("*", StringComparison.Ordinal))
            {
                wildcardQuality = value.Quality ?? 1;
            }
        }

        return (explicitQuality ?? wildcardQuality ?? 0) > 0;
    }

    /// <summary>
    /// Whether the file name carries a content fingerprint (Blazor's 10-character base-36 hash, e.g.
    /// <c>dotnet.native.b6l13xorvf.js</c>), so its content never changes and it may be cached for a year.
    /// Outside <c>_framework</c> the hash must contain a digit, so that ordinary ten-letter words do not qualify.
    /// </summary>
    internal static bool IsFingerprinted(string relativePath)
    {
        var name = relativePath[(relativePath.LastIndexOf('/') + 1)..];
        return relativePath.StartsWith("_framework/", StringComparison.Ordinal)
            ? FrameworkFingerprint().IsMatch(name)
            : ContentFingerprint().IsMatch(name);
    }

    internal static string GetContentType(string relativePath) =>
        ContentTypes.TryGetContentType(relativePath, out var contentType) ? contentType : "application/octet-stream";

    private static FileExtensionContentTypeProvider CreateContentTypes()
    {
        var provider = new FileExtensionContentTypeProvider();
        var map = provider.Mappings;
        map[".wasm"] = "application/wasm";
        map[".dll"] = "application/octet-stream";
        map[".pdb"] = "application/octet-stream";
        map[".dat"] = "application/octet-stream";
        map[".blat"] = "application/octet-stream";
        map[".webcil"] = "application/octet-stream";
        map[".js"] = "text/javascript";
        map[".mjs"] = "text/javascript";
        map[".json"] = "application/json";
        map[".map"] = "application/json";
        map[".css"] = "text/css";
        map[".woff"] = "font/woff";
        map[".woff2"] = "font/woff2";
        map[".ttf"] = "font/ttf";
        map[".webmanifest"] = "application/manifest+json";
        map[".cur"] = "image/x-icon";
        map[".ico"] = "image/x-icon";
        map[".scss"] = "text/plain";
        return provider;
    }

    [GeneratedRegex(@"\.[a-z0-9]{10}\.[A-Za-z0-9.]+$")]
    private static partial Regex FrameworkFingerprint();

    [GeneratedRegex(@"\.(?=[a-z]*[0-9])[a-z0-9]{10}\.[A-Za-z0-9.]+$")]
    private static partial Regex ContentFingerprint();
}
