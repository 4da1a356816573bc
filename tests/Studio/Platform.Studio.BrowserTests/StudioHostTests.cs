using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>The Studio library on its own (AddStudio + MapStudio in a bare host): pages, bundle files, encodings, caching.</summary>
public sealed partial class StudioHostTests(StudioHostTests.Host host) : IClassFixture<StudioHostTests.Host>
{
    /// <summary>A bare Kestrel host with only the Studio, serving the bundle copied into the test output.</summary>
    public sealed class Host : IAsyncLifetime
    {
        private InProcessStudioHost? _host;

        public Uri BaseAddress => _host!.BaseAddress;

        public async ValueTask InitializeAsync() => _host = await InProcessStudioHost.StartAsync();

        public async ValueTask DisposeAsync()
        {
            if (_host is not null)
            {
                await _host.DisposeAsync();
            }
        }
    }

    private static readonly string BundleDirectory = Path.Combine(AppContext.BaseDirectory, "studio");

    private HttpClient Client()
    {
        Assert.True(File.Exists(Path.Combine(BundleDirectory, "_framework", "blazor.webassembly.js")),
            $"The Studio bundle was not copied to {BundleDirectory}: did 'npm ci' in src/Studio/Platform.Studio fail during the build?");
        return new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = host.BaseAddress,
        };
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string FrameworkFile(string pattern) =>
        Path.GetFileName(Directory.GetFiles(Path.Combine(BundleDirectory, "_framework"), pattern).OrderBy(f => f, StringComparer.Ordinal).First());

