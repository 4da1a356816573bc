using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Channels.Webhooks;
using Platform.Studio.BrowserTests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// Walks every page of the Studio once on a server with the demo on (the seed assistant, the shop database, simulated devices)
/// and checks that each renders its content without a page error (our own pages also without any console error). With
/// <c>STUDIO_DOCS_SCREENSHOTS=docs/images</c> it writes the screenshots of docs/studio.md: the workflow list, the designer
/// with the seed assistant and Recognize Intent's property panel, Intents, Channels, Conversations with a hand-off, Devices,
/// Data sources, Knowledge, Keys, Users, Audit, Templates, the test console and the web chat at 320 and 1440 px.
/// </summary>
public sealed class DocsScreenshotsStudioTests : IAsyncLifetime
{
    private const string WebhookSecret = "docs-screenshots-webhook-secret-0123";
    private ServerProcess? _server;

    private Uri Site => _server!.Site;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("docs-screenshots", "/health", new Dictionary<string, string?>
    {
        ["Platform__Demo__Enabled"] = "true",
        ["Platform__Devices__Simulate"] = "true",
        ["Platform__Mqtt__EmbeddedPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact(Timeout = 600_000)]
    public async Task Should_RenderEveryPageWithoutPageErrors_When_AnAnalystVisitsEachPage()
    {
        await using var receiver = await LoopbackReceiver.StartAsync();
        using var api = _server!.Api();
        await ArrangeAsync(api, receiver);

        await using var browser = await StudioBrowser.LaunchAsync(Site);
        var page = browser.Page;
        var problems = new List<string>();
        var current = "";
        try
        {
            await page.SetViewportSizeAsync(1440, 900);

            // The Elsa pages: the workflow list, the designer with the seed assistant, Recognize Intent's property panel.
            current = "workflow list";
            var checkpoint = browser.ConsoleLog.Count;
            await page.GotoAsync(Url($"/workflows/definitions?key={Uri.EscapeDataString(_server.ApiKey)}"));
            await page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("create workflow", System.Text.RegularExpressions.RegexOptions.IgnoreCase) }).First.WaitForAsync();
            await page.Locator("tr", new() { HasText = "desk" }).First.WaitForAsync(); // the list has loaded its rows
            await ShotAsync(page, "workflows");
            CheckConsole(browser, checkpoint, current, problems, elsaPage: true);

            current = "designer";
            checkpoint = browser.ConsoleLog.Count;
            await page.GotoAsync(Url("/workflows/definitions/assistant/edit"));
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync(new() { Timeout = 120_000 });
            var intent = canvas.Locator("g.x6-node[data-cell-id='intent']");
            await intent.WaitForAsync(new() { Timeout = 60_000 });
            // The seed flow is larger than the canvas: the toolbar's first button fits it to the canvas.
            await page.Locator(".mud-toolbar", new() { HasText = "Auto-save" }).Locator("button").First.ClickAsync();
            await page.WaitForTimeoutAsync(1000); // the designer animates the zoom
            await ShotAsync(page, "designer-assistant");
            var box = await intent.BoundingBoxAsync() ?? throw new InvalidOperationException("The Recognize Intent node is not on the canvas.");
            await page.Mouse.ClickAsync(box.X + Math.Min(30, box.Width / 4), box.Y + box.Height / 2);
            await page.Locator("[role='tab']", new() { HasText = "Input" }).First.ClickAsync();
            await page.Locator("form.mud-form > div[role='group']", new() { HasText = "Text" }).First.WaitForAsync(new() { Timeout = 30_000 });
            await ShotAsync(page, "designer-recognize-intent");
            CheckConsole(browser, checkpoint, current, problems, elsaPage: true);

            // Our pages.
            await OwnPageAsync(browser, "intents", "in-app", problems, async () =>
                await page.Locator("[data-testid='set-list'] button").First.ClickAsync());
            await OwnPageAsync(browser, "channels", "ch-app", problems, async () =>
                await page.Locator("[data-testid='channel-list'] button", new() { HasText = "desk" }).First.ClickAsync());
            await OwnPageAsync(browser, "conversations", "cv-app", problems, async () =>
            {
                await page.GetByTestId("handoff-item").First.ClickAsync();
                await page.Locator(".cv-handoff").First.WaitForAsync();
            }, shot: "conversations-handoff");
            await OwnPageAsync(browser, "devices", "dv-app", problems, async () =>
                await page.Locator("[data-testid='device-list'] button").First.ClickAsync());
            await OwnPageAsync(browser, "data-sources", "ds-app", problems, async () =>
                await page.Locator("[data-testid='data-source-list'] button").First.ClickAsync());
            await OwnPageAsync(browser, "knowledge", "kb-app", problems, async () =>
            {
                await page.Locator("[data-testid='knowledge-base-list'] button").First.ClickAsync();
                await page.Locator("[data-testid='document-row']").First.WaitForAsync();
            });
            await OwnPageAsync(browser, "templates", "tp-app", problems, null);
            await OwnPageAsync(browser, "keys", "ky-app", problems, null);
            await OwnPageAsync(browser, "users", "us-app", problems, null);
            await OwnPageAsync(browser, "audit", "au-app", problems, async () =>
                await page.GetByTestId("audit-row").First.WaitForAsync());
            await OwnPageAsync(browser, "packs", "pk-app", problems, null, shot: "");
            await OwnPageAsync(browser, "test-console", "tc-app", problems, async () =>
            {
                await page.GetByTestId("console-text").FillAsync("how many orders came in today?");
                await page.GetByTestId("console-text").PressAsync("Enter");
                await page.GetByTestId("console-result").First.GetByTestId("console-reply").WaitForAsync(new() { Timeout = 60_000 });
            });

            // The web chat, narrow and wide: the newest reply is on screen.
            foreach (var width in (int[])[320, 1440])
            {
                current = $"web chat at {width} px";
                checkpoint = browser.ConsoleLog.Count;
                await page.SetViewportSizeAsync(width, width < 600 ? 640 : 900);
                await page.GotoAsync(Url("/chat"));
                await page.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();
                await page.Locator("#chat-input").FillAsync("how many orders came in today?");
                await page.Locator("#chat-input").PressAsync("Enter");
                var reply = page.Locator(".chat-msg.bot", new() { HasText = "orders" }).Last;
                await reply.WaitForAsync(new() { Timeout = 60_000 });
                await Assertions.Expect(reply).ToBeInViewportAsync();
                await ShotAsync(page, $"web-chat-{width}");
                CheckConsole(browser, checkpoint, current, problems, elsaPage: false);
            }

            Assert.True(problems.Count == 0, string.Join("\n", problems));
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_RenderEveryPageWithoutPageErrors_When_AnAnalystVisitsEachPage));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server.Output);
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"While on {current}: {failure.Message}\n(artifacts: {directory})", failure);
        }

        async Task OwnPageAsync(StudioBrowser b, string path, string appId, List<string> found, Func<Task>? then, string? shot = null)
        {
            current = "/" + path;
            var start = b.ConsoleLog.Count;
            await page.GotoAsync(Url("/" + path));
            await page.Locator("#" + appId).WaitForAsync();
            Assert.Equal("page", await page.GetByTestId("nav-" + path).GetAttributeAsync("aria-current"));
            if (then is not null) await then();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            if (shot != "") await ShotAsync(page, shot ?? path);
            CheckConsole(b, start, current, found, elsaPage: false);
        }
    }

    private string Url(string path) => new Uri(Site, path).ToString();

    /// <summary>A page error is a problem on every page; on our pages any console error is too (the Studio bundle logs its own).</summary>
    private static void CheckConsole(StudioBrowser browser, int from, string where, List<string> problems, bool elsaPage)
    {
        foreach (var line in browser.ConsoleLog.Skip(from))
        {
            if (line.Contains("[pageerror]", StringComparison.Ordinal) || (!elsaPage && line.Contains("[error]", StringComparison.Ordinal)))
                problems.Add($"{where}: {line}");
        }
    }

    private static async Task ShotAsync(IPage page, string name)
    {
        var directory = Environment.GetEnvironmentVariable("STUDIO_DOCS_SCREENSHOTS");
        if (string.IsNullOrEmpty(directory)) return;
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), Type = ScreenshotType.Png });
    }

    /// <summary>Data for the pages: a webhook channel whose workflow hands a conversation to people (one waiting), a knowledge base.</summary>
    private static async Task ArrangeAsync(HttpClient api, LoopbackReceiver receiver)
    {
        using (var created = await api.PostAsJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = "desk", ["kind"] = "Webhook",
            ["settings"] = new JsonObject { ["secret"] = WebhookSecret, ["outboundUrl"] = receiver.Url("/replies").ToString() },
        })) Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var model = new JsonObject
        {
            ["definitionId"] = "desk-handoff", ["name"] = "Help desk hand-off", ["variables"] = new JsonArray(),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["nodeId"] = "Workflow1:flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["name"] = "Flowchart1",
                ["activities"] = new JsonArray(
                    Node("received", "Platform.MessageReceived", 0, ("channel", Literal("desk"))),
                    Node("ask", "Platform.SendReply", 280, ("text", Literal("Let me get a person."))),
                    Node("handoff", "Platform.HandOffToHuman", 560, ("reason", Literal("Refund request")), ("timeout", Literal("01:00:00", "TimeSpan")))),
                ["connections"] = new JsonArray(Connection("received", "ask"), Connection("ask", "handoff")),
            },
        };
        using (var saved = await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true }))
            Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        var body = new JsonObject { ["id"] = "ada-1", ["sender"] = new JsonObject { ["id"] = "ada", ["name"] = "Ada" }, ["text"] = "I want my money back for order 1042" }.ToJsonString();
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/channels/desk/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") })
        {
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, WebhookSecret));
            using var response = await api.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !receiver.Requests.Any(r => r.Body.Contains("Let me get a person.", StringComparison.Ordinal)); await Task.Delay(100))
            Assert.True(DateTime.UtcNow < deadline, "The hand-off workflow did not answer.");

        using (var kb = await api.PostAsJsonAsync("/api/knowledge", new JsonObject { ["name"] = "handbook", ["description"] = "The staff handbook" }))
            Assert.True(kb.IsSuccessStatusCode, await kb.Content.ReadAsStringAsync());
        const string Handbook = "# Returns\n\nCustomers may return goods within 30 days with the receipt.\n\n# Opening hours\n\nThe shop is open from 9:00 to 18:00, Monday to Saturday.\n";
        using var document = await api.PutAsync("/api/knowledge/handbook/documents/handbook.md", new StringContent(Handbook, Encoding.UTF8, "text/markdown"));
        Assert.True(document.IsSuccessStatusCode, await document.Content.ReadAsStringAsync());
    }

    private static JsonObject Literal(string value, string typeName = "String") => new()
    {
        ["typeName"] = typeName, ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value },
    };

    private static JsonObject Node(string id, string type, int x, params (string Key, JsonNode Value)[] inputs)
    {
        var node = new JsonObject
        {
            ["id"] = id, ["nodeId"] = $"Workflow1:flow1:{id}", ["type"] = type, ["version"] = 1, ["name"] = id, ["customProperties"] = new JsonObject(),
            ["metadata"] = new JsonObject { ["designer"] = new JsonObject { ["position"] = new JsonObject { ["x"] = x, ["y"] = 0 } } },
        };
        foreach (var (key, value) in inputs) node[key] = value;
        return node;
    }

    private static JsonObject Connection(string source, string target) => new()
    {
        ["source"] = new JsonObject { ["activity"] = source, ["port"] = "Done" },
        ["target"] = new JsonObject { ["activity"] = target, ["port"] = "In" },
        ["vertices"] = new JsonArray(),
    };
}
