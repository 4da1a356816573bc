using System.Net;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>The Studio as the real server serves it (plain HTTP, no browser): wiring, bundle, API key contract.</summary>
[Collection(StudioAppCollection.Name)]
public sealed class StudioServerTests(StudioApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_ServeTheStudioPage_When_TheServerRuns()
    {
        using var client = app.CreateClient();
        using var response = await client.GetAsync("/", Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET / answered {(int)response.StatusCode}:\n{html}\n{app.Logs}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("_platform-studio/studio.js", html);
        Assert.DoesNotContain("fonts.googleapis", html);
        Assert.DoesNotContain(app.ApiKey, html);
    }

    [Fact]
    public async Task Should_ServeWasmPrecompressed_When_TheBrowserAcceptsBr()
    {
        using var client = app.CreateClient();
        var bootScript = await client.GetStringAsync("/_framework/dotnet.js", Ct);
        var wasm = System.Text.RegularExpressions.Regex.Match(bootScript, "\"name\":\\s*\"(?<name>dotnet\\.native\\.[a-z0-9]+\\.wasm)\"");
        Assert.True(wasm.Success, "dotnet.js names no dotnet.native.*.wasm");

        using var plain = await client.GetAsync("/_framework/" + wasm.Groups["name"].Value, Ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/_framework/" + wasm.Groups["name"].Value);
        request.Headers.AcceptEncoding.ParseAdd("gzip, deflate, br");
        using var brotli = await client.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal("application/wasm", plain.Content.Headers.ContentType?.MediaType);
        Assert.Empty(plain.Content.Headers.ContentEncoding);
        Assert.Equal(HttpStatusCode.OK, brotli.StatusCode);
        Assert.Equal("application/wasm", brotli.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["br"], brotli.Content.Headers.ContentEncoding);
        Assert.True(brotli.Content.Headers.ContentLength < plain.Content.Headers.ContentLength);
    }

    [Fact]
    public async Task Should_RejectTheApiCall_When_TheKeyIsMissingOrWrong()
    {
        Assert.SkipWhen(app.Backend == StudioBackend.Fake, "the reference fake backend ignores API keys");

        // The sign-in form relies on this: 401 for a wrong key, success for the right one.
        using var anonymous = app.CreateClient();
        using var withoutKey = await anonymous.GetAsync("/elsa/api/features/installed", Ct);
        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/elsa/api/features/installed");
        wrong.Headers.TryAddWithoutValidation("Authorization", "ApiKey not-the-key");
        using var withWrongKey = await anonymous.SendAsync(wrong, Ct);
        using var signedIn = app.CreateClient(withApiKey: true);
        using var withKey = await signedIn.GetAsync("/elsa/api/features/installed", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withWrongKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withKey.StatusCode);
    }
}
