using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// Each seed workflow (published by the demo seeder on start) opens in the Studio's editor with all its activities as
/// real nodes (no "not installed" placeholders), takes an edit, and publishes as a new version.
/// </summary>
public sealed class SeedWorkflowsStudioTests : IAsyncLifetime
{
    private readonly string _apiKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    private string _temp = "";
    private ChildProcess? _server;
    private Uri _site = null!;

    public async ValueTask InitializeAsync()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Platform.Server.dll");
        Assert.SkipUnless(File.Exists(dll), "Platform.Server.dll is not in the test output (StudioTestsWithoutServer=true).");
        _temp = TestPaths.NewTempDirectory("seed-studio");
        _site = new Uri($"http://127.0.0.1:{FreePort.Next()}");
        _server = ChildProcess.Start("dotnet", [dll, "--urls", _site.ToString().TrimEnd('/')], AppContext.BaseDirectory, new Dictionary<string, string?>
        {
            ["Platform__DataDirectory"] = Path.Combine(_temp, "data"),
            ["Platform__ApiKeys__0__Key"] = _apiKey,
            ["Platform__ApiKeys__0__Role"] = "Admin",
            ["Platform__Demo__Enabled"] = "true",
            ["Platform__Mqtt__EmbeddedPort"] = "0",
            ["Platform__AI__Embeddings__Enabled"] = "false",
            ["ASPNETCORE_URLS"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
        });
        using var api = Api();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            Assert.False(_server.HasExited, $"The server exited:\n{_server.Output}");
            try
            {
                // Ready once the last seed workflow is stored.
                using var response = await api.GetAsync("/elsa/api/workflow-definitions/by-definition-id/door-unlock-confirm?versionOptions=Published");
                if (response.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
            {
                // Not listening yet.
            }
            Assert.True(DateTime.UtcNow < deadline, $"The seed workflows were not published in time:\n{_server.Output}");
            await Task.Delay(250);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        TestPaths.TryDelete(_temp);
    }

    private static List<string> Names(JsonNode? array, string field) =>
        array?.AsArray().Select(n => n![field]!.GetValue<string>()).Order(StringComparer.Ordinal).ToList() ?? [];

    private HttpClient Api()
    {
        var api = new HttpClient { BaseAddress = _site, Timeout = TimeSpan.FromSeconds(10) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", _apiKey);
        return api;
    }

    [Theory(Timeout = 300_000)]
    [InlineData("assistant")]
    [InlineData("daily-report")]
    [InlineData("door-unlock-confirm")]
    public async Task Should_OpenWithAllActivitiesAndPublishAnEdit_When_ASeedWorkflowIsEditedInTheStudio(string definitionId)
    {
        // Arrange: the seed file's activities and the stored version.
        var seed = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "workflows", definitionId + ".json")))!;
        var activityCount = seed["root"]!["activities"]!.AsArray().Count;
        using var api = Api();
        var before = JsonNode.Parse(await api.GetStringAsync($"/elsa/api/workflow-definitions/by-definition-id/{definitionId}?versionOptions=Latest"))!;
        var versionBefore = before["version"]!.GetValue<int>();
        await using var browser = await StudioBrowser.LaunchAsync(_site);
        var page = browser.Page;
        try
        {
            // Act: open the editor with the sign-in link's key.
            await page.GotoAsync(new Uri(_site, $"/workflows/definitions/{definitionId}/edit?key={Uri.EscapeDataString(_apiKey)}").ToString());
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync(new() { Timeout = 120_000 });
            var nodes = canvas.Locator("g.x6-node");
            await nodes.Nth(activityCount - 1).WaitForAsync(new() { Timeout = 60_000 });

            // Assert: every activity is a node, none a placeholder for a missing activity type.
            Assert.Equal(activityCount, await nodes.CountAsync());
            var canvasText = await canvas.InnerTextAsync();
            Assert.DoesNotContain("not installed", canvasText, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("not found", canvasText, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Unknown activity", canvasText, StringComparison.OrdinalIgnoreCase);
            var descriptors = JsonNode.Parse(await api.GetStringAsync("/elsa/api/descriptors/activities"))!["items"]!.AsArray()
                .Select(d => d!["typeName"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
            foreach (var activity in seed["root"]!["activities"]!.AsArray())
                Assert.Contains(activity!["type"]!.GetValue<string>(), descriptors);

            // Act: move a node (an edit the editor auto-saves) and publish.
            var box = await nodes.First.BoundingBoxAsync() ?? throw new InvalidOperationException("node not visible");
            await page.Mouse.MoveAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
            await page.Mouse.DownAsync();
            await page.Mouse.MoveAsync(box.X + box.Width / 2 + 60, box.Y + box.Height / 2 + 40, new() { Steps = 10 });
            await page.Mouse.UpAsync();
            await page.Locator(".mud-button-group-root button.mud-primary-text").First.ClickAsync();
            await page.GetByText("Workflow published").First.WaitForAsync();

            // Assert: the server has a newer published version with the same activities.
            var after = JsonNode.Parse(await api.GetStringAsync($"/elsa/api/workflow-definitions/by-definition-id/{definitionId}?versionOptions=Published"))!;
            Assert.True(after["version"]!.GetValue<int>() > versionBefore, $"Expected a version after {versionBefore}, got {after["version"]}.");
            Assert.Equal(activityCount, after["root"]!["activities"]!.AsArray().Count);
            // The Studio keeps the variables and every switch's cases (the assistant's "which one?" loop needs both).
            Assert.Equal(Names(seed["variables"], "name"), Names(after["variables"], "name"));
            foreach (var activity in seed["root"]!["activities"]!.AsArray().Where(a => a!["cases"] is not null))
            {
                var saved = after["root"]!["activities"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == activity!["id"]!.GetValue<string>());
                Assert.Equal(Names(activity!["cases"], "label"), Names(saved!["cases"], "label"));
            }
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory($"{nameof(Should_OpenWithAllActivitiesAndPublishAnEdit_When_ASeedWorkflowIsEditedInTheStudio)}-{definitionId}");
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server?.Output ?? "");
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }
}
