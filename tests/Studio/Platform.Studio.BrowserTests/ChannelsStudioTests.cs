using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The Channels page in headless Chromium against its own server process: an operator creates a Telegram channel
/// (the bot token is write-only), sees its webhook URL, and retries a dead-lettered reply from the Messages panel.
/// </summary>
public sealed class ChannelsStudioTests : IAsyncLifetime
{
    private const string SecretToken = "tg-secret-token-for-studio-tests";
    private ServerProcess? _server;

    private Uri Site => _server!.Site;

    private string ApiKey => _server!.ApiKey;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("channels-studio", "/channels", new Dictionary<string, string?> { ["Platform__Mqtt__EmbeddedPort"] = "0" });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private HttpClient Api() => _server!.Api();

    private static JsonObject EchoWorkflow(string channel) => new()
    {
        ["name"] = $"echo {Guid.NewGuid():N}",
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
                    ["text"] = new JsonObject { ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = "echo from the studio test" } },
                }),
            ["connections"] = new JsonArray(new JsonObject
            {
                ["source"] = new JsonObject { ["activity"] = "received", ["port"] = "Done" },
                ["target"] = new JsonObject { ["activity"] = "reply", ["port"] = "In" },
                ["vertices"] = new JsonArray(),
            }),
        },
    };

    [Fact(Timeout = 300_000)]
    public async Task Should_ListTheChannelWithItsWebhookAndRetryADeadLetter_When_AnOperatorCreatesATelegramChannel()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.KnownChatIds.Add("1"); // 7001 is unknown: the first reply fails with "chat not found"
        await using var browser = await StudioBrowser.LaunchAsync(Site);
        var page = browser.Page;
        try
        {
            // Arrange: the Channels page with the sign-in link's key.
            await page.GotoAsync(new Uri(Site, $"/channels?key={Uri.EscapeDataString(ApiKey)}").ToString());
            await page.GetByTestId("new-channel").WaitForAsync();
            Assert.DoesNotContain("key=", page.Url);

            // Act: create a Telegram channel with a bot token, a webhook secret and the fake's address.
            await page.GetByTestId("new-channel").ClickAsync();
            await page.GetByTestId("channel-name").FillAsync("tg-studio");
            await page.GetByTestId("channel-kind").SelectOptionAsync("Telegram");
            var settings = page.GetByTestId("setting");
            await page.GetByTestId("add-setting").ClickAsync();
            await page.GetByTestId("add-setting").ClickAsync();
            await settings.Nth(0).GetByTestId("setting-name").FillAsync("botToken");
            await settings.Nth(0).GetByTestId("setting-value").FillAsync(telegram.BotToken);
            await settings.Nth(1).GetByTestId("setting-name").FillAsync("webhookSecretToken");
            await settings.Nth(1).GetByTestId("setting-value").FillAsync(SecretToken);
            await settings.Nth(2).GetByTestId("setting-name").FillAsync("apiBaseUrl");
            await settings.Nth(2).GetByTestId("setting-value").FillAsync(telegram.BaseUrl.ToString());
            await page.GetByTestId("save").ClickAsync();
            await page.GetByTestId("status").GetByText("Saved.").WaitForAsync();

            // Assert: listed with its webhook URL; the token shows as set but is never in the page.
            Assert.Contains("tg-studio", await page.GetByTestId("channel-list").InnerTextAsync());
            Assert.Contains("/channels/tg-studio/telegram/webhook", await page.GetByTestId("channel-endpoints").InnerTextAsync());
            await page.GetByTestId("settings").GetByText("•••• set").First.WaitForAsync();
            await page.ReloadAsync();
            await page.Locator("[data-channel='tg-studio']").ClickAsync();
            await page.GetByTestId("settings").GetByText("•••• set").First.WaitForAsync();
            Assert.DoesNotContain(telegram.BotToken, await page.ContentAsync());

            // Act: a published echo workflow answers a webhook update; the unknown chat dead-letters the reply.
            using var api = Api();
            using (var saved = await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = EchoWorkflow("tg-studio"), ["publish"] = true }))
                Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
            using (var request = new HttpRequestMessage(HttpMethod.Post, "/channels/tg-studio/telegram/webhook")
            {
                Content = new StringContent(TelegramPayloads.TextMessage(1, 7001, 50, "hello").ToJsonString(), Encoding.UTF8, "application/json"),
            })
            {
                request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", SecretToken);
                using var delivered = await api.SendAsync(request);
                Assert.True(delivered.IsSuccessStatusCode, $"The webhook answered {(int)delivered.StatusCode}.");
            }
            var deadRow = page.Locator("[data-testid='outbox-row'][data-status='DeadLettered']");
            for (var i = 0; i < 60 && await deadRow.CountAsync() == 0; i++)
            {
                await page.GetByTestId("refresh-messages").ClickAsync();
                await Task.Delay(500);
            }

            // Assert: the reason is shown; Retry sends it once the chat is known.
            Assert.Contains("chat not found", await deadRow.First.GetByTestId("outbox-error").InnerTextAsync(), StringComparison.OrdinalIgnoreCase);
            Assert.Contains("hello", await page.GetByTestId("inbox").InnerTextAsync());
            telegram.KnownChatIds.Add("7001");
            await deadRow.First.GetByTestId("retry").ClickAsync();
            var sentRow = page.Locator("[data-testid='outbox-row'][data-status='Sent']");
            for (var i = 0; i < 60 && await sentRow.CountAsync() == 0; i++)
            {
                await page.GetByTestId("refresh-messages").ClickAsync();
                await Task.Delay(500);
            }
            Assert.Equal(1, await sentRow.CountAsync());
            Assert.Contains(telegram.SentMessages, m => m.ChatId == "7001" && m.Text.Contains("echo from the studio test", StringComparison.Ordinal));
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_ListTheChannelWithItsWebhookAndRetryADeadLetter_When_AnOperatorCreatesATelegramChannel));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server?.Output ?? "");
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }
}
