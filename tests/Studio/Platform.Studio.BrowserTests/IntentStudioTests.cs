using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The Intents page in headless Chromium against its own server process (embeddings off, so no model is built): an
/// analyst creates an intent set, tests a sentence, and finds the set's Recognize Intent activity with one port per
/// intent in the workflow editor's toolbox.
/// </summary>
public sealed partial class IntentStudioTests : IAsyncLifetime
{
    private ServerProcess? _server;

    private Uri Site => _server!.Site;

    private string ApiKey => _server!.ApiKey;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("intent-studio", "/intents");

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_CreateTestAndOfferTheSetAsAnActivity_When_AnAnalystDefinesIntentsInTheStudio()
    {
        await using var browser = await StudioBrowser.LaunchAsync(Site);
        var page = browser.Page;
        try
        {
            // Arrange: the Intents page with the sign-in link's key.
            await page.GotoAsync(new Uri(Site, $"/intents?key={Uri.EscapeDataString(ApiKey)}").ToString());
            await page.GetByTestId("new-set-id").WaitForAsync();
            Assert.DoesNotContain("key=", page.Url);

            // Act: create a set with three intents, save it and test a sentence.
            await page.GetByTestId("new-set-id").FillAsync("lights");
            await page.GetByTestId("new-set").ClickAsync();
            await page.GetByTestId("set-name").FillAsync("Lights demo");
            await page.GetByTestId("add-intent").ClickAsync();
            var intents = page.GetByTestId("intent");
            await FillIntentAsync(intents.Nth(0), "lights_on", "turn on the light", "switch the lamp on", "lights on please", "put the kitchen light on");
            await FillIntentAsync(intents.Nth(1), "lights_off", "turn off the light", "switch the lamp off", "lights off please", "put the kitchen light off");
            await FillIntentAsync(intents.Nth(2), "weather", "what is the weather like", "will it rain today", "how warm is it outside", "weather forecast please");
            await page.GetByTestId("entities").FillAsync("""[{"name":"room","kind":"list","values":[{"value":"kitchen","synonyms":["cooking area"]}]}]""");
            await page.GetByTestId("save").ClickAsync();
            await page.GetByTestId("status").GetByText("Saved version 1").WaitForAsync();
            await page.GetByTestId("test-text").FillAsync("please switch the lamp on in the cooking area");
            await page.GetByTestId("test").ClickAsync();
            var result = page.GetByTestId("result-intent");
            await result.WaitForAsync();

            // Assert: the page shows the intent and the entity; the set is listed.
            Assert.Equal("lights_on", await result.InnerTextAsync());
            Assert.Contains("kitchen", await page.GetByTestId("test-result").InnerTextAsync());
            Assert.Contains("Lights demo", await page.GetByTestId("set-list").InnerTextAsync());

            // A set with too few examples is refused with the intent's name.
            await page.GetByTestId("add-intent").ClickAsync();
            await FillIntentAsync(intents.Nth(3), "music", "play a song");
            await page.GetByTestId("save").ClickAsync();
            await page.GetByTestId("status").GetByText("'music' has 1").WaitForAsync();

            // The descriptor API serves Platform.RecognizeIntent.lights with one port per intent plus OutOfScope.
            using (var api = new HttpClient { BaseAddress = Site })
            {
                api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", ApiKey);
                var descriptors = JsonNode.Parse(await api.GetStringAsync("/elsa/api/descriptors/activities"))!["items"]!.AsArray();
                var descriptor = Assert.Single(descriptors, d => d!["typeName"]!.GetValue<string>() == "Platform.RecognizeIntent.lights")!;
                Assert.Equal(["lights_on", "lights_off", "weather", "OutOfScope"], descriptor["ports"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToArray());
            }

            // The workflow editor's toolbox offers the set's activity; dropped on the canvas it has four outbound ports.
            await page.GotoAsync(new Uri(Site, "/workflows/definitions").ToString());
            var createWorkflow = page.GetByRole(AriaRole.Button, new() { NameRegex = CreateWorkflowLabel() }).First;
            var dialog = page.Locator(".mud-dialog");
            // The Studio may still be finishing its first navigation, which closes a dialog opened too early: open it again then.
            for (var attempt = 1; ; attempt++)
            {
                await createWorkflow.ClickAsync();
                try
                {
                    await dialog.GetByLabel("Name").FillAsync("Intent toolbox test", new() { Timeout = 15_000 });
                    break;
                }
                catch (TimeoutException) when (attempt < 4)
                {
                    await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
                }
            }
            await dialog.GetByRole(AriaRole.Button, new() { NameRegex = OkLabel() }).ClickAsync();
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync();
            var search = page.GetByPlaceholder("Search").First;
            await search.FillAsync("Lights demo");
            var item = page.Locator("[draggable=true]", new() { HasTextRegex = ToolboxItem() }).First;
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
            await item.DragToAsync(canvas, new() { TargetPosition = new() { X = 300, Y = 200 } });
            var node = canvas.Locator("g.x6-node").First;
            await node.WaitForAsync();
            var outPorts = node.Locator("g.x6-port-body[port-group='out']");
            await outPorts.Nth(3).WaitForAsync(new() { State = WaitForSelectorState.Attached });
            Assert.Equal(4, await outPorts.CountAsync());
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_CreateTestAndOfferTheSetAsAnActivity_When_AnAnalystDefinesIntentsInTheStudio));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server?.Output ?? "");
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }

    private static async Task FillIntentAsync(ILocator intent, string name, params string[] examples)
    {
        await intent.GetByTestId("intent-name").FillAsync(name);
        await intent.GetByTestId("intent-examples").FillAsync(string.Join('\n', examples));
    }

    [GeneratedRegex("create workflow", RegexOptions.IgnoreCase)]
    private static partial Regex CreateWorkflowLabel();

    [GeneratedRegex("^\\s*ok\\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex OkLabel();

    [GeneratedRegex("Recognize Intent: Lights demo")]
    private static partial Regex ToolboxItem();
}
