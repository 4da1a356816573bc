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
/// The Conversations page in headless Chromium against its own server process: conversations of real channels (a signed
/// webhook; SMS through the fake Twilio, which reports delivery to the server's status callback over loopback), the thread
/// of one in time order, and the link from a message to the instance viewer of the workflow that handled it.
/// </summary>
public sealed class ConversationsStudioTests : IAsyncLifetime
{
    private const string WebhookSecret = "conversations-studio-webhook-secret-0123";
    private ServerProcess? _server;

    private Uri Site => _server!.Site;

    private string ApiKey => _server!.ApiKey;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("conversations-studio", "/conversations", new Dictionary<string, string?> { ["Platform__Mqtt__EmbeddedPort"] = "0" });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private HttpClient Api() => _server!.Api();

    private static JsonObject Input(string type, string value) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = type, ["value"] = value },
    };

    private static JsonObject Node(string id, string type, params (string Key, JsonNode Value)[] inputs)
    {
        var node = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1, ["name"] = id };
        foreach (var (key, value) in inputs) node[key] = value;
        return node;
    }

    /// <summary>Publishes a flowchart that runs <paramref name="nodes"/> one after the other.</summary>
    private static async Task PublishAsync(HttpClient api, params JsonObject[] nodes)
    {
        var connections = new JsonArray();
        for (var i = 1; i < nodes.Length; i++)
            connections.Add(new JsonObject
            {
                ["source"] = new JsonObject { ["activity"] = nodes[i - 1]["id"]!.GetValue<string>(), ["port"] = "Done" },
                ["target"] = new JsonObject { ["activity"] = nodes[i]["id"]!.GetValue<string>(), ["port"] = "In" },
                ["vertices"] = new JsonArray(),
            });
        var model = new JsonObject
        {
            ["name"] = $"conversations {Guid.NewGuid():N}",
            ["variables"] = new JsonArray(),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(nodes.Select(n => (JsonNode)n).ToArray()), ["connections"] = connections,
            },
        };
        using var saved = await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true });
        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
    }

    private static async Task CreateChannelAsync(HttpClient api, string name, string kind, JsonObject settings)
    {
        using var created = await api.PostAsJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = kind, ["settings"] = settings });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private async Task SendWebhookAsync(HttpClient api, string channel, string id, string sender, string text)
    {
        var body = new JsonObject { ["id"] = id, ["sender"] = new JsonObject { ["id"] = sender, ["name"] = sender.ToUpperInvariant() }, ["text"] = text }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, WebhookSecret));
        using var response = await api.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task WaitForSentAsync(HttpClient api, string channel, int count)
    {
        for (var i = 0; i < 300; i++)
        {
            var page = await api.GetFromJsonAsync<JsonObject>($"/api/messages/outbox?channel={channel}&status=Sent");
            if (page!["totalCount"]!.GetValue<long>() >= count) return;
            await Task.Delay(100);
        }
        Assert.Fail($"Fewer than {count} replies were sent on {channel}.");
    }

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
    public async Task Should_ListConversationsShowTheThreadAndOpenTheInstanceViewer_When_MessagesCameInThroughAWebhook()
    {
        await using var receiver = await LoopbackReceiver.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync(Site);
        var page = browser.Page;
        await RunAsync(nameof(Should_ListConversationsShowTheThreadAndOpenTheInstanceViewer_When_MessagesCameInThroughAWebhook), browser, async () =>
        {
            // Arrange: Ada asks for a light and answers which room in a second turn; Bob starts another conversation.
            using var api = Api();
            await CreateChannelAsync(api, "hooks", "Webhook", new JsonObject { ["secret"] = WebhookSecret, ["outboundUrl"] = receiver.Url("/replies").ToString() });
            await PublishAsync(api,
                Node("received", "Platform.MessageReceived", ("channel", Input("Literal", "hooks"))),
                Node("askRoom", "Platform.SendReply", ("text", Input("Literal", "Which room?"))),
                Node("waitRoom", "Platform.WaitForMessage"),
                Node("answerRoom", "Platform.SendReply", ("text", Input("JavaScript", "'Turning on the ' + getOutput('waitRoom', 'Text') + ' light.'"))));
            await SendWebhookAsync(api, "hooks", "ada-1", "ada", "turn on the light");
            await WaitForSentAsync(api, "hooks", 1);
            await SendWebhookAsync(api, "hooks", "ada-2", "ada", "kitchen");
            await WaitForSentAsync(api, "hooks", 2);
            await SendWebhookAsync(api, "hooks", "bob-1", "bob", "hello?");
            await WaitForSentAsync(api, "hooks", 3);

            // Act: the page with the sign-in link's key, filtered to the channel.
            await page.GotoAsync(new Uri(Site, $"/conversations?key={Uri.EscapeDataString(ApiKey)}").ToString());
            var items = page.GetByTestId("conversation-item");
            await items.First.WaitForAsync();
            Assert.DoesNotContain("key=", page.Url);
            await page.GetByTestId("channel-filter").SelectOptionAsync("hooks");
            await page.Locator("[data-testid='conversation-item'][data-key='webhook:hooks:ada']").WaitForAsync();

            // Assert: newest activity first, with the last text.
            Assert.Equal(2, await items.CountAsync());
            Assert.Equal("webhook:hooks:bob", await items.Nth(0).GetAttributeAsync("data-key"));
            var ada = page.Locator("[data-testid='conversation-item'][data-key='webhook:hooks:ada']");
            Assert.Contains("Turning on the kitchen light.", await ada.GetByTestId("last-text").InnerTextAsync());
            Assert.Contains("2 in · 2 out", await ada.InnerTextAsync());
            Assert.Contains("channel=hooks", page.Url);

            // Act: open Ada's conversation.
            await ada.ClickAsync();
            var messages = page.GetByTestId("thread").GetByTestId("message");
            await messages.Nth(3).WaitForAsync();

            // Assert: in and out in time order, with their status, each linked to the one instance that handled the conversation.
            Assert.Equal(["in", "out", "in", "out"], await messages.EvaluateAllAsync<string[]>("els => els.map(e => e.dataset.direction)"));
            Assert.Equal(["turn on the light", "Which room?", "kitchen", "Turning on the kitchen light."],
                await page.GetByTestId("thread").GetByTestId("message-text").AllInnerTextsAsync());
            Assert.Equal(["Processed", "Sent", "Processed", "Sent"], await page.GetByTestId("thread").GetByTestId("message-status").AllInnerTextsAsync());
            var links = page.GetByTestId("instance-link");
            Assert.Equal(4, await links.CountAsync());
            var hrefs = await links.EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('href'))");
            var href = Assert.Single(hrefs.Distinct());
            Assert.Matches("^/workflows/instances/[^/]+/view$", href);
            Assert.Contains("conversation=webhook%3Ahooks%3Aada", page.Url);

            // Act: follow the link to the instance viewer.
            await links.First.ClickAsync();
            await page.WaitForURLAsync(new Uri(Site, href).ToString());
            var viewer = page.Locator("elsa-workflow-instance-viewer");
            await viewer.GetByText("answerRoom").First.WaitForAsync();

            // The Channels page shows the channel's status.
            await page.GotoAsync(new Uri(Site, "/channels?channel=hooks").ToString());
            await page.GetByTestId("channel-status").GetByText("connected").WaitForAsync();
            Assert.Equal("connected", await page.Locator("[data-channel='hooks']").GetByTestId("channel-state").InnerTextAsync());
            Assert.Empty(browser.OutsideRequests);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_ShowTheDeliveryFailureInTheThread_When_TwilioReportsAnSmsUndelivered()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        await using var browser = await StudioBrowser.LaunchAsync(Site);
        var page = browser.Page;
        await RunAsync(nameof(Should_ShowTheDeliveryFailureInTheThread_When_TwilioReportsAnSmsUndelivered), browser, async () =>
        {
            // Arrange: an SMS channel whose public address is this server; Twilio calls it over loopback.
            using var api = Api();
            await CreateChannelAsync(api, "sms", "Sms", new JsonObject
            {
                ["accountSid"] = twilio.AccountSid, ["authToken"] = twilio.AuthToken, ["fromNumber"] = "+15005550006",
                ["apiBaseUrl"] = twilio.BaseUrl.ToString(), ["publicBaseUrl"] = Site.ToString(),
            });
            await PublishAsync(api,
                Node("received", "Platform.MessageReceived", ("channel", Input("Literal", "sms"))),
                Node("reply", "Platform.SendReply", ("text", Input("Literal", "Your order has shipped."))));
            var inbound = await twilio.SendIncomingMessageAsync(new Uri(Site, "/channels/sms/twilio/messages"), "+14155550100", "+15005550006", "where is my order?");
            Assert.Equal(200, inbound.Status);
            await WaitForSentAsync(api, "sms", 1);
            var sms = Assert.Single(twilio.CreatedMessages);

            // Act: the carrier could not reach the handset.
            var callback = await twilio.SendStatusCallbackAsync(sms, "undelivered", "30003");
            await page.GotoAsync(new Uri(Site, $"/conversations?key={Uri.EscapeDataString(ApiKey)}").ToString());
            var item = page.Locator("[data-testid='conversation-item'][data-key='sms:sms:%2B14155550100']");
            await item.ClickAsync();
            var reply = page.Locator("[data-testid='message'][data-direction='out']");
            await reply.WaitForAsync();

            // Assert
            Assert.Equal(200, callback.Status);
            Assert.StartsWith(new Uri(Site, "/channels/sms/twilio/status?outbox=").ToString(), sms.StatusCallback, StringComparison.Ordinal);
            Assert.Equal("undelivered 30003", await reply.GetByTestId("delivery-status").InnerTextAsync());
            Assert.Contains("unreachable destination handset", await reply.GetByTestId("message-error").InnerTextAsync());
            Assert.Equal("Sent", await reply.GetByTestId("message-status").InnerTextAsync());
            Assert.Empty(browser.OutsideRequests);
        });
    }
}