    [Theory]
    [InlineData("/")]
    [InlineData("/workflows/definitions")]
    [InlineData("/workflows/definitions/")]
    [InlineData("/workflows/definitions/3f2a9c/edit")]
    [InlineData("/workflows/instances")]
    [InlineData("/workflows/instances/7b1e44/view")]
    public async Task Should_ServeTheHostPage_When_AStudioRouteIsRequested(string path)
    {
        using var client = Client();
        using var response = await client.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.Contains("<base href=\"/\">", html);
        Assert.Contains("_platform-studio/studio.js", html);
        Assert.Contains("no-cache", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Should_NotEchoTheKey_When_ThePageIsOpenedWithASignInLink()
    {
        using var client = Client();
        var html = await client.GetStringAsync("/workflows/definitions?key=S3CRET-KEY-123", Ct);

        Assert.DoesNotContain("S3CRET-KEY-123", html);
        Assert.DoesNotContain("api-key=", html);
    }

    [Fact]
    public async Task Should_ServeOurScriptAndStyles_When_TheyAreRequested()
    {
        using var client = Client();
        using var script = await client.GetAsync("/_platform-studio/studio.js", Ct);
        using var styles = await client.GetAsync("/_platform-studio/studio.css", Ct);
        using var missing = await client.GetAsync("/_platform-studio/nope.js", Ct);

        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);
        Assert.Contains("customElements.whenDefined", await script.Content.ReadAsStringAsync(Ct));
        Assert.Equal("text/css", styles.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Should_ServeWasmAsApplicationWasm_When_NoCompressionIsAccepted()
    {
        var name = FrameworkFile("dotnet.native.*.wasm");
        using var client = Client();
        using var response = await client.GetAsync("/_framework/" + name, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/wasm", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(response.Content.Headers.ContentEncoding);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(BundleDirectory, "_framework", name), Ct), body);
    }

    [Fact]
    public async Task Should_ServeThePrecompressedBrotliFile_When_TheBrowserAcceptsBr()
    {
        var name = FrameworkFile("dotnet.native.*.wasm");
        using var client = Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_framework/" + name);
        request.Headers.AcceptEncoding.ParseAdd("gzip, deflate, br, zstd");
        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["br"], response.Content.Headers.ContentEncoding);
        Assert.Equal("application/wasm", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        var original = await File.ReadAllBytesAsync(Path.Combine(BundleDirectory, "_framework", name), Ct);
        var compressed = await response.Content.ReadAsByteArrayAsync(Ct);
        Assert.True(compressed.Length < original.Length / 2, $"expected the .br file, got {compressed.Length} of {original.Length} bytes");
        await using var brotli = new BrotliStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var decoded = new MemoryStream();
        await brotli.CopyToAsync(decoded, Ct);
        Assert.Equal(original, decoded.ToArray());
    }

    [Fact]
    public async Task Should_ServeGzip_When_OnlyGzipIsAccepted()
    {
        using var client = Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_framework/dotnet.js");
        request.Headers.AcceptEncoding.ParseAdd("gzip, br;q=0");
        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(["gzip"], response.Content.Headers.ContentEncoding);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("dotnet.native.*.wasm", "application/wasm")]
    [InlineData("icudt.*.dat", "application/octet-stream")]
    [InlineData("dotnet.runtime.*.js", "text/javascript")]
    [InlineData("System.Private.CoreLib.*.wasm", "application/wasm")]
    public async Task Should_SendTheRightContentType_When_AFrameworkFileIsServed(string pattern, string contentType)
    {
        using var client = Client();
        using var request = new HttpRequestMessage(HttpMethod.Head, "/_framework/" + FrameworkFile(pattern));
        using var response = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Theory]
    [InlineData("/_content/Radzen.Blazor/fonts/RobotoFlex.woff2", "font/woff2")]
    [InlineData("/_content/MudBlazor/MudBlazor.min.css", "text/css")]
    [InlineData("/Elsa.Studio.Host.CustomElements.styles.css", "text/css")]
    [InlineData("/appsettings.json", "application/json")]
    public async Task Should_SendTheRightContentType_When_AContentFileIsServed(string path, string contentType)
    {
        using var client = Client();
        using var response = await client.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Should_CacheForAYear_When_TheFileNameIsFingerprinted()
    {
        using var client = Client();
        using var fingerprinted = await client.GetAsync("/_framework/" + FrameworkFile("dotnet.native.*.wasm"), Ct);
        using var plain = await client.GetAsync("/_framework/dotnet.js", Ct);

        Assert.Equal("public, max-age=31536000, immutable", fingerprinted.Headers.CacheControl?.ToString());
        Assert.True(plain.Headers.CacheControl?.NoCache, "dotnet.js names the fingerprinted files, so it must be revalidated");
        Assert.NotNull(plain.Headers.ETag);

        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/_framework/dotnet.js");
        revalidate.Headers.IfNoneMatch.Add(plain.Headers.ETag!);
        using var notModified = await client.SendAsync(revalidate, Ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
    }

    [Fact]
    public async Task Should_NotReferenceGoogleFonts_When_ServingThePageAndItsStyleSheets()
    {
        using var client = Client();
        var html = await client.GetStringAsync("/", Ct);
        Assert.DoesNotContain("fonts.googleapis", html);
        Assert.DoesNotContain("fonts.gstatic", html);

        // Every style sheet the page links, and what they @import, as served.
        var pending = new Queue<string>(LinkedStyleSheet().Matches(html).Select(m => m.Groups["href"].Value));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (pending.TryDequeue(out var href))
        {
            if (!seen.Add(href))
            {
                continue;
            }

            using var response = await client.GetAsync("/" + href.TrimStart('/'), Ct);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{href}: {response.StatusCode}");
            var css = await response.Content.ReadAsStringAsync(Ct);
            Assert.DoesNotContain("fonts.googleapis", css);
            Assert.DoesNotContain("fonts.gstatic", css);
            Assert.DoesNotMatch(RemoteUrl(), css);
            foreach (Match import in CssImport().Matches(css))
            {
                pending.Enqueue(import.Groups["href"].Value);
            }
        }

        Assert.True(seen.Count >= 6, $"expected the page's style sheets and their imports, saw {seen.Count}");
    }

    [Fact]
    public async Task Should_Answer404_When_APathTriesToLeaveTheBundle()
    {
        using var client = Client();
        using var response = await client.GetAsync("/_content/..%2F..%2FPlatform.Studio.dll", Ct);
        using var missing = await client.GetAsync("/_framework/does-not-exist.wasm", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Should_Answer503WithInstructions_When_TheBundleIsMissing()
    {
        var empty = TestPaths.NewTempDirectory("studio-no-bundle");
        try
        {
            await using var bare = await InProcessStudioHost.StartAsync(bundlePath: empty);
            using var client = new HttpClient { BaseAddress = bare.BaseAddress };
            using var page = await client.GetAsync("/workflows/definitions", Ct);
            using var file = await client.GetAsync("/_framework/dotnet.js", Ct);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
            var html = await page.Content.ReadAsStringAsync(Ct);
            Assert.Contains("npm ci", html);
            Assert.Contains("src/Studio/Platform.Studio", html);
            Assert.Contains(WebUtility.HtmlEncode(empty), html);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, file.StatusCode);
            Assert.Contains("npm ci", await file.Content.ReadAsStringAsync(Ct));
        }
        finally
        {
            TestPaths.TryDelete(empty);
        }
    }

    [Theory]
    [InlineData("gzip, deflate, br, zstd", "br", true)]
    [InlineData("gzip, deflate", "br", false)]
    [InlineData("br;q=0, gzip", "br", false)]
    [InlineData("*", "br", true)]
    [InlineData("*;q=0.5, br;q=0", "br", false)]
    [InlineData("BR;q=0.1", "br", true)]
    [InlineData("", "gzip", false)]
    public void Should_HonourQualityValues_When_ReadingAcceptEncoding(string header, string coding, bool accepted) =>
        Assert.Equal(accepted, StudioBundle.Accepts(header, coding));

    [Theory]
    [InlineData("_framework/dotnet.native.b6l13xorvf.js", true)]
    [InlineData("_framework/System.Linq.zrgapkccbx.wasm", true)]
    [InlineData("_framework/de/Elsa.Studio.resources.abc12defgh.wasm", true)]
    [InlineData("_framework/dotnet.js", false)]
    [InlineData("_framework/blazor.webassembly.js", false)]
    [InlineData("_content/Elsa.Studio.Workflows/Elsa.Studio.Workflows.3ifuhex2gd.bundle.scp.css", true)]
    [InlineData("_content/MudBlazor/MudBlazor.min.css", false)]
    [InlineData("_content/Elsa.Studio.Workflows.Designer/designer.entry.js", false)]
    public void Should_RecogniseFingerprints_When_DecidingHowLongToCache(string path, bool fingerprinted) =>
        Assert.Equal(fingerprinted, StudioBundle.IsFingerprinted(path));

    [GeneratedRegex("<link[^>]+rel=\"stylesheet\"[^>]+href=\"(?<href>[^\"]+)\"")]
    private static partial Regex LinkedStyleSheet();

    [GeneratedRegex("@import\\s+(?:url\\()?['\"](?<href>[^'\"]+)['\"]")]
    private static partial Regex CssImport();

    [GeneratedRegex(@"url\(\s*['""]?https?://")]
    private static partial Regex RemoteUrl();
}
