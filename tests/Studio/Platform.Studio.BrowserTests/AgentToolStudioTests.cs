using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// "Usable as a tool" by mouse in the genuine Studio: an analyst ticks <b>Usable as activity</b> in a workflow's Properties tab
/// and publishes it; after a reload the AI Agent's Tools checklist offers it (and its KnowledgeBase drop-down the knowledge base
/// created after the server started), the analyst ticks it, publishes the agent, and the agent calls the workflow when the
/// model (a loopback fake) asks for it.
/// </summary>
public sealed partial class AgentToolStudioTests : IAsyncLifetime
{
    private FakeOpenAiServer? _model;
    private ServerProcess? _server;

    public async ValueTask InitializeAsync()
    {
        _model = await FakeOpenAiServer.StartAsync();
        _server = await ServerProcess.StartAsync("agent-tool-studio", "/health", new Dictionary<string, string?>
        {
            ["Platform__AI__Models__default__Endpoint"] = _model.ApiBase.ToString(),
            ["Platform__AI__Models__default__Model"] = "gpt-4o-mini",
            ["Platform__AI__Models__default__ApiKey"] = _model.ApiKey,
            ["Platform__AI__Models__default__Retries"] = "0",
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_model is not null) await _model.DisposeAsync();
    }

    private static JsonObject Literal(string typeName, string value) => new()
    {
        ["typeName"] = typeName, ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value },
    };

    private static JsonObject Node(string id, string type, double x, params (string Name, JsonNode Value)[] inputs)
    {
        var node = new JsonObject
        {
            ["id"] = id, ["nodeId"] = $"Workflow1:flow1:{id}", ["type"] = type, ["version"] = 1, ["name"] = id,
            ["customProperties"] = new JsonObject(),
            ["metadata"] = new JsonObject { ["designer"] = new JsonObject { ["position"] = new JsonObject { ["x"] = x, ["y"] = 0 } } },
        };
        foreach (var (name, value) in inputs) node[name] = value;
        return node;
    }

    private static JsonObject Workflow(string definitionId, string name, params JsonObject[] activities) => new()
    {
        ["definitionId"] = definitionId, ["name"] = name,
        ["root"] = new JsonObject
        {
            ["id"] = "flow1", ["nodeId"] = "Workflow1:flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["name"] = "Flowchart1",
            ["activities"] = new JsonArray(activities.Select(a => (JsonNode)a).ToArray()), ["connections"] = new JsonArray(),
        },
    };

