using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Channels.Webhooks;
using Platform.Studio.BrowserTests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// Human hand-off in headless Chromium against its own server process: an Operator signs in, opens Conversations, takes the
/// conversation waiting for a person, replies with the keyboard and returns it to the bot with a decision; and the Hand Off To
/// Human activity's inputs are typed into the genuine Studio designer and saved.
/// </summary>
public sealed partial class HandoffStudioTests : IAsyncLifetime
{
    private const string WebhookSecret = "handoff-studio-webhook-secret-0123456";
    private const string Password = "Correct-horse-42";
    private ServerProcess? _server;

    private Uri Site => _server!.Site;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("handoff-studio", "/health", new Dictionary<string, string?> { ["Platform__Mqtt__EmbeddedPort"] = "0" });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private static JsonObject Input(string type, string value, string typeName = "String") => new()
    {
        ["typeName"] = typeName, ["expression"] = new JsonObject { ["type"] = type, ["value"] = value },
    };

    private static JsonObject Node(string id, string type, params (string Key, JsonNode Value)[] inputs)
    {
        var node = new JsonObject
        {
            ["id"] = id, ["nodeId"] = $"Workflow1:flow1:{id}", ["type"] = type, ["version"] = 1, ["name"] = id, ["customProperties"] = new JsonObject(),
            ["metadata"] = new JsonObject { ["designer"] = new JsonObject { ["position"] = new JsonObject { ["x"] = 0, ["y"] = 0 } } },
        };
        foreach (var (key, value) in inputs) node[key] = value;
        return node;
    }

    private static JsonObject Connection(string source, string port, string target) => new()
    {
        ["source"] = new JsonObject { ["activity"] = source, ["port"] = port },
        ["target"] = new JsonObject { ["activity"] = target, ["port"] = "In" },
        ["vertices"] = new JsonArray(),
    };

    private static JsonObject Model(string definitionId, JsonArray activities, JsonArray connections) => new()
    {
        ["definitionId"] = definitionId, ["name"] = $"{definitionId} {Guid.NewGuid():N}", ["variables"] = new JsonArray(),
        ["root"] = new JsonObject
        {
            ["id"] = "flow1", ["nodeId"] = "Workflow1:flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["name"] = "Flowchart1",
            ["activities"] = activities, ["connections"] = connections,
        },
    };

