using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// "Recognize Intent: &lt;set&gt;" has one port per intent; with 7 intents each port can be hit and read on the canvas. The
/// test drags from every port of the node to its own target by mouse and checks the connections the Studio saved.
/// </summary>
public sealed class IntentPortsStudioTests : IAsyncLifetime
{
    private static readonly string[] IntentNames = ["greet", "bye", "orders_today", "low_stock", "device_on", "device_off", "weather"];

    private ServerProcess? _server;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("intent-ports", "/health");

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private static JsonObject Intent(string name) => new()
    {
        ["name"] = name, ["examples"] = new JsonArray($"{name} one", $"{name} two please", $"about {name} three"),
    };

    private static JsonObject Node(string id, string type, double x, double y) => new()
    {
        ["id"] = id, ["nodeId"] = $"Workflow1:flow1:{id}", ["type"] = type, ["version"] = 1, ["name"] = id, ["customProperties"] = new JsonObject(),
        ["metadata"] = new JsonObject { ["designer"] = new JsonObject { ["position"] = new JsonObject { ["x"] = x, ["y"] = y } } },
    };

    [Fact(Timeout = 300_000)]
    public async Task Should_ConnectEachIntentPort_When_AnAnalystDragsFromItWithTheMouse()
    {
        // Arrange: a 7-intent set and a workflow with its node and one target per port (7 intents + OutOfScope).
        var server = _server!;
        using var api = server.Api();
        var set = new JsonObject { ["id"] = "seven", ["name"] = "Seven", ["intents"] = new JsonArray(IntentNames.Select(n => (JsonNode)Intent(n)).ToArray()) };
        (await api.PutAsJsonAsync("/api/intents/seven", set)).EnsureSuccessStatusCode();
        string[] ports = [.. IntentNames, "OutOfScope"];
        var activities = new JsonArray(Node("intent", "Platform.RecognizeIntent.seven", 0, 0));
        for (var i = 0; i < ports.Length; i++) activities.Add(Node($"t{i}", "Elsa.WriteLine", 450, i * 55 - 170));
        var model = new JsonObject
        {
            ["definitionId"] = "intent-ports", ["name"] = "Intent ports", ["variables"] = new JsonArray(),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["nodeId"] = "Workflow1:flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["name"] = "Flowchart1",
                ["activities"] = activities, ["connections"] = new JsonArray(),
            },
        };
        (await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = false })).EnsureSuccessStatusCode();

        await using var browser = await StudioBrowser.LaunchAsync(server.Site);
        var page = browser.Page;
        try
        {
            await page.GotoAsync(new Uri(server.Site, $"/workflows/definitions/intent-ports/edit?key={Uri.EscapeDataString(server.ApiKey)}").ToString());
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync(new() { Timeout = 120_000 });
            var intentNode = canvas.Locator("g.x6-node[data-cell-id='intent']");
            await canvas.Locator($"g.x6-node[data-cell-id='t{ports.Length - 1}']").WaitForAsync(new() { Timeout = 60_000 });
            var outPorts = intentNode.Locator("[port-group='out'].x6-port-body");
            await outPorts.Nth(ports.Length - 1).WaitForAsync(new() { State = WaitForSelectorState.Attached });
            Assert.Equal(ports.Length, await outPorts.CountAsync());

            // The ports are far enough apart to hit and to read their labels (at least 20 px; 7.5 px before).
            var centres = new List<double>();
            var portSize = 0.0;
            for (var i = 0; i < ports.Length; i++)
            {
                var box = await intentNode.Locator($"[port='{ports[i]}']").BoundingBoxAsync() ?? throw new InvalidOperationException($"port {ports[i]} not visible");
                centres.Add(box.Y + box.Height / 2);
                portSize = Math.Max(portSize, box.Height);
            }
            var gaps = centres.Zip(centres.Skip(1), (a, b) => b - a).ToList();
            Assert.True(gaps.All(g => g >= 20), $"Port gaps (px, port and label {portSize:0.0}): " + string.Join(", ", gaps.Select(g => g.ToString("0.0"))));

            // Act: drag from each port's centre to its target node.
            for (var i = 0; i < ports.Length; i++)
            {
                var from = await intentNode.Locator($"[port='{ports[i]}']").BoundingBoxAsync() ?? throw new InvalidOperationException($"port {ports[i]} not visible");
                // X6 connects only when the drag ends on an inbound port.
                var to = await canvas.Locator($"g.x6-node[data-cell-id='t{i}'] [port-group='in'].x6-port-body").BoundingBoxAsync()
                    ?? throw new InvalidOperationException($"t{i} not visible");
                await page.Mouse.MoveAsync(from.X + from.Width / 2, from.Y + from.Height / 2);
                await page.Mouse.DownAsync();
                await page.Mouse.MoveAsync(to.X + to.Width / 2, to.Y + to.Height / 2, new() { Steps = 12 });
                await page.Mouse.UpAsync();
            }

            // Assert: the auto-saved definition connects each port to its own target.
            var expected = ports.Select((p, i) => $"{p}->t{i}").Order(StringComparer.Ordinal).ToList();
            List<string> saved = [];
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                var latest = JsonNode.Parse(await api.GetStringAsync("/elsa/api/workflow-definitions/by-definition-id/intent-ports?versionOptions=Latest"))!;
                saved = latest["root"]!["connections"]!.AsArray()
                    .Where(c => c!["source"]!["activity"]!.GetValue<string>() == "intent")
                    .Select(c => $"{c!["source"]!["port"]!.GetValue<string>()}->{c["target"]!["activity"]!.GetValue<string>()}")
                    .Order(StringComparer.Ordinal).ToList();
                if (saved.SequenceEqual(expected)) break;
                await Task.Delay(500);
            }
            Assert.Equal(expected, saved);
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_ConnectEachIntentPort_When_AnAnalystDragsFromItWithTheMouse));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), server.Output);
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }
}
