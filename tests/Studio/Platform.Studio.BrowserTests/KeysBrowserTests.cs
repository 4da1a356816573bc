using System.Net;
using System.Net.Http.Headers;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The Keys page in headless Chromium (issue 16, part 2): an Admin creates a key (shown once, copied), rotates it and revokes
/// it; the API accepts and then refuses the key accordingly.
/// </summary>
public sealed class KeysBrowserTests : IAsyncLifetime
{
    private ServerProcess? _server;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("keys", "/keys", new Dictionary<string, string?>
    {
        ["Platform__Mqtt__EmbeddedPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_Create_Rotate_And_Revoke_A_Key_When_An_Admin_Uses_The_Keys_Page()
    {
        await using var browser = await StudioBrowser.LaunchAsync(_server!.Site);
        var page = browser.Page;
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync(); // "Rotate …?" and "Revoke …?"
        try
        {
            // Act: create a Viewer key.
            await page.GotoAsync(new Uri(_server.Site, $"/keys?key={Uri.EscapeDataString(_server.ApiKey)}").ToString());
            await page.GetByTestId("key-name").WaitForAsync();
            Assert.Equal("page", await page.GetByTestId("nav-keys").GetAttributeAsync("aria-current"));
            await page.GetByTestId("key-name").FillAsync("wall display");
            await page.GetByTestId("key-role").SelectOptionAsync("Viewer");
            await page.GetByTestId("create-key").ClickAsync();

            // Assert: shown once with a Copy button, listed without the secret, accepted by the API as a Viewer.
            var secret = page.GetByTestId("key-secret");
            await Assertions.Expect(secret).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^pk_"));
            var key = await secret.InputValueAsync();
            await page.GetByTestId("copy-key").ClickAsync();
            await Assertions.Expect(page.Locator("#ky-copied")).ToHaveTextAsync("Copied.");
            var row = page.GetByTestId("key-row").Filter(new() { HasText = "wall display" });
            await Assertions.Expect(row).ToContainTextAsync("active");
            await Assertions.Expect(row).ToContainTextAsync("Viewer");
            Assert.DoesNotContain(key, await page.GetByTestId("key-table").InnerTextAsync());
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(key, "/api/channels"));
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(key, "/api/keys"));

            // Rotate: a new secret; the old one is refused.
            var id = await row.GetAttributeAsync("data-key-id");
            await page.GetByTestId("rotate-" + id).ClickAsync();
            await Assertions.Expect(secret).Not.ToHaveValueAsync(key);
            var rotated = await secret.InputValueAsync();
            Assert.StartsWith("pk_", rotated);
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(key, "/api/channels"));
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(rotated, "/api/channels"));

            // Revoke: the row says revoked and the key is refused.
            await page.GetByTestId("revoke-" + id).ClickAsync();
            await Assertions.Expect(row).ToContainTextAsync("revoked");
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync(rotated, "/api/channels"));
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_Create_Rotate_And_Revoke_A_Key_When_An_Admin_Uses_The_Keys_Page));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server.Output);
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }

    private async Task<HttpStatusCode> StatusAsync(string key, string path)
    {
        using var client = new HttpClient { BaseAddress = _server!.Site, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key);
        using var response = await client.GetAsync(path);
        return response.StatusCode;
    }
}
