using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// A workflow's persistence mode is chosen in the genuine Studio's workflow Properties tab (its Commit Strategy drop-down in the Settings part,
/// stored as <c>options.commitStrategyName</c>). An HTTP workflow stores no instance by default (OnFaultOnly); after an
/// analyst picks "Persistence: Full" with the mouse and publishes, each call leaves its instance.
/// </summary>
public sealed partial class PersistenceSettingStudioTests : IAsyncLifetime
{
    private ServerProcess? _server;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("persistence-setting", "/health");

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact(Timeout = 600_000)]
    public async Task Should_StoreEachHttpRun_When_AnAnalystSetsPersistenceFullInTheWorkflowProperties()
    {
        var server = _server!;
        using var api = server.Api();
        var id = "persist-" + Guid.NewGuid().ToString("N")[..8];
        var model = new JsonObject
        {
            ["definitionId"] = id, ["name"] = "Persistence " + id,
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["nodeId"] = "Workflow1:flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["name"] = "Flowchart1",
                ["activities"] = new JsonArray(
                    Node("http", "Elsa.HttpEndpoint", 0, 0, new JsonObject
                    {
                        ["path"] = new JsonObject { ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = id } },
                    }),
                    Node("say", "Elsa.WriteLine", 300, 0, new JsonObject
                    {
                        ["text"] = new JsonObject { ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = "hi" } },
                    })),
                ["connections"] = new JsonArray(new JsonObject
                {
                    ["source"] = new JsonObject { ["activity"] = "http", ["port"] = "Done" },
                    ["target"] = new JsonObject { ["activity"] = "say", ["port"] = "In" },
                }),
            },
        };
        (await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true })).EnsureSuccessStatusCode();

        // Not set: an HTTP workflow runs with OnFaultOnly, so a successful call stores no instance.
        Assert.Equal(HttpStatusCode.NotFound, await CallAndLookUpAsync(api, id));

        await using var browser = await StudioBrowser.LaunchAsync(server.Site);
        var page = browser.Page;
        try
        {
            await page.GotoAsync(new Uri(server.Site, $"/workflows/definitions/{id}/edit?key={Uri.EscapeDataString(server.ApiKey)}").ToString());
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync(new() { Timeout = 120_000 });
            await canvas.Locator("g.x6-node[data-cell-id='say']").WaitForAsync(new() { Timeout = 60_000 });

            // With no activity selected the panel shows the workflow's Properties tab; pick the mode in its Commit Strategy field.
            var field = page.Locator(".mud-input-control:visible", new() { Has = page.Locator("label", new() { HasTextRegex = CommitStrategyLabel() }) }).First;
            await field.Locator(".mud-select, .mud-input").First.ClickAsync(new() { Timeout = 30_000 });
            await page.Locator(".mud-popover-open").GetByText("Persistence: Full", new() { Exact = true }).First.ClickAsync();

            // The editor saves a new draft with the option; publish it with the Studio's Publish button.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                var latest = JsonNode.Parse(await api.GetStringAsync($"/elsa/api/workflow-definitions/by-definition-id/{id}?versionOptions=Latest"))!;
                if (latest["options"]?["commitStrategyName"]?.GetValue<string>() == "Full") break;
                Assert.True(DateTime.UtcNow < deadline, $"The Studio did not save the commit strategy: {latest["options"]?.ToJsonString()}");
                await Task.Delay(250);
            }
            await page.Locator(".mud-button-group-root button.mud-primary-text").First.ClickAsync();
            await page.GetByText("Workflow published").First.WaitForAsync();
            var published = JsonNode.Parse(await api.GetStringAsync($"/elsa/api/workflow-definitions/by-definition-id/{id}?versionOptions=Published"))!;
            Assert.Equal("Full", published["options"]?["commitStrategyName"]?.GetValue<string>());

            // Now each call leaves its instance.
            Assert.Equal(HttpStatusCode.OK, await CallAndLookUpAsync(api, id));
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_StoreEachHttpRun_When_AnAnalystSetsPersistenceFullInTheWorkflowProperties));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), server.Output);
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }

    /// <summary>Calls the workflow's endpoint, then asks the API for the instance it ran (the status code of that lookup).</summary>
    private static async Task<HttpStatusCode> CallAndLookUpAsync(HttpClient api, string path)
    {
        using var response = await api.GetAsync($"/http/{path}");
        response.EnsureSuccessStatusCode();
        var instanceId = response.Headers.GetValues("x-elsa-workflow-instance-id").Single();
        using var lookup = await api.GetAsync($"/elsa/api/workflow-instances/{instanceId}");
        return lookup.StatusCode;
    }

    private static JsonObject Node(string id, string type, double x, double y, JsonObject inputs)
    {
        var node = new JsonObject
        {
            ["id"] = id, ["nodeId"] = $"Workflow1:flow1:{id}", ["type"] = type, ["version"] = 1, ["name"] = id,
            ["customProperties"] = new JsonObject(),
            ["metadata"] = new JsonObject { ["designer"] = new JsonObject { ["position"] = new JsonObject { ["x"] = x, ["y"] = y } } },
        };
        foreach (var (k, v) in inputs) node[k] = v!.DeepClone();
        return node;
    }

    [GeneratedRegex("^\\s*Commit Strategy\\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex CommitStrategyLabel();
}