    private async Task SendWebhookAsync(HttpClient api, string channel, string id, string text)
    {
        var body = new JsonObject { ["id"] = id, ["sender"] = new JsonObject { ["id"] = "ada", ["name"] = "Ada" }, ["text"] = text }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, WebhookSecret));
        using var response = await api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !condition(); await Task.Delay(100))
            Assert.True(DateTime.UtcNow < deadline, what);
    }

    private static int Deliveries(LoopbackReceiver receiver, string text) => receiver.Requests.Count(r => r.Body.Contains(text, StringComparison.Ordinal));

    private async Task RunAsync(string testName, StudioBrowser browser, Func<Task> body)
    {
        try
        {
            await body();
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

    [Fact(Timeout = 300_000)]
    public async Task Should_TakeReplyAndReturnToTheBot_When_AnOperatorHandlesAWaitingConversationOnTheConversationsPage()
    {
        await using var receiver = await LoopbackReceiver.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync(Site);
        var page = browser.Page;
        await RunAsync(nameof(Should_TakeReplyAndReturnToTheBot_When_AnOperatorHandlesAWaitingConversationOnTheConversationsPage), browser, async () =>
        {
            // Arrange: a webhook channel whose workflow hands the conversation to people; an Operator account; Ada asks.
            using var api = _server!.Api();
            using (var created = await api.PostAsJsonAsync("/api/channels", new JsonObject
            {
                ["name"] = "desk", ["kind"] = "Webhook",
                ["settings"] = new JsonObject { ["secret"] = WebhookSecret, ["outboundUrl"] = receiver.Url("/replies").ToString() },
            })) Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var model = Model("desk-handoff",
                [
                    Node("received", "Platform.MessageReceived", ("channel", Input("Literal", "desk"))),
                    Node("ask", "Platform.SendReply", ("text", Input("Literal", "Let me get a person."))),
                    Node("handoff", "Platform.HandOffToHuman", ("reason", Input("Literal", "Refund request")), ("timeout", Input("Literal", "01:00:00", "TimeSpan"))),
                    Node("back", "Platform.SendReply", ("text", Input("JavaScript", "'Back with the bot: ' + getOutput('handoff', 'Decision')"))),
                ],
                [Connection("received", "Done", "ask"), Connection("ask", "Done", "handoff"), Connection("handoff", "Returned", "back")]);
            using (var saved = await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true }))
                Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
            using (var user = await api.PostAsJsonAsync("/api/users", new JsonObject { ["userName"] = "olga", ["password"] = Password, ["role"] = "Operator" }))
                Assert.Equal(HttpStatusCode.Created, user.StatusCode);
            await SendWebhookAsync(api, "desk", "ada-1", "I want my money back");
            await WaitForAsync(() => Deliveries(receiver, "Let me get a person.") == 1, "The bot did not answer the first message.");
            await SendWebhookAsync(api, "desk", "ada-2", "hello? anyone?");

            // Act: sign in with the password and open Conversations.
            await page.GotoAsync(new Uri(Site, "/signin?returnUrl=%2Fconversations").ToString());
            await page.GetByTestId("signin-user").FillAsync("olga");
            await page.GetByTestId("signin-password").FillAsync(Password);
            await page.GetByTestId("signin-submit").ClickAsync();
            await page.WaitForURLAsync(new Regex("/conversations"));

            // Assert: the queue shows the waiting conversation with its waiting time, and the navigation its count.
            var item = page.GetByTestId("handoff-item").First;
            await item.WaitForAsync();
            Assert.Equal("webhook:desk:ada", await item.GetAttributeAsync("data-key"));
            Assert.Contains("waiting", await item.GetByTestId("waiting-time").InnerTextAsync());
            Assert.Contains("not taken", await item.GetByTestId("assigned-to").InnerTextAsync());
            Assert.Contains("Refund request", await item.InnerTextAsync());
            await page.GetByTestId("handoff-count").Filter(new() { HasText = "1" }).WaitForAsync();

            // Act: open it and take it with the mouse.
            await item.ClickAsync();
            await page.GetByTestId("handoff-panel").WaitForAsync();
            await page.GetByTestId("thread").GetByText("hello? anyone?").WaitForAsync(); // the visitor's second message, kept for the agent
            await page.GetByTestId("assign-to-me").ClickAsync();
            await page.GetByTestId("handoff-info").Filter(new() { HasText = "assigned to olga" }).WaitForAsync();

            // Act: reply with the keyboard (Enter sends).
            await page.GetByTestId("reply-text").ClickAsync();
            await page.Keyboard.TypeAsync("Hi Ada, I am Olga from support.");
            await page.Keyboard.PressAsync("Enter");

            // Assert: the reply shows as from a person and reaches the channel once; the bot never answered "hello? anyone?".
            var agentMessage = page.Locator("[data-testid='message'][data-agent='olga']");
            await agentMessage.WaitForAsync();
            Assert.Contains("olga (person)", await agentMessage.GetByTestId("message-author").InnerTextAsync());
            await WaitForAsync(() => Deliveries(receiver, "Hi Ada, I am Olga from support.") == 1, "The agent's reply did not reach the channel.");
            Assert.Equal(1, Deliveries(receiver, "Let me get a person."));

            // Act: Return to bot with a decision.
            await page.GetByTestId("return-decision").FillAsync("Refund approved");
            await page.GetByTestId("return-to-bot").ClickAsync();

            // Assert: the workflow went on with the decision; the queue is empty and the reply was delivered once.
            await page.GetByTestId("handoff-status").Filter(new() { HasText = "Returned to the bot" }).WaitForAsync();
            await WaitForAsync(() => Deliveries(receiver, "Back with the bot: Refund approved") == 1, "The workflow did not resume with the decision.");
            await page.GetByTestId("handoff-list").GetByText("Nobody waits for a person.").WaitForAsync();
            Assert.True(await page.GetByTestId("handoff-panel").IsHiddenAsync());
            Assert.Equal(1, Deliveries(receiver, "Hi Ada, I am Olga from support."));
            Assert.Empty(browser.OutsideRequests);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_SaveTheTypedInputs_When_AnAnalystEditsHandOffToHumanInTheDesigner()
    {
        await using var browser = await StudioBrowser.LaunchAsync(Site);
        var page = browser.Page;
        await RunAsync(nameof(Should_SaveTheTypedInputs_When_AnAnalystEditsHandOffToHumanInTheDesigner), browser, async () =>
        {
            // Arrange: a workflow with one Hand Off To Human node.
            using var api = _server!.Api();
            var model = Model("handoff-design", [Node("handoff", "Platform.HandOffToHuman")], []);
            using (var saved = await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = false }))
                Assert.Equal(HttpStatusCode.OK, saved.StatusCode);

            // Act: open it in the designer, select the node, and type each input.
            await page.GotoAsync(new Uri(Site, $"/workflows/definitions/handoff-design/edit?key={Uri.EscapeDataString(_server.ApiKey)}").ToString());
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync(new() { Timeout = 120_000 });
            var node = canvas.Locator("g.x6-node[data-cell-id='handoff']");
            await node.WaitForAsync(new() { Timeout = 60_000 });
            var box = await node.BoundingBoxAsync() ?? throw new InvalidOperationException("the node is not on the canvas");
            await page.Mouse.ClickAsync(box.X + Math.Min(30, box.Width / 4), box.Y + box.Height / 2);
            await page.Locator("[role='tab']", new() { HasTextRegex = InputTab() }).First.ClickAsync(new() { Timeout = 15_000 });
            await TypeAsync(page, api, "Reason", "Customer is angry", multiLine: true);
            await TypeAsync(page, api, "Queue", "billing");
            await TypeAsync(page, api, "Timeout", "00:10:00");

            // Assert: the stored definition has the typed values on the node's inputs.
            var latest = JsonNode.Parse(await api.GetStringAsync("/elsa/api/workflow-definitions/by-definition-id/handoff-design?versionOptions=Latest"))!;
            var stored = latest["root"]!["activities"]!.AsArray().Single(a => a!["id"]!.GetValue<string>() == "handoff")!;
            Assert.Equal("Customer is angry", stored["reason"]!["expression"]!["value"]!.GetValue<string>());
            Assert.Equal("billing", stored["queue"]!["expression"]!["value"]!.GetValue<string>());
            Assert.Equal("00:10:00", stored["timeout"]!["expression"]!["value"]!.ToString());
            Assert.Empty(browser.OutsideRequests);
        });
    }

    /// <summary>Types <paramref name="text"/> into the property panel's field <paramref name="label"/> and waits until the editor saved it.</summary>
    private static async Task TypeAsync(IPage page, HttpClient api, string label, string text, bool multiLine = false)
    {
        var editor = page.Locator(".mud-input-control:visible", new() { Has = page.Locator("label", new() { HasTextRegex = new Regex($"^\\s*{Regex.Escape(label)}\\s*$") }) }).First;
        await editor.WaitForAsync(new() { Timeout = 15_000 });
        var field = editor.Locator(multiLine ? "textarea:visible" : "input:visible").First;
        await field.ClickAsync();
        await field.FillAsync(text);
        await field.PressAsync("Tab");
        for (var deadline = DateTime.UtcNow.AddSeconds(20); ; await Task.Delay(250))
        {
            var latest = await api.GetStringAsync("/elsa/api/workflow-definitions/by-definition-id/handoff-design?versionOptions=Latest");
            if (latest.Contains(text, StringComparison.Ordinal)) return;
            Assert.True(DateTime.UtcNow < deadline, $"The editor did not save \"{text}\" in {label}.");
        }
    }

    [GeneratedRegex("^\\s*Input\\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex InputTab();
}