    private static async Task<JsonObject> LatestAsync(HttpClient api, string definitionId) =>
        JsonNode.Parse(await api.GetStringAsync($"/elsa/api/workflow-definitions/by-definition-id/{definitionId}?versionOptions=Latest"))!.AsObject();

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<Task<string>> describe)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, await describe());
            await Task.Delay(250);
        }
    }

    private static async Task PublishByMouseAsync(IPage page)
    {
        await page.Locator(".mud-button-group-root button.mud-primary-text").First.ClickAsync();
        await page.GetByText("Workflow published").First.WaitForAsync();
    }

    [Fact(Timeout = 600_000)]
    public async Task Should_CallTheWorkflow_When_AnAnalystMarksItUsableAsActivityAndTicksItInTheAgentsTools()
    {
        // Arrange: a knowledge base and two drafts made after the server started: the tool workflow (a described input
        // "city"; it sets the output "weather") and an agent.
        var server = _server!;
        var model = _model!;
        using var api = server.Api();
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var kb = "kb-" + suffix;
        (await api.PostAsJsonAsync("/api/knowledge", new JsonObject { ["name"] = kb })).EnsureSuccessStatusCode();
        var toolId = "tool-" + suffix;
        var toolWorkflow = Workflow(toolId, "Weather " + suffix, Node("w", "Elsa.WriteLine", 0, ("text", new JsonObject
        {
            ["typeName"] = "String",
            ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "setOutput('weather', 'Sunny in ' + getInput('city')); 'looked up'" },
        })));
        toolWorkflow["description"] = "Looks up the weather of a city.";
        toolWorkflow["inputs"] = new JsonArray(new JsonObject
        {
            ["name"] = "city", ["type"] = "String", ["displayName"] = "City", ["description"] = "The city.", ["isRequired"] = true,
            ["uiHint"] = "singleline", ["category"] = "",
        });
        (await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = toolWorkflow, ["publish"] = false })).EnsureSuccessStatusCode();
        var toolName = "workflow_weather_" + suffix;
        var agentId = "agent-" + suffix;
        var agentWorkflow = Workflow(agentId, "Weather agent " + suffix,
            Node("agent1", "Platform.AiAgent", 0, ("prompt", Literal("String", "What is the weather in Oslo?"))));
        (await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = agentWorkflow, ["publish"] = false })).EnsureSuccessStatusCode();
        model.Reply = (messages, _) => messages.LastOrDefault(m => m?["role"]?.GetValue<string>() == "tool") is { } result
            ? FakeOpenAiReply.Text("Tool said: " + JsonNode.Parse(result["content"]!.ToString())!["output"]!["weather"])
            : FakeOpenAiReply.Calls((toolName, "{\"city\":\"Oslo\"}"));

        await using var browser = await StudioBrowser.LaunchAsync(server.Site);
        var page = browser.Page;
        try
        {
            // Act 1: tick "Usable as activity" in the tool workflow's Properties tab and publish it.
            var key = Uri.EscapeDataString(server.ApiKey);
            await page.GotoAsync(new Uri(server.Site, $"/workflows/definitions/{toolId}/edit?key={key}").ToString());
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync(new() { Timeout = 120_000 });
            await canvas.Locator("g.x6-node[data-cell-id='w']").WaitForAsync(new() { Timeout = 60_000 });
            await page.Locator(".mud-checkbox", new() { HasTextRegex = UsableAsActivity() }).First.ClickAsync(new() { Timeout = 30_000 });
            await WaitUntilAsync(async () => (await LatestAsync(api, toolId))["options"]?["usableAsActivity"]?.GetValue<bool>() == true,
                async () => $"The Studio did not save 'Usable as activity': {(await LatestAsync(api, toolId))["options"]?.ToJsonString()}");
            await PublishByMouseAsync(page);

            // Act 2: the agent's designer (loaded afresh) offers the workflow as a tool and the new knowledge base; tick and pick them.
            await page.GotoAsync(new Uri(server.Site, $"/workflows/definitions/{agentId}/edit?key={key}").ToString());
            await canvas.WaitForAsync(new() { Timeout = 120_000 });
            var agent = canvas.Locator("g.x6-node[data-cell-id='agent1']");
            await agent.WaitForAsync(new() { Timeout = 60_000 });
            var box = await agent.BoundingBoxAsync() ?? throw new InvalidOperationException("the agent node is not on the canvas");
            await page.Mouse.ClickAsync(box.X + Math.Min(30, box.Width / 4), box.Y + box.Height / 2);
            await page.Locator("[role='tab']", new() { HasTextRegex = InputTab() }).First.ClickAsync(new() { Timeout = 15_000 });
            await page.Locator(".mud-checkbox", new() { HasTextRegex = new Regex($"^\\s*{Regex.Escape(toolName)}\\s*$") }).First.ClickAsync(new() { Timeout = 30_000 });
            await Editor(page, "Knowledge Base").Locator(".mud-select, .mud-input").First.ClickAsync();
            await page.Locator(".mud-popover-open").GetByText(kb, new() { Exact = true }).First.ClickAsync();
            await WaitUntilAsync(async () =>
            {
                var saved = (await LatestAsync(api, agentId))["root"]!["activities"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == "agent1")!;
                return saved["tools"]?.ToJsonString().Contains(toolName, StringComparison.Ordinal) == true
                    && saved["knowledgeBase"]?.ToJsonString().Contains(kb, StringComparison.Ordinal) == true;
            }, async () => $"The editor did not save the agent's tools and knowledge base: {(await LatestAsync(api, agentId))["root"]!.ToJsonString()}");
            await PublishByMouseAsync(page);
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_CallTheWorkflow_When_AnAnalystMarksItUsableAsActivityAndTicksItInTheAgentsTools));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), server.Output);
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }

        // Act 3: run the published agent.
        using var run = await api.PostAsJsonAsync($"/elsa/api/workflow-definitions/{agentId}/execute", new JsonObject { ["versionOptions"] = "Published" });
        run.EnsureSuccessStatusCode();

        // Assert: the model was offered the workflow (described by its description, its input as a typed argument), asked for it,
        // and got the sub-workflow's output as the tool result.
        Assert.Equal(2, model.Requests.Count);
        var function = model.Requests[0].Json!["tools"]!.AsArray().Select(t => t!["function"]!).Single(f => f["name"]!.GetValue<string>() == toolName);
        Assert.Equal("Looks up the weather of a city.", function["description"]!.GetValue<string>());
        Assert.Equal("string", function["parameters"]!["properties"]!["city"]!["type"]!.GetValue<string>());
        var toolMessage = model.Conversations[1].Last(m => m!["role"]!.GetValue<string>() == "tool")!;
        Assert.Contains("Sunny in Oslo", toolMessage["content"]!.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The visible field labelled <paramref name="label"/> in the property panel.</summary>
    private static ILocator Editor(IPage page, string label) =>
        page.Locator(".mud-input-control:visible", new() { Has = page.Locator("label", new() { HasTextRegex = new Regex($"^\\s*{Regex.Escape(label)}\\s*$") }) }).First;

    [GeneratedRegex("^\\s*Usable as activity\\s*$")]
    private static partial Regex UsableAsActivity();

    [GeneratedRegex("^\\s*Input\\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex InputTab();
}
