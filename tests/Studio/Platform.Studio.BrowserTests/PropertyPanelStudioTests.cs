using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// Every browsable activity type (built-in and pack) opens in the genuine Studio's property panel with one editor per
/// browsable input of its descriptor and no "Unsupported" editor. The test lays the types out a few per workflow in a
/// small grid near the canvas origin (where the designer shows them), clicks each node and reads its Input tab.
/// </summary>
public sealed partial class PropertyPanelStudioTests : IAsyncLifetime
{
    private const int NodesPerWorkflow = 6;
    private const int Columns = 2;

    /// <summary>
    /// The grid's column spacing: wider than the widest node. (When HTTP Request was served as <c>Elsa.SendHttpRequest</c>,
    /// the Studio drew it with its own port provider, three embedded slots, about 410 px wide, and at 280 px it covered the
    /// node to its right.)
    /// </summary>
    private const int ColumnSpacing = 480;

    /// <summary>The editors of the Input tab: its children, less style blocks and the hidden option list a drop-down (e.g. the variable picker) puts beside its field.</summary>
    private const string EditorChildren = ":scope > :not(style):not(script):not([style*='display: none']):not([style*='display:none'])";

    /// <summary>Our HTTP Request; the Studio special-cases the name <c>Elsa.SendHttpRequest</c> (embedded drop slots).</summary>
    private const string HttpRequestType = "Platform.SendHttpRequest";

    private ServerProcess? _server;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("property-panels", "/health");

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private sealed record ActivityType(string TypeName, string DisplayName, int Version, IReadOnlyList<string> Inputs, IReadOnlyList<string> Labels);

    /// <summary>The Studio's switch cases editor is a table without the input's label; it is counted, not read.</summary>
    private static bool HasLabel(JsonNode input) => input["uiHint"]?.GetValue<string>() is not ("switch-editor" or "flow-switch-editor");

    private static JsonObject Node(string id, ActivityType type, double x, double y) => new()
    {
        ["id"] = id, ["nodeId"] = $"Workflow1:flow1:{id}", ["type"] = type.TypeName, ["version"] = type.Version, ["name"] = id,
        ["customProperties"] = new JsonObject(),
        ["metadata"] = new JsonObject { ["designer"] = new JsonObject { ["position"] = new JsonObject { ["x"] = x, ["y"] = y } } },
    };

    private static string Label(JsonNode? input) =>
        input!["displayName"]?.GetValue<string>() is { Length: > 0 } label ? label : input["name"]!.GetValue<string>();

