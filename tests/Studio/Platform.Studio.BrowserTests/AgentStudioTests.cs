using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The AI Agent's inputs are editable by mouse in the genuine Studio: the Model drop-down lists the configured model
/// endpoints, the Tools checklist the available tools, and Instructions is a text area; the choices are saved.
/// </summary>
public sealed partial class AgentStudioTests : IAsyncLifetime
{
    private ServerProcess? _server;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("agent-studio", "/health", new Dictionary<string, string?>
    {
        // Never called by this test: only their names matter.
        ["Platform__AI__Models__default__Endpoint"] = "http://127.0.0.1:9/v1",
        ["Platform__AI__Models__default__Model"] = "llama3.1:8b",
        ["Platform__AI__Models__fast__Endpoint"] = "http://127.0.0.1:9/v1",
        ["Platform__AI__Models__fast__Model"] = "qwen2.5:3b",
        ["Platform__AI__Models__fast__Fallback"] = "default",
    });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact(Timeout = 600_000)]
    public async Task Should_SaveModelToolsAndInstructions_When_AnAnalystEditsTheAgentByMouse()
    {
        // Arrange: a workflow with one AI Agent node.
        var server = _server!;
        using var api = server.Api();
        var descriptor = JsonNode.Parse(await api.GetStringAsync("/elsa/api/descriptors/activities"))!["items"]!.AsArray()
            .Single(d => d!["typeName"]!.GetValue<string>() == "Platform.AiAgent")!;
        var tools = descriptor["inputs"]!.AsArray().Single(i => i!["name"]!.GetValue<string>() == "Tools")!;
        Assert.Equal("checklist", tools["uiHint"]!.GetValue<string>());
        var model = descriptor["inputs"]!.AsArray().Single(i => i!["name"]!.GetValue<string>() == "Model")!;
        Assert.Equal("dropdown", model["uiHint"]!.GetValue<string>());
        Assert.Contains("fast", model["uiSpecifications"]!.ToJsonString());
        var definitionId = "agent-" + Guid.NewGuid().ToString("N")[..8];
        var node = new JsonObject
        {
            ["id"] = "agent1", ["nodeId"] = "Workflow1:flow1:agent1", ["type"] = "Platform.AiAgent", ["version"] = 1, ["name"] = "agent1",
            ["customProperties"] = new JsonObject(),
            ["metadata"] = new JsonObject { ["designer"] = new JsonObject { ["position"] = new JsonObject { ["x"] = 0, ["y"] = 0 } } },
        };
        var workflow = new JsonObject
        {
            ["definitionId"] = definitionId, ["name"] = "Agent by mouse",
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["nodeId"] = "Workflow1:flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["name"] = "Flowchart1",
                ["activities"] = new JsonArray(node), ["connections"] = new JsonArray(),
            },
        };
        (await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = workflow, ["publish"] = false })).EnsureSuccessStatusCode();

        await using var browser = await StudioBrowser.LaunchAsync(server.Site);
        var page = browser.Page;
        try
        {
            await page.GotoAsync(new Uri(server.Site, $"/workflows/definitions/{definitionId}/edit?key={Uri.EscapeDataString(server.ApiKey)}").ToString());
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync(new() { Timeout = 120_000 });
            var agent = canvas.Locator("g.x6-node[data-cell-id='agent1']");
            await agent.WaitForAsync(new() { Timeout = 60_000 });
            var box = await agent.BoundingBoxAsync() ?? throw new InvalidOperationException("the agent node is not on the canvas");
            await page.Mouse.ClickAsync(box.X + Math.Min(30, box.Width / 4), box.Y + box.Height / 2);
            await page.Locator("[role='tab']", new() { HasTextRegex = InputTab() }).First.ClickAsync(new() { Timeout = 15_000 });

            // Act: type the instructions, pick the model, tick a tool.
            const string instructions = "You answer questions about the shop; use the demo data source.";
            var field = Editor(page, "Instructions").Locator("textarea:visible").First;
            await field.WaitForAsync(new() { Timeout = 15_000 });
            await field.ClickAsync();
            await field.FillAsync(instructions);
            await field.PressAsync("Tab");
            await Editor(page, "Model").Locator(".mud-select, .mud-input").First.ClickAsync();
            await page.Locator(".mud-popover-open").GetByText("fast", new() { Exact = true }).First.ClickAsync();
            await page.Locator(".mud-checkbox", new() { HasTextRegex = QueryDatabaseTool() }).First.ClickAsync();

            // Assert: the editor saved all three.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                var latest = JsonNode.Parse(await api.GetStringAsync($"/elsa/api/workflow-definitions/by-definition-id/{definitionId}?versionOptions=Latest"))!;
                var saved = latest["root"]!["activities"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == "agent1")!;
                var text = saved.ToJsonString();
                var instructionsSaved = saved["instructions"]?.ToJsonString().Contains("the demo data source", StringComparison.Ordinal) == true;
                var modelSaved = saved["model"]?.ToJsonString().Contains("fast", StringComparison.Ordinal) == true;
                var toolsSaved = saved["tools"]?.ToJsonString().Contains("query_database", StringComparison.Ordinal) == true;
                if (instructionsSaved && modelSaved && toolsSaved) break;
                Assert.True(DateTime.UtcNow < deadline, $"The editor did not save the agent's inputs (instructions {instructionsSaved}, model {modelSaved}, tools {toolsSaved}): {text}");
                await Task.Delay(250);
            }
            var body = await page.Locator("body").First.InnerTextAsync();
            Assert.DoesNotContain("Unsupported", body, StringComparison.OrdinalIgnoreCase);
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_SaveModelToolsAndInstructions_When_AnAnalystEditsTheAgentByMouse));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), server.Output);
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }

    /// <summary>The visible field labelled <paramref name="label"/> in the property panel.</summary>
    private static ILocator Editor(IPage page, string label) =>
        page.Locator(".mud-input-control:visible", new() { Has = page.Locator("label", new() { HasTextRegex = new Regex($"^\\s*{Regex.Escape(label)}\\s*$") }) }).First;

    [GeneratedRegex("^\\s*Input\\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex InputTab();

    [GeneratedRegex("^\\s*query_database\\s*$")]
    private static partial Regex QueryDatabaseTool();
}
