using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// Single sign-on in Chromium against a real OpenID Connect provider (npm oidc-provider, tests/services/oidc): "Sign in with
/// SSO" on /signin, the provider's login page, back in the Studio with the role mapped from the <c>groups</c> claim, the
/// Studio listing workflows with the cookie alone; a user whose group is not mapped is refused with a clear message.
/// </summary>
public sealed class SingleSignOnBrowserTests : IAsyncLifetime
{
    private ServerProcess? _server;
    private Platform.Testing.OidcProvider? _oidc;

    public async ValueTask InitializeAsync()
    {
        var site = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        _oidc = await Platform.Testing.OidcProvider.StartAsync([new Uri(site, "/signin-oidc")], new Dictionary<string, string[]>
        {
            ["alice"] = ["staff", "platform-designers"],
            ["mallory"] = ["guests"],
        });
        _server = await ServerProcess.StartAsync("sso", "/signin", new Dictionary<string, string?>
        {
            ["Platform__Mqtt__EmbeddedPort"] = FreePort.Next().ToString(CultureInfo.InvariantCulture),
            ["Platform__Authentication__Oidc__Authority"] = _oidc.Authority.ToString().TrimEnd('/'),
            ["Platform__Authentication__Oidc__ClientId"] = _oidc.ClientId,
            ["Platform__Authentication__Oidc__ClientSecret"] = _oidc.ClientSecret,
            ["Platform__Authentication__Oidc__Scopes"] = "openid profile groups",
            ["Platform__Authentication__Oidc__RoleClaim"] = "groups",
            ["Platform__Authentication__Oidc__RoleMap__platform-designers"] = "Admin",
        }, site);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_oidc is not null) await _oidc.DisposeAsync();
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_SignInWithTheMappedRoleAndShowTheStudio_When_AUserSignsInThroughTheOpenIdProvider()
    {
        // Arrange: a workflow the Studio's list must show.
        var name = "SSO list " + Guid.NewGuid().ToString("N")[..8];
        using (var api = _server!.Api())
        {
            using var saved = await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject
            {
                ["model"] = new JsonObject
                {
                    ["name"] = name, ["variables"] = new JsonArray(),
                    ["root"] = new JsonObject { ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["activities"] = new JsonArray(), ["connections"] = new JsonArray() },
                },
                ["publish"] = true,
            }, TestContext.Current.CancellationToken);
            saved.EnsureSuccessStatusCode();
        }

        await RunAsync(nameof(Should_SignInWithTheMappedRoleAndShowTheStudio_When_AUserSignsInThroughTheOpenIdProvider), async browser =>
        {
            var page = browser.Page;

            // Act: "Sign in with SSO", the provider's login and consent pages.
            await SignInAtProviderAsync(page, "alice");

            // Assert: back in the Studio, signed in by cookie only (no key stored), with the mapped role; the list shows the workflow.
            await page.WaitForURLAsync(new Uri(_server.Site, "/").ToString());
            await page.GetByText(name).First.WaitForAsync(new() { Timeout = 120_000 });
            Assert.Null(await page.EvaluateAsync<string?>("localStorage.getItem('platform-studio.api-key')"));
            var me = await page.EvaluateAsync<string>(
                "fetch('/api/auth/me', { credentials: 'same-origin' }).then(r => r.json()).then(j => [j.name, j.roles.join(','), j.method].join('|'))");
            Assert.Equal("alice|Admin|sso", me);
            var cookies = await browser.Context.CookiesAsync([_server.Site.ToString()]);
            var session = Assert.Single(cookies, c => c.Name == "platform.auth");
            Assert.True(session.HttpOnly);
            Assert.Equal(SameSiteAttribute.Strict, session.SameSite);

            // The audit trail has the sign-in: who, from where, with which role.
            var entry = await AuditEntryAsync("alice");
            Assert.Equal(("success", "user", "127.0.0.1"), (entry["outcome"]!.GetValue<string>(), entry["actorKind"]!.GetValue<string>(), entry["ipAddress"]!.GetValue<string>()));
            Assert.Equal("Admin", JsonNode.Parse(entry["details"]!.GetValue<string>())!["roles"]![0]!.GetValue<string>());
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_RefuseTheUser_When_NoneOfItsGroupsIsMappedToARole()
    {
        await RunAsync(nameof(Should_RefuseTheUser_When_NoneOfItsGroupsIsMappedToARole), async browser =>
        {
            var page = browser.Page;
            await SignInAtProviderAsync(page, "mallory");

            await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/signin\\?error=no-role"));
            var error = page.GetByTestId("signin-error");
            await error.WaitForAsync();
            Assert.Contains("no role", await error.InnerTextAsync());
            var status = await page.EvaluateAsync<int>("fetch('/api/auth/me', { credentials: 'same-origin' }).then(r => r.status)");
            Assert.Equal(401, status);

            // The refusal is in the audit trail with the reason and the unmapped groups.
            var entry = await AuditEntryAsync("mallory");
            Assert.Equal(("denied", "127.0.0.1"), (entry["outcome"]!.GetValue<string>(), entry["ipAddress"]!.GetValue<string>()));
            var details = JsonNode.Parse(entry["details"]!.GetValue<string>())!;
            Assert.Equal("no-role", details["reason"]!.GetValue<string>());
            Assert.Equal("guests", details["values"]![0]!.GetValue<string>());
        });
    }

    /// <summary>The single sign-on audit entry of <paramref name="user"/> (entries are written in batches: waits for it).</summary>
    private async Task<JsonObject> AuditEntryAsync(string user)
    {
        using var api = _server!.Api();
        for (var attempt = 0; ; attempt++)
        {
            var page = await api.GetFromJsonAsync<JsonObject>($"/api/audit?action=auth.sso.signin&actor={user}&pageSize=5", TestContext.Current.CancellationToken);
            if (page!["items"]!.AsArray().FirstOrDefault() is JsonObject entry) return entry;
            Assert.True(attempt < 300, $"No audit entry of the single sign-on of {user}.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private async Task SignInAtProviderAsync(IPage page, string login)
    {
        await page.GotoAsync(new Uri(_server!.Site, "/signin").ToString());
        var sso = page.GetByTestId("signin-sso");
        await sso.WaitForAsync();
        Assert.Equal("Sign in with SSO", (await sso.InnerTextAsync()).Trim());
        await sso.ClickAsync();

        // The provider's development login page, then its consent page.
        await page.WaitForURLAsync(u => u.StartsWith(_oidc!.Authority.ToString().TrimEnd('/'), StringComparison.Ordinal));
        await page.Locator("input[name=login]").FillAsync(login);
        await page.Locator("input[name=password]").FillAsync("any-password");
        await page.Locator("button[type=submit]").ClickAsync();
        var consent = page.Locator("button[type=submit]", new() { HasText = "Continue" });
        await consent.WaitForAsync();
        await consent.ClickAsync();
    }

    private async Task RunAsync(string testName, Func<StudioBrowser, Task> body)
    {
        await using var browser = await StudioBrowser.LaunchAsync(_server!.Site);
        // The provider's development pages load a web font from the internet, which this machine cannot reach: a request
        // left hanging holds up the page's load event. Only loopback requests are let through.
        await browser.Context.RouteAsync("**/*", route =>
            Uri.TryCreate(route.Request.Url, UriKind.Absolute, out var url) && (url.IsLoopback || url.Scheme is "data" or "blob")
                ? route.ContinueAsync() : route.AbortAsync());
        try
        {
            await body(browser);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(testName);
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server.Output);
            await File.WriteAllTextAsync(Path.Combine(directory, "oidc.log"), _oidc!.Output);
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }
}
