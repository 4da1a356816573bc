using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
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
            Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync(key, "/api/users"));
            await Assertions.Expect(row).ToContainTextAsync("wall display (service account)"); // an Admin key's key belongs to a service account

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

    [Fact(Timeout = 300_000)]
    public async Task Should_Create_A_Key_Owned_By_The_User_When_A_Signed_In_Operator_Uses_The_Keys_Page()
    {
        // Arrange: an Operator account (made by an Admin through the API).
        using (var api = _server!.Api())
        {
            using var created = await api.PostAsJsonAsync("/api/users", new { userName = "olive", password = "Correct-horse-42", role = "Operator" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        await using var browser = await StudioBrowser.LaunchAsync(_server.Site);
        var page = browser.Page;
        try
        {
            // Act: sign in with the mouse and the keyboard, then create a key on the Keys page; an Admin key is refused.
            await page.GotoAsync(new Uri(_server.Site, "/signin?returnUrl=/keys").ToString());
            await page.GetByTestId("signin-user").ClickAsync();
            await page.GetByTestId("signin-user").FillAsync("olive");
            await page.GetByTestId("signin-password").FillAsync("Correct-horse-42");
            await page.GetByTestId("signin-submit").ClickAsync();
            await page.WaitForURLAsync(new Uri(_server.Site, "/keys").ToString());
            await page.GetByTestId("key-name").ClickAsync();
            await page.GetByTestId("key-name").FillAsync("too strong");
            await page.GetByTestId("key-role").SelectOptionAsync("Admin");
            await page.GetByTestId("create-key").ClickAsync();
            await Assertions.Expect(page.GetByTestId("status")).ToContainTextAsync("higher role than its creator");
            await page.GetByTestId("key-name").FillAsync("olive laptop");
            await page.GetByTestId("key-role").SelectOptionAsync("Operator");
            await page.GetByTestId("create-key").ClickAsync();

            // Assert: the key is shown once and listed with Olive as its owner; it works as an Operator; an Admin sees the owner too.
            var secret = page.GetByTestId("key-secret");
            await Assertions.Expect(secret).ToHaveValueAsync(new System.Text.RegularExpressions.Regex("^pk_"));
            var key = await secret.InputValueAsync();
            var row = page.GetByTestId("key-row").Filter(new() { HasText = "olive laptop" });
            await Assertions.Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("olive");
            await Assertions.Expect(row).ToContainTextAsync("Operator");
            await Assertions.Expect(page.GetByTestId("key-row")).ToHaveCountAsync(1); // only her own keys
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(key, "/api/channels"));
            using var admin = _server.Api();
            var all = await admin.GetFromJsonAsync<System.Text.Json.Nodes.JsonArray>("/api/keys");
            Assert.Contains(all!, k => k!["name"]!.GetValue<string>() == "olive laptop" && k["owner"]!.GetValue<string>() == "olive"
                                       && k["ownerKind"]!.GetValue<string>() == "user");
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_Create_A_Key_Owned_By_The_User_When_A_Signed_In_Operator_Uses_The_Keys_Page));
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
