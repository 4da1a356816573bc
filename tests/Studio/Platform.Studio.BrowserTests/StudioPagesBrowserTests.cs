using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// Our pages in headless Chromium against a server process with the embedded MQTT broker and simulated devices: the shared
/// navigation bar, the Devices page (registry, test command, live state, audit), the Data sources page (create, test connection,
/// read-only query), the test console and Replay from the Conversations page. Mouse and keyboard only. Set
/// STUDIO_DOCS_SCREENSHOTS to a directory to keep a screenshot of each page (docs/images).
/// </summary>
public sealed class StudioPagesBrowserTests : IAsyncLifetime
{
    private ServerProcess? _server;
    private readonly string _temp = TestPaths.NewTempDirectory("studio-pages");

    private Uri Site => _server!.Site;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("studio-pages", "/devices", new Dictionary<string, string?>
    {
        ["Platform__Mqtt__EmbeddedPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Platform__Devices__Simulate"] = "true",
    });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        SqliteConnection.ClearAllPools();
        TestPaths.TryDelete(_temp);
    }

    private static async Task ScreenshotAsync(IPage page, string name)
    {
        var directory = Environment.GetEnvironmentVariable("STUDIO_DOCS_SCREENSHOTS");
        if (string.IsNullOrEmpty(directory)) return;
        Directory.CreateDirectory(directory);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), Type = ScreenshotType.Png });
    }

    private async Task RunAsync(string testName, Func<IPage, Task> body)
    {
        await using var browser = await StudioBrowser.LaunchAsync(Site);
        try
        {
            await browser.Page.SetViewportSizeAsync(1280, 760);
            await body(browser.Page);
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(testName);
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server?.Output ?? "");
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }

    /// <summary>Whether the link is inside the window and its centre hits it (nothing covers it).</summary>
    private static async Task<string?> NavigationLinkProblemAsync(ILocator link, int width, int height)
    {
        var box = await link.BoundingBoxAsync();
        if (box is null) return "not shown";
        if (box.X < 0 || box.Y < 0 || box.X + box.Width > width || box.Y + box.Height > height)
            return $"outside the {width}×{height} window (x {box.X:0}–{box.X + box.Width:0}, y {box.Y:0}–{box.Y + box.Height:0})";
        var hit = await link.EvaluateAsync<bool>(
            "a => { const r = a.getBoundingClientRect(); const e = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2); return a === e || a.contains(e); }");
        return hit ? null : "covered by another element";
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_ShowEveryNavigationLinkInsideTheWindow_When_TheWindowIs1280To1440PixelsWide()
    {
        await RunAsync(nameof(Should_ShowEveryNavigationLinkInsideTheWindow_When_TheWindowIs1280To1440PixelsWide), async page =>
        {
            var key = Uri.EscapeDataString(_server!.ApiKey);
            foreach (var path in (string[])["/intents", "/workflows/definitions"])
            {
                await page.SetViewportSizeAsync(1280, 760);
                await page.GotoAsync(new Uri(Site, $"{path}?key={key}").ToString());
                await page.GetByTestId("sign-out").WaitForAsync();
                if (path == "/workflows/definitions") await page.Locator("elsa-workflow-definition-list h5").First.WaitForAsync();

                foreach (var width in (int[])[1280, 1366, 1440])
                {
                    await page.SetViewportSizeAsync(width, 760);
                    var links = page.Locator(".ps-nav a");
                    var count = await links.CountAsync();
                    Assert.True(count >= 15, $"{path}: {count} navigation links");
                    var problems = new List<string>();
                    for (var i = 0; i < count; i++)
                    {
                        var link = links.Nth(i);
                        if (await NavigationLinkProblemAsync(link, width, 760) is { } problem)
                            problems.Add($"{await link.TextContentAsync()}: {problem}");
                    }
                    foreach (var id in (string[])["sign-out", "nav-keys", "nav-users", "nav-audit"])
                        if (await NavigationLinkProblemAsync(page.GetByTestId(id), width, 760) is { } problem) problems.Add($"{id}: {problem}");
                    var scrolls = await page.EvaluateAsync<bool>(
                        "() => document.documentElement.scrollWidth > innerWidth || [...document.querySelectorAll('.ps-bar, .ps-nav')].some(e => e.scrollWidth > e.clientWidth)");
                    if (scrolls) problems.Add("the page or the bar scrolls sideways");
                    Assert.True(problems.Count == 0, $"{path} at {width} px: " + string.Join("; ", problems));
                }
            }

            // A link of the second row works with the mouse (on the Elsa page, the last one visited).
            await page.SetViewportSizeAsync(1280, 760);
            await page.GetByTestId("nav-audit").ClickAsync();
            await page.WaitForURLAsync(new Uri(Site, "/audit").ToString());
            Assert.Equal("page", await page.GetByTestId("nav-audit").GetAttributeAsync("aria-current"));

            // 320 px: the page does not scroll sideways; the bar's links scroll within it and stay clickable.
            await page.SetViewportSizeAsync(320, 640);
            Assert.False(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth > innerWidth"), "The page scrolls sideways at 320 px.");
            Assert.Null(await NavigationLinkProblemAsync(page.GetByTestId("sign-out"), 320, 640));
            await page.GetByTestId("nav-keys").ClickAsync();
            await page.WaitForURLAsync(new Uri(Site, "/keys").ToString());
            Assert.Equal("page", await page.GetByTestId("nav-keys").GetAttributeAsync("aria-current"));
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_ManageDevicesAndDataSourcesFromOneNavigation_When_AnAnalystUsesOurPages()
    {
        var shop = Path.Combine(_temp, "shop.db");
        await using (var db = new SqliteConnection($"Data Source={shop};Pooling=False"))
        {
            await db.OpenAsync();
            await using var create = db.CreateCommand();
            create.CommandText = "CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT); INSERT INTO orders (status) VALUES ('open'), ('open'), ('shipped');";
            await create.ExecuteNonQueryAsync();
        }

        await RunAsync(nameof(Should_ManageDevicesAndDataSourcesFromOneNavigation_When_AnAnalystUsesOurPages), async page =>
        {
            // The Intents page without a key: only the sign-in form, no "New set" panel and no navigation links.
            await page.GotoAsync(new Uri(Site, "/intents").ToString());
            await page.Locator("#in-sign-in").WaitForAsync();
            Assert.False(await page.GetByTestId("new-set").IsVisibleAsync());
            Assert.False(await page.GetByTestId("nav-devices").IsVisibleAsync());
            Assert.False(await page.GetByTestId("sign-out").IsVisibleAsync());
            await ScreenshotAsync(page, "sign-in");

            // Sign in with the key typed into the form: the bar shows every page and Sign out.
            await page.Locator("#in-key").FillAsync(_server!.ApiKey);
            await page.Locator("#in-key").PressAsync("Enter");
            await page.GetByTestId("new-set").WaitForAsync();
            string[] sections = ["definitions", "instances", "intents", "channels", "conversations", "devices", "data-sources", "test-console", "hangfire"];
            foreach (var section in sections) Assert.True(await page.GetByTestId("nav-" + section).IsVisibleAsync(), $"The bar lacks {section}.");
            Assert.True(await page.GetByTestId("sign-out").IsVisibleAsync());
            Assert.Equal("page", await page.GetByTestId("nav-intents").GetAttributeAsync("aria-current"));

            // The Elsa definitions page has the same bar; its heading reads "Workflow definitions".
            await page.GetByTestId("nav-definitions").ClickAsync();
            var heading = page.Locator("elsa-workflow-definition-list h5").First;
            await heading.WaitForAsync();
            await page.WaitForFunctionAsync("() => document.querySelector('elsa-workflow-definition-list h5')?.textContent.trim() === 'Workflow definitions'");
            Assert.Equal("page", await page.GetByTestId("nav-definitions").GetAttributeAsync("aria-current"));
            Assert.True(await page.GetByTestId("nav-test-console").IsVisibleAsync());
            await ScreenshotAsync(page, "workflows");

            // Devices: the seeded demo devices; register a porch light and switch it on with a test command.
            await page.GetByTestId("nav-devices").ClickAsync();
            await page.Locator("[data-device='kitchen-light']").WaitForAsync();
            Assert.Equal("page", await page.GetByTestId("nav-devices").GetAttributeAsync("aria-current"));
            await page.GetByTestId("new-device").ClickAsync();
            await page.GetByTestId("device-id").FillAsync("porch-light");
            await page.GetByTestId("device-name").FillAsync("Porch light");
            await page.GetByTestId("device-type").SelectOptionAsync("light");
            await page.GetByTestId("device-room").FillAsync("porch");
            await page.GetByTestId("save").ClickAsync();
            await page.GetByTestId("status").GetByText("Saved.").WaitForAsync();
            await page.Locator("[data-device='porch-light']").WaitForAsync();
            await page.GetByTestId("command").FillAsync("on");
            await page.GetByTestId("command").PressAsync("Enter");
            await page.Locator("[data-testid='command-result'][data-outcome='Done']").WaitForAsync();
            await page.Locator("[data-testid='state'] [data-property='on']").GetByText("true").WaitForAsync();
            var audit = page.GetByTestId("audit-row").First;
            await audit.WaitForAsync();
            Assert.Contains("porch", (await audit.InnerTextAsync()).ToLowerInvariant());
            Assert.Contains("studio", await audit.InnerTextAsync());
            await ScreenshotAsync(page, "devices");

            // A bad value is refused with the reason, not a crash.
            await page.GetByTestId("command").FillAsync("set_level");
            await page.GetByTestId("send-command").ClickAsync();
            await page.Locator("[data-testid='command-result'][data-outcome='Rejected']").WaitForAsync();

            // Data sources: create one on the SQLite file, test the connection and run a read-only query.
            await page.GetByTestId("nav-data-sources").ClickAsync();
            await page.GetByTestId("new-data-source").ClickAsync();
            await page.GetByTestId("data-source-name").FillAsync("orders-db");
            await page.GetByTestId("data-source-provider").SelectOptionAsync("Sqlite");
            await page.GetByTestId("data-source-connection").FillAsync($"Data Source={shop}");
            await page.GetByTestId("save").ClickAsync();
            await page.GetByTestId("status").GetByText("Saved.").WaitForAsync();
            Assert.DoesNotContain("key=", page.Url);
            await page.GetByTestId("test-connection").ClickAsync();
            await page.GetByTestId("status").GetByText("Connected").WaitForAsync();
            await page.GetByTestId("query-sql").FillAsync("SELECT status, COUNT(*) AS n FROM orders WHERE status = @status GROUP BY status");
            await page.GetByTestId("query-parameters").FillAsync("{\"status\": \"open\"}");
            await page.GetByTestId("run-query").ClickAsync();
            await page.GetByTestId("query-status").GetByText("1 row").WaitForAsync();
            Assert.Equal("open\t2", (await page.GetByTestId("result-row").First.InnerTextAsync()).Trim());
            await ScreenshotAsync(page, "data-sources");
            await page.GetByTestId("query-sql").FillAsync("DELETE FROM orders");
            await page.GetByTestId("run-query").ClickAsync();
            await page.GetByTestId("query-status").GetByText("read-only").WaitForAsync();

            // Sign out from our page signs out everywhere.
            await page.GetByTestId("sign-out").ClickAsync();
            await page.Locator("#ds-sign-in").WaitForAsync();
            Assert.False(await page.GetByTestId("sign-out").IsVisibleAsync());
        });

        // The porch light was really switched through the registry, the broker and the simulator.
        using var api = _server!.Api();
        var state = await api.GetFromJsonAsync<JsonObject>("/api/devices/porch-light/state");
        Assert.True(state!["state"]!["on"]!.GetValue<bool>());
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_ShowWorkflowPathAndReplyAndReplay_When_AnAnalystUsesTheTestConsole()
    {
        // Arrange: a web chat channel of its own, answered by a published echo workflow.
        using var api = _server!.Api();
        var channel = "console-" + Guid.NewGuid().ToString("N")[..8];
        using (var created = await api.PostAsJsonAsync("/api/channels", new JsonObject { ["name"] = channel, ["kind"] = "WebChat" }))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var workflow = EchoWorkflow(channel);
        using (var saved = await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = workflow, ["publish"] = true }))
            Assert.Equal(HttpStatusCode.OK, saved.StatusCode);

        await RunAsync(nameof(Should_ShowWorkflowPathAndReplyAndReplay_When_AnAnalystUsesTheTestConsole), async page =>
        {
            // Act: type a message as user "ada" on the channel.
            await page.GotoAsync(new Uri(Site, $"/test-console?key={Uri.EscapeDataString(_server.ApiKey)}").ToString());
            await page.GetByTestId("console-channel").SelectOptionAsync(channel);
            await page.GetByTestId("console-user").FillAsync("ada");
            await page.GetByTestId("console-text").FillAsync("hello there");
            await page.GetByTestId("console-text").PressAsync("Enter");

            // Assert: the workflow, its path, the reply and the journal link.
            var result = page.GetByTestId("console-result").First;
            await result.GetByTestId("console-reply").WaitForAsync();
            Assert.Equal("echo: hello there", (await result.GetByTestId("console-reply").InnerTextAsync()).Trim());
            Assert.Contains("console echo", await result.GetByTestId("console-workflow").InnerTextAsync());
            Assert.Equal(2, await result.Locator("[data-testid='console-path'] li").CountAsync());
            Assert.Equal("received", await result.Locator("[data-testid='console-path'] li").Nth(0).GetAttributeAsync("data-activity"));
            var href = await result.GetByTestId("console-instance-link").GetAttributeAsync("href");
            Assert.Matches("^/workflows/instances/[^/]+/view$", href);
            await ScreenshotAsync(page, "test-console");

            // Replay: the turn on the Conversations page goes back through the console.
            await page.GetByTestId("nav-conversations").ClickAsync();
            await page.Locator($"[data-testid='conversation-item'][data-key='webchat:{channel}:console-ada']").ClickAsync();
            await page.GetByTestId("replay").First.ClickAsync();
            var replayed = page.GetByTestId("console-result").First;
            await replayed.GetByTestId("console-reply").WaitForAsync();
            Assert.EndsWith("/test-console", page.Url);
            Assert.Equal("echo: hello there", (await replayed.GetByTestId("console-reply").InnerTextAsync()).Trim());
        });
    }

    private static JsonObject EchoWorkflow(string channel) => new()
    {
        ["name"] = "console echo " + channel,
        ["variables"] = new JsonArray(),
        ["root"] = new JsonObject
        {
            ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
            ["activities"] = new JsonArray(
                new JsonObject
                {
                    ["id"] = "received", ["type"] = "Platform.MessageReceived", ["version"] = 1, ["name"] = "received",
                    ["channel"] = new JsonObject { ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = channel } },
                },
                new JsonObject
                {
                    ["id"] = "reply", ["type"] = "Platform.SendReply", ["version"] = 1, ["name"] = "reply",
                    ["text"] = new JsonObject { ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'echo: ' + getOutput('received', 'Text')" } },
                }),
            ["connections"] = new JsonArray(new JsonObject
            {
                ["source"] = new JsonObject { ["activity"] = "received", ["port"] = "Done" },
                ["target"] = new JsonObject { ["activity"] = "reply", ["port"] = "In" },
                ["vertices"] = new JsonArray(),
            }),
        },
    };
}
