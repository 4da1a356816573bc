using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Studio.BrowserTests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// A streamed reply on the web chat page in headless Chromium, against its own server process whose Ask Model talks to
/// the loopback OpenAI fake: the bubble grows while the model writes, then one final bubble replaces it.
/// </summary>
public sealed class ChatStreamingBrowserTests : IAsyncLifetime
{
    private const string Answer = "The kitchen light is on, the heating runs and the door is locked.";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private FakeOpenAiServer? _model;
    private ServerProcess? _server;

    public async ValueTask InitializeAsync()
    {
        _model = await FakeOpenAiServer.StartAsync();
        _model.Answer = _ => Answer;
        _model.StreamChunkDelay = TimeSpan.FromMilliseconds(200);
        _server = await ServerProcess.StartAsync("chat-streaming", "/chat", new Dictionary<string, string?>
        {
            ["Platform__Mqtt__EmbeddedPort"] = "0",
            ["Platform__AI__ChatCompletion__Endpoint"] = _model.ApiBase.ToString(),
            ["Platform__AI__ChatCompletion__Model"] = "gpt-4o-mini",
            ["Platform__AI__ChatCompletion__ApiKey"] = _model.ApiKey,
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        if (_model is not null) await _model.DisposeAsync();
    }

    private async Task<string> CreateChannelAsync()
    {
        var channel = "stream-" + Guid.NewGuid().ToString("N")[..10];
        using var api = _server!.Api();
        using (var created = await api.PostAsJsonAsync("/api/channels", new JsonObject { ["name"] = channel, ["kind"] = "WebChat" }, Ct))
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
        JsonObject Input(string type, string value) => new() { ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = type, ["value"] = value } };
        JsonObject Connect(string from, string to) => new()
        {
            ["source"] = new JsonObject { ["activity"] = from, ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = to, ["port"] = "In" }, ["vertices"] = new JsonArray(),
        };
        var model = new JsonObject
        {
            ["name"] = $"Streamed chat {channel}",
            ["variables"] = new JsonArray(),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(
                    new JsonObject { ["id"] = "received", ["type"] = "Platform.MessageReceived", ["version"] = 1, ["channel"] = Input("Literal", channel) },
                    new JsonObject { ["id"] = "ask", ["type"] = "Platform.AskModel", ["version"] = 1 },
                    new JsonObject { ["id"] = "reply", ["type"] = "Platform.SendReply", ["version"] = 1, ["text"] = Input("JavaScript", "getOutput('ask', 'Answer')") }),
                ["connections"] = new JsonArray(Connect("received", "ask"), Connect("ask", "reply")),
            },
        };
        using var saved = await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true }, Ct);
        Assert.True(saved.StatusCode == HttpStatusCode.OK, await saved.Content.ReadAsStringAsync(Ct));
        return channel;
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_Show_A_Growing_Bubble_Then_One_Final_Bubble_When_The_Reply_Is_Streamed()
    {
        var channel = await CreateChannelAsync();
        await using var browser = await StudioBrowser.LaunchAsync(_server!.Site);
        browser.Context.SetDefaultTimeout(30_000);
        try
        {
            // Arrange: the page records every text the partial bubble shows.
            var page = browser.Page;
            await page.GotoAsync(new Uri(_server.Site, $"/chat?channel={channel}").ToString());
            await page.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();
            await page.EvaluateAsync(@"() => {
                window.partialTexts = [];
                new MutationObserver(() => {
                    const p = document.querySelector('.chat-msg.bot.partial');
                    if (p && window.partialTexts[window.partialTexts.length - 1] !== p.innerText) window.partialTexts.push(p.innerText);
                }).observe(document.getElementById('chat-messages'), { subtree: true, childList: true, characterData: true });
            }");

            // Act
            await page.Locator("#chat-input").FillAsync("what is the state of the house?");
            await page.Locator("#chat-input").PressAsync("Enter");
            await page.Locator(".chat-msg.bot:not(.partial)", new() { HasText = Answer }).WaitForAsync();

            // Assert: the partial bubble grew word by word; now there is one bot bubble, the final one.
            var texts = await page.EvaluateAsync<string[]>("() => window.partialTexts");
            Assert.True(texts.Length >= 3, $"partial texts seen: {string.Join(" | ", texts)}");
            for (var i = 1; i < texts.Length; i++) Assert.True(texts[i].Length > texts[i - 1].Length, $"not growing: {string.Join(" | ", texts)}");
            Assert.All(texts, t => Assert.StartsWith(t.Replace("▍", "").Trim(), Answer));
            Assert.Equal(1, await page.Locator(".chat-msg.bot").CountAsync());
            Assert.Equal(0, await page.Locator(".chat-msg.partial").CountAsync());
            Assert.Equal(Answer, (await page.Locator(".chat-msg.bot").InnerTextAsync()).Trim());
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_Show_A_Growing_Bubble_Then_One_Final_Bubble_When_The_Reply_Is_Streamed));
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure + "\n\n" + _server.Output, Ct);
            await browser.SaveArtifactsAsync(directory);
            throw;
        }
    }
}