    [Fact(Timeout = 600_000)]
    public async Task Should_ShowAnEditorForEveryInput_When_AnAnalystOpensEachActivityTypesPanel()
    {
        // Arrange: an intent set (so the per-set Recognize Intent type exists) and the browsable activity types.
        var server = _server!;
        using var api = server.Api();
        var set = new JsonObject
        {
            ["id"] = "panels", ["name"] = "Panels",
            ["intents"] = new JsonArray(
                new JsonObject { ["name"] = "greet", ["examples"] = new JsonArray("hello", "hi there", "good morning") },
                new JsonObject { ["name"] = "bye", ["examples"] = new JsonArray("goodbye", "see you", "bye for now") }),
        };
        (await api.PutAsJsonAsync("/api/intents/panels", set)).EnsureSuccessStatusCode();
        var types = JsonNode.Parse(await api.GetStringAsync("/elsa/api/descriptors/activities"))!["items"]!.AsArray()
            .Where(d => d!["isBrowsable"]?.GetValue<bool>() != false && d["typeName"]!.GetValue<string>() != "Elsa.Flowchart")
            .Select(d => new ActivityType(
                d!["typeName"]!.GetValue<string>(),
                d["displayName"]?.GetValue<string>() ?? d["typeName"]!.GetValue<string>(),
                d["version"]?.GetValue<int>() ?? 1,
                (d["inputs"]?.AsArray() ?? [])
                    .Where(i => i!["isBrowsable"]?.GetValue<bool>() != false)
                    .Select(Label)
                    .ToList(),
                (d["inputs"]?.AsArray() ?? [])
                    .Where(i => i!["isBrowsable"]?.GetValue<bool>() != false && HasLabel(i))
                    .Select(Label)
                    .ToList()))
            .OrderBy(t => t.TypeName, StringComparer.Ordinal)
            .ToList();
        Assert.Contains(types, t => t.TypeName == "Platform.RecognizeIntent.panels");
        Assert.Contains(types, t => t.TypeName == HttpRequestType);

        var groups = types.Chunk(NodesPerWorkflow).ToList();
        for (var g = 0; g < groups.Count; g++)
        {
            var activities = new JsonArray();
            for (var i = 0; i < groups[g].Length; i++) activities.Add(Node($"n{i}", groups[g][i], i % Columns * ColumnSpacing, i / Columns * 160));
            var model = new JsonObject
            {
                ["definitionId"] = $"panels-{g}", ["name"] = $"Panels {g}",
                ["variables"] = new JsonArray(new JsonObject { ["id"] = "v1", ["name"] = "counter", ["typeName"] = "Object", ["isArray"] = false }),
                ["root"] = new JsonObject
                {
                    ["id"] = "flow1", ["nodeId"] = "Workflow1:flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["name"] = "Flowchart1",
                    ["activities"] = activities, ["connections"] = new JsonArray(),
                },
            };
            (await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = false })).EnsureSuccessStatusCode();
        }

        await using var browser = await StudioBrowser.LaunchAsync(server.Site);
        var page = browser.Page;
        await page.SetViewportSizeAsync(1920, 1080); // room for two columns 480 px apart beside the palette and the workflow properties
        var problems = new List<string>();
        var current = "";
        string? shots = null;
        try
        {
            for (var g = 0; g < groups.Count; g++)
            {
                current = $"workflow panels-{g}";
                await page.GotoAsync(new Uri(server.Site, $"/workflows/definitions/panels-{g}/edit?key={Uri.EscapeDataString(server.ApiKey)}").ToString());
                var canvas = page.Locator(".graph-container.x6-graph");
                await canvas.WaitForAsync(new() { Timeout = 120_000 });
                await canvas.Locator($"g.x6-node[data-cell-id='n{groups[g].Length - 1}']").WaitForAsync(new() { Timeout = 60_000 });

                for (var i = 0; i < groups[g].Length; i++)
                {
                    var type = groups[g][i];
                    current = $"{type.TypeName} (\"{type.DisplayName}\")";
                    var node = canvas.Locator($"g.x6-node[data-cell-id='n{i}']");
                    var box = await node.BoundingBoxAsync() ?? throw new InvalidOperationException($"{current}: its node is not on the canvas");
                    if (type.TypeName == HttpRequestType) await CheckHttpRequestNodeAsync(node, problems);
                    // Click the node's icon: its centre can hold the designer's activity menu button.
                    await page.Mouse.ClickAsync(box.X + Math.Min(30, box.Width / 4), box.Y + box.Height / 2);

                    var inputTab = page.Locator("[role='tab']", new() { HasTextRegex = InputTab() }).First;
                    await inputTab.ClickAsync(new() { Timeout = 15_000 });
                    // The Input tab panel holds a form with one group whose children are the editors, one per input.
                    var panelId = await inputTab.GetAttributeAsync("aria-controls");
                    var stack = page.Locator($"[id='{panelId}'] form.mud-form > div[role='group']").First;

                    // Wait until the panel shows this node's inputs (the previous node's panel may still be on screen).
                    var labels = type.Labels;
                    var missing = labels.ToList();
                    var editors = -1;
                    var deadline = DateTime.UtcNow.AddSeconds(15);
                    var reclicked = false;
                    while (true)
                    {
                        if (type.Inputs.Count == 0)
                        {
                            editors = await stack.CountAsync() == 0 ? 0 : await stack.Locator(EditorChildren).CountAsync();
                            missing = [];
                        }
                        else if (await stack.CountAsync() > 0)
                        {
                            var panelText = await stack.InnerTextAsync();
                            editors = await stack.Locator(EditorChildren).CountAsync();
                            var lines = panelText.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                            missing = labels.Where(l => !lines.Contains(l, StringComparer.Ordinal)).ToList();
                        }

                        if ((missing.Count == 0 && editors == type.Inputs.Count) || DateTime.UtcNow > deadline) break;
                        if (DateTime.UtcNow > deadline.AddSeconds(-10) && !reclicked)
                        {
                            // The first click can land while the designer is still settling: click once more.
                            reclicked = true;
                            await page.Mouse.ClickAsync(box.X + Math.Min(30, box.Width / 4), box.Y + box.Height / 2);
                        }
                        await Task.Delay(200);
                    }

                    var before = problems.Count;
                    foreach (var label in missing) problems.Add($"{current}: no editor labelled \"{label}\" in its property panel");
                    if (editors != type.Inputs.Count)
                        problems.Add($"{current}: {editors} editor(s) in its Input tab, its descriptor has {type.Inputs.Count} browsable input(s) ({string.Join(", ", type.Inputs)})");
                    var pageText = await page.Locator("body").First.InnerTextAsync();
                    foreach (var line in pageText.Split('\n').Where(l => l.Contains("Unsupported", StringComparison.OrdinalIgnoreCase)))
                        problems.Add($"{current}: its property panel says \"{line.Trim()}\"");
                    if (problems.Count > before)
                    {
                        // What the page showed for this type, to see the cause without running it again.
                        shots ??= TestPaths.NewArtifactsDirectory(nameof(Should_ShowAnEditorForEveryInput_When_AnAnalystOpensEachActivityTypesPanel) + "-panels");
                        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(shots, type.TypeName + ".png") });
                    }
                }
            }

            Assert.True(problems.Count == 0, $"{problems.Count} problem(s) in {types.Count} activity types' panels:\n" + string.Join("\n", problems));
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_ShowAnEditorForEveryInput_When_AnAnalystOpensEachActivityTypesPanel));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), server.Output);
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"While checking {current}: {failure.Message}\n(artifacts: {directory})", failure);
        }
    }

    /// <summary>HTTP Request's node: exactly the Done and Failed outbound ports and none of Elsa's embedded drop slots.</summary>
    private static async Task CheckHttpRequestNodeAsync(ILocator node, List<string> problems)
    {
        var outPorts = node.Locator("[port-group='out'].x6-port-body");
        await outPorts.First.WaitForAsync(new() { State = WaitForSelectorState.Attached });
        var names = new List<string>();
        for (var i = 0; i < await outPorts.CountAsync(); i++) names.Add(await outPorts.Nth(i).GetAttributeAsync("port") ?? "?");
        if (!names.Order(StringComparer.Ordinal).SequenceEqual(["Done", "Failed"]))
            problems.Add($"{HttpRequestType}: outbound ports {string.Join(", ", names)}, expected Done and Failed");
        var text = await node.TextContentAsync() ?? "";
        foreach (var slot in (string[])["Unmatched status code", "Failed to connect", "Timeout"])
            if (text.Contains(slot, StringComparison.OrdinalIgnoreCase)) problems.Add($"{HttpRequestType}: its node shows the embedded slot \"{slot}\"");
        var box = await node.BoundingBoxAsync();
        if (box is { Width: > 380 }) problems.Add($"{HttpRequestType}: its node is {box.Width:0} px wide (embedded slots?)");
    }

    [GeneratedRegex("^\\s*Input\\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex InputTab();
}
