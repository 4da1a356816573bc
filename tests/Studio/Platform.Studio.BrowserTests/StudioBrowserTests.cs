using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The Studio in headless Chromium against the real server (or the reference fake backend, see docs/studio.md).
/// Every wait is on something the Studio shows; the WebAssembly app boots for several seconds on each page load.
/// On failure: screenshot, page HTML, console log and the backend's output in test-artifacts/studio/.
/// </summary>
[Collection(StudioAppCollection.Name)]
public sealed partial class StudioBrowserTests(StudioApp app)
{
    private const string WriteLineText = "Hello from the Studio browser test";

    [Fact(Timeout = 300_000)]
    public async Task Should_ShowTheWriteLineInTheJournal_When_AWorkflowIsBuiltPublishedAndRunInTheStudio()
    {
        await WithBrowserAsync(nameof(Should_ShowTheWriteLineInTheJournal_When_AWorkflowIsBuiltPublishedAndRunInTheStudio), async browser =>
        {
            var page = browser.Page;

            // Sign-in link, as the server prints it: the key is stored and removed from the address bar.
            await page.GotoAsync(new Uri(app.BaseAddress, $"/?key={Uri.EscapeDataString(app.ApiKey)}").ToString());
            var createWorkflow = page.GetByRole(AriaRole.Button, new() { NameRegex = CreateWorkflowLabel() }).First;
            await createWorkflow.WaitForAsync();
            Assert.DoesNotContain("key=", page.Url);
            Assert.Equal(app.ApiKey, await page.EvaluateAsync<string>("localStorage.getItem('platform-studio.api-key')"));

            // Create a flowchart workflow; the list's editWorkflowDefinition callback opens its editor.
            await createWorkflow.ClickAsync();
            var dialog = page.Locator(".mud-dialog");
            await dialog.GetByLabel("Name").FillAsync("Studio browser test");
            await dialog.GetByRole(AriaRole.Button, new() { NameRegex = OkLabel() }).ClickAsync();
            await page.WaitForURLAsync(EditorUrl());
            var definitionId = EditorUrl().Match(page.Url).Groups["id"].Value;

            // Drag Start and Write Line from the palette onto the canvas.
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync();
            var start = canvas.Locator("g.x6-node", new() { HasText = "Start1" });
            var writeLine = canvas.Locator("g.x6-node", new() { HasText = "WriteLine1" });
            await DropFromPaletteAsync(page, canvas, "Start", StartItem(), x: 150, y: 150, start);
            await DropFromPaletteAsync(page, canvas, "Write", WriteLineItem(), x: 450, y: 150, writeLine);

            // Connect Start's "Done" port to Write Line's "In" port.
            var edges = canvas.Locator("g.x6-edge");
            Assert.Equal(0, await edges.CountAsync());
            await DragBetweenAsync(page,
                start.Locator("g.x6-port-body[port-group='out'] .elsa-designer-port-hit-area"),
                writeLine.Locator("g.x6-port-body[port-group='in'] .elsa-designer-port-hit-area"));
            await edges.First.WaitForAsync(new() { State = WaitForSelectorState.Attached });

            // Select Write Line and set its Text input (the editor auto-saves).
            await ClickCenterAsync(page, writeLine);
            var text = page.Locator(".mud-input-control", new() { Has = page.Locator("label", new() { HasTextRegex = TextLabel() }) })
                .Locator("input").First;
            await text.FillAsync(WriteLineText);
            await text.PressAsync("Tab");

            // Publish, then check what the server stored.
            await page.Locator(".mud-button-group-root button.mud-primary-text").First.ClickAsync();
            await page.GetByText("Workflow published").First.WaitForAsync();
            using (var api = app.CreateClient(withApiKey: true))
            {
                var stored = await api.GetStringAsync(
                    $"/elsa/api/workflow-definitions/by-definition-id/{Uri.EscapeDataString(definitionId)}?versionOptions=Published",
                    TestContext.Current.CancellationToken);
                Assert.Contains(WriteLineText, stored);
                Assert.Contains("\"connections\"", stored);
            }

            // Run: the Studio executes the definition and navigates to the new instance, which the page opens.
            await page.Locator("button.mud-success-text").First.ClickAsync();
            await page.WaitForURLAsync(ViewerUrl());

            // The instance viewer's journal lists the Write Line activity that ran.
            var viewer = page.Locator("elsa-workflow-instance-viewer");
            await viewer.GetByText("WriteLine1").First.WaitForAsync();
            await viewer.GetByText(CompletedWriteLine()).First.WaitForAsync();

            Assert.Empty(browser.OutsideRequests);
        });
    }

