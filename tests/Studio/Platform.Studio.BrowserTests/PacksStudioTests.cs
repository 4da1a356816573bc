using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Packs.Tests;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The Packs page (issue #15, item 3) in Chromium against a real server, by mouse: a pack's permissions are shown before it is
/// installed (cancel installs nothing), confirmed it is enabled and its activity is in the designer's palette, then disabled,
/// enabled again (the permissions shown again) and removed. A Viewer key sees the packs but no write buttons.
/// </summary>
public sealed partial class PacksStudioTests : IAsyncLifetime
{
    private const string PackId = "Acme.Greetings";
    private const string ActivityType = PackId + ".Greet";
    private readonly string _viewerKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    private readonly string _temp = TestPaths.NewTempDirectory("packs-studio");
    private ServerProcess? _server;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("packs-studio", "/packs", new Dictionary<string, string?>
    {
        ["Platform__Mqtt__EmbeddedPort"] = "0",
        ["Platform__ApiKeys__1__Key"] = _viewerKey,
        ["Platform__ApiKeys__1__Role"] = "Viewer",
        ["Platform__ApiKeys__1__Name"] = "packs-viewer",
    });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        TestPaths.TryDelete(_temp);
    }

    /// <summary>A pack with one Greet activity and a permission of every kind but the file system.</summary>
    private static byte[] Pack()
    {
        var manifest = TestPacks.Manifest(PackId, "1.0.0");
        manifest["displayName"] = "Acme Greetings";
        manifest["description"] = "Greets people by name.";
        manifest["permissions"] = new JsonObject
        {
            ["network"] = new JsonArray("api.weather.example", "*.acme.example"),
            ["secrets"] = new JsonArray("weather-key"),
            ["dataSources"] = new JsonArray("shop"),
            ["mqtt"] = new JsonArray("devices/+/state"),
            ["fileSystem"] = false,
        };
        return TestPacks.Package(PackId, "1.0.0", new Dictionary<string, byte[]> { [PackId] = TestPacks.Compile(PackId, TestPacks.GreetCode(PackId, "Hello")) }, manifest);
    }

    [Fact(Timeout = 420_000)]
    public async Task Should_ShowPermissionsBeforeEnabling_When_AnAdminInstallsDisablesEnablesAndRemovesAPack()
    {
        var server = _server!;
        var bytes = Pack();
        var file = Path.Combine(_temp, $"{PackId}.1.0.0.nupkg");
        await File.WriteAllBytesAsync(file, bytes);
        var sha512 = Convert.ToHexStringLower(SHA512.HashData(bytes));
        using var api = server.Api();
        // An empty workflow to open the designer's palette in.
        var model = new JsonObject
        {
            ["definitionId"] = "packs-palette", ["name"] = "Packs palette",
            ["root"] = new JsonObject { ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["activities"] = new JsonArray(), ["connections"] = new JsonArray() },
        };
        (await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = false })).EnsureSuccessStatusCode();

        await using var browser = await StudioBrowser.LaunchAsync(server.Site);
        var page = browser.Page;
        try
        {
            await page.SetViewportSizeAsync(1280, 800);
            await page.GotoAsync(new Uri(server.Site, $"/packs?key={Uri.EscapeDataString(server.ApiKey)}").ToString());
            await page.GetByTestId("pack-install").WaitForAsync();
            Assert.Equal("page", await page.GetByTestId("nav-packs").GetAttributeAsync("aria-current"));
            await Expect(page.GetByTestId("pack-table")).ToContainTextAsync("No packs are installed.");

            // Upload: the permissions in plain words before anything is installed; Cancel installs nothing.
            var dialog = page.GetByTestId("permission-dialog");
            await ChooseFileAsync(page, file);
            await dialog.WaitForAsync();
            await Expect(page.GetByTestId("permission-title")).ToContainTextAsync("Install Acme Greetings (Acme.Greetings) 1.0.0?");
            await AssertPermissionsAsync(page);
            Assert.Equal(sha512, await page.GetByTestId("permission-sha").InnerTextAsync());
            await Expect(page.GetByTestId("permission-signature")).ToContainTextAsync("Not signed");
            await ScreenshotAsync(page, "packs-permissions");
            await page.GetByTestId("cancel").ClickAsync();
            await Expect(dialog).ToBeHiddenAsync();
            await Expect(page.GetByTestId("install-status")).ToContainTextAsync("nothing was installed");
            Assert.Empty((await api.GetFromJsonAsync<JsonArray>("/api/packs"))!);
            Assert.DoesNotContain(ActivityType, await ActivityTypesAsync(api));

            // Upload again and confirm: installed and enabled, its activity type listed.
            await ChooseFileAsync(page, file);
            await dialog.WaitForAsync();
            await AssertPermissionsAsync(page);
            await page.GetByTestId("confirm").ClickAsync();
            await Expect(dialog).ToBeHiddenAsync();
            var row = page.Locator($"[data-testid='pack-row'][data-pack='{PackId}']");
            await Expect(row.GetByTestId("pack-state")).ToHaveTextAsync("Enabled");
            await Expect(row.GetByTestId("pack-types")).ToContainTextAsync(ActivityType);
            await Expect(row.GetByTestId("pack-sha")).ToHaveTextAsync(sha512[..16] + "…");
            await Expect(row.GetByTestId("pack-isolation")).ToHaveTextAsync("shared");
            await ScreenshotAsync(page, "packs");
            var installed = (await api.GetFromJsonAsync<JsonArray>("/api/packs"))!.Single()!;
            Assert.Equal("Enabled", installed["state"]!.GetValue<string>());

            // Its activity is in the designer's palette.
            await page.GotoAsync(new Uri(server.Site, "/workflows/definitions/packs-palette/edit").ToString());
            await page.Locator(".graph-container.x6-graph").WaitForAsync(new() { Timeout = 120_000 });
            await FindInPaletteAsync(page, "Greet", GreetItem());

            // Disable: the activity leaves the palette (API), the row offers Enable.
            await page.GotoAsync(new Uri(server.Site, "/packs").ToString());
            await row.GetByTestId("disable-pack").ClickAsync();
            await Expect(row.GetByTestId("pack-state")).ToHaveTextAsync("Disabled");
            Assert.DoesNotContain(ActivityType, await ActivityTypesAsync(api));

            // Enable: the permissions are shown again first.
            await row.GetByTestId("enable-pack").ClickAsync();
            await dialog.WaitForAsync();
            await Expect(page.GetByTestId("permission-title")).ToContainTextAsync("Enable Acme Greetings (Acme.Greetings) 1.0.0?");
            await AssertPermissionsAsync(page);
            await page.GetByTestId("cancel").ClickAsync();
            await Expect(dialog).ToBeHiddenAsync();
            Assert.Equal("Disabled", (await api.GetFromJsonAsync<JsonObject>($"/api/packs/{PackId}"))!["state"]!.GetValue<string>());
            await row.GetByTestId("enable-pack").ClickAsync();
            await dialog.WaitForAsync();
            await page.GetByTestId("confirm").ClickAsync();
            await Expect(row.GetByTestId("pack-state")).ToHaveTextAsync("Enabled");
            Assert.Contains(ActivityType, await ActivityTypesAsync(api));

            // A Viewer sees the pack but no write buttons and no upload.
            await page.GotoAsync(new Uri(server.Site, $"/packs?key={Uri.EscapeDataString(_viewerKey)}").ToString());
            await Expect(page.GetByTestId("read-only")).ToBeVisibleAsync();
            await Expect(row.GetByTestId("pack-state")).ToHaveTextAsync("Enabled");
            Assert.False(await page.GetByTestId("pack-install").IsVisibleAsync());
            Assert.Equal(0, await page.GetByTestId("disable-pack").CountAsync());
            Assert.Equal(0, await page.GetByTestId("remove-pack").CountAsync());

            // Remove (as the Admin again): confirmed in the dialog, the pack and its activity are gone.
            await page.GotoAsync(new Uri(server.Site, $"/packs?key={Uri.EscapeDataString(server.ApiKey)}").ToString());
            await row.GetByTestId("remove-pack").ClickAsync();
            await dialog.WaitForAsync();
            await Expect(page.GetByTestId("permission-title")).ToContainTextAsync("Remove");
            await page.GetByTestId("confirm").ClickAsync();
            await Expect(page.GetByTestId("pack-table")).ToContainTextAsync("No packs are installed.");
            Assert.Empty((await api.GetFromJsonAsync<JsonArray>("/api/packs"))!);
            Assert.DoesNotContain(ActivityType, await ActivityTypesAsync(api));

            var errors = browser.ConsoleLog.Where(l => l.Contains("[error]", StringComparison.Ordinal) || l.Contains("[pageerror]", StringComparison.Ordinal)).ToList();
            Assert.True(errors.Count == 0, "Console errors:\n" + string.Join("\n", errors));
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_ShowPermissionsBeforeEnabling_When_AnAdminInstallsDisablesEnablesAndRemovesAPack));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), server.Output);
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }

    private static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    /// <summary>Clicks "Upload a .nupkg…" and picks the file in the file chooser it opens.</summary>
    private static async Task ChooseFileAsync(IPage page, string file)
    {
        var chooser = await page.RunAndWaitForFileChooserAsync(() => page.GetByTestId("choose-pack").ClickAsync());
        await chooser.SetFilesAsync(file);
    }

    private static async Task AssertPermissionsAsync(IPage page)
    {
        var list = page.GetByTestId("permission-list");
        await Expect(list.Locator("[data-kind='network']")).ToHaveTextAsync("Connect over the network to api.weather.example, any host under acme.example.");
        await Expect(list.Locator("[data-kind='secrets']")).ToHaveTextAsync("Read the secret weather-key.");
        await Expect(list.Locator("[data-kind='data-sources']")).ToHaveTextAsync("Query the data source shop.");
        await Expect(list.Locator("[data-kind='mqtt']")).ToHaveTextAsync("Publish and subscribe on the MQTT topic devices/+/state.");
        await Expect(list.Locator("[data-kind='file-system']")).ToHaveTextAsync("No file system access.");
        await Expect(list.Locator("[data-kind='isolation']")).ToContainTextAsync("inside the server process");
    }

    private static async Task<List<string>> ActivityTypesAsync(HttpClient api)
    {
        var body = (await api.GetFromJsonAsync<JsonObject>("/elsa/api/descriptors/activities"))!;
        return body["items"]!.AsArray().Where(i => i!["category"]?.GetValue<string>() != "Not installed").Select(i => i!["typeName"]!.GetValue<string>()).ToList();
    }

    /// <summary>Searches the palette and opens categories until the item shows.</summary>
    private static async Task FindInPaletteAsync(IPage page, string searchTerm, Regex displayName)
    {
        var search = page.GetByPlaceholder("Search").First;
        await search.FillAsync(searchTerm);
        var item = page.Locator("[draggable=true]", new() { HasTextRegex = displayName }).First;
        var headers = page.Locator(".mud-expand-panel-header");
        for (var i = 0; i < await headers.CountAsync() && !await item.IsVisibleAsync(); i++)
        {
            await headers.Nth(i).ClickAsync();
            try
            {
                await item.WaitForAsync(new() { Timeout = 3_000 });
            }
            catch (TimeoutException)
            {
                // Not in this category; try the next one.
            }
        }
        await item.WaitForAsync(new() { Timeout = 15_000 });
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var directory = Environment.GetEnvironmentVariable("STUDIO_DOCS_SCREENSHOTS");
        if (string.IsNullOrEmpty(directory)) return;
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), Type = ScreenshotType.Png });
    }

    [GeneratedRegex("^\\s*Greet\\s*$")]
    private static partial Regex GreetItem();
}