    [Fact(Timeout = 180_000)]
    public async Task Should_AskForTheApiKeyAndSignIn_When_NoKeyIsStored()
    {
        await WithBrowserAsync(nameof(Should_AskForTheApiKeyAndSignIn_When_NoKeyIsStored), async browser =>
        {
            var page = browser.Page;
            var frameworkRequests = 0;
            page.Request += (_, request) =>
            {
                if (request.Url.Contains("/_framework/", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref frameworkRequests);
                }
            };

            await page.GotoAsync(new Uri(app.BaseAddress, "/workflows/instances").ToString());
            var form = page.Locator("#ps-sign-in");
            await form.WaitForAsync();
            Assert.Equal(0, Volatile.Read(ref frameworkRequests)); // nothing of the WebAssembly app loads before sign-in

            if (app.Backend == StudioBackend.Server)
            {
                await page.Locator("#ps-api-key").FillAsync("not-the-key");
                await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
                await page.GetByText("The server did not accept this API key.").WaitForAsync();
            }

            await page.Locator("#ps-api-key").FillAsync(app.ApiKey);
            await page.Locator("#ps-remember").UncheckAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

            // Signed in for this tab only: the instance list renders with the key from sessionStorage.
            await page.Locator("elsa-workflow-instance-list .mud-table").First.WaitForAsync();
            Assert.Equal(app.ApiKey, await page.EvaluateAsync<string>("sessionStorage.getItem('platform-studio.api-key')"));
            Assert.Null(await page.EvaluateAsync<string?>("localStorage.getItem('platform-studio.api-key')"));
            Assert.Equal("page", await page.Locator(".ps-nav a[data-section='instances']").GetAttributeAsync("aria-current"));

            await page.Locator("#ps-sign-out").ClickAsync();
            await form.WaitForAsync();
            Assert.Null(await page.EvaluateAsync<string?>("sessionStorage.getItem('platform-studio.api-key')"));
            Assert.Empty(browser.OutsideRequests);
        });
    }

    /// <summary>Runs <paramref name="test"/> in a fresh browser; on failure saves the artifacts and rethrows.</summary>
    private async Task WithBrowserAsync(string testName, Func<StudioBrowser, Task> test)
    {
        await using var browser = await StudioBrowser.LaunchAsync(app.BaseAddress);
        try
        {
            await test(browser);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(testName);
            await browser.SaveArtifactsAsync(directory);
            await app.SaveLogsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            TestContext.Current.SendDiagnosticMessage($"Studio browser test artifacts: {directory}");
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }

    /// <summary>Finds an activity in the palette (search, then open its category) and drops it on the canvas.</summary>
    /// <summary>Drags a palette item onto the canvas and waits for its node. The palette re-renders while the search
    /// filter settles; a drag that started on an item being replaced drops nothing, so it is tried once more.</summary>
    private static async Task DropFromPaletteAsync(IPage page, ILocator canvas, string searchTerm, Regex displayName, int x, int y, ILocator node)
    {
        await DragFromPaletteAsync(page, canvas, searchTerm, displayName, x, y);
        try
        {
            await node.WaitForAsync(new() { Timeout = 15_000 });
        }
        catch (TimeoutException)
        {
            await DragFromPaletteAsync(page, canvas, searchTerm, displayName, x, y);
            await node.WaitForAsync();
        }
    }

    private static async Task DragFromPaletteAsync(IPage page, ILocator canvas, string searchTerm, Regex displayName, int x, int y)
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

        await item.DragToAsync(canvas, new() { TargetPosition = new() { X = x, Y = y } });
        await search.FillAsync("");
    }

    private static async Task DragBetweenAsync(IPage page, ILocator from, ILocator to)
    {
        var source = await from.BoundingBoxAsync() ?? throw new InvalidOperationException("source port not visible");
        var target = await to.BoundingBoxAsync() ?? throw new InvalidOperationException("target port not visible");
        await page.Mouse.MoveAsync(source.X + source.Width / 2, source.Y + source.Height / 2);
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(target.X + target.Width / 2, target.Y + target.Height / 2, new() { Steps = 15 });
        await page.Mouse.UpAsync();
    }

    /// <summary>A plain click on a selected node hits the designer's selection box overlay; click its centre instead.</summary>
    private static async Task ClickCenterAsync(IPage page, ILocator element)
    {
        var box = await element.BoundingBoxAsync() ?? throw new InvalidOperationException("element not visible");
        await page.Mouse.ClickAsync(box.X + box.Width / 2, box.Y + box.Height / 2);
    }

    [GeneratedRegex("create workflow", RegexOptions.IgnoreCase)]
    private static partial Regex CreateWorkflowLabel();

    [GeneratedRegex("^\\s*Start\\s*$")]
    private static partial Regex StartItem();

    [GeneratedRegex("^\\s*Write\\s*Line\\s*$")]
    private static partial Regex WriteLineItem();

    [GeneratedRegex("^\\s*ok\\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex OkLabel();

    [GeneratedRegex("/workflows/definitions/(?<id>[^/?#]+)/edit$")]
    private static partial Regex EditorUrl();

    [GeneratedRegex("/workflows/instances/[^/?#]+/view$")]
    private static partial Regex ViewerUrl();

    [GeneratedRegex("^\\s*Text\\s*$")]
    private static partial Regex TextLabel();

    [GeneratedRegex("Write Line\\s*-\\s*Completed")]
    private static partial Regex CompletedWriteLine();
}
