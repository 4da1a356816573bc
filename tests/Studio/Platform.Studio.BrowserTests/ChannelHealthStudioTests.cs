using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Studio.BrowserTests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The Health panel of the Channels page in headless Chromium against its own server process: an operator sends a test
/// message to an unknown chat and sees the failure with how to fix it, then to a known chat and sees it delivered.
/// </summary>
public sealed class ChannelHealthStudioTests : IAsyncLifetime
{
    private ServerProcess? _server;

    private Uri Site => _server!.Site;

    public async ValueTask InitializeAsync() =>
        _server = await ServerProcess.StartAsync("channel-health-studio", "/channels", new Dictionary<string, string?> { ["Platform__Mqtt__EmbeddedPort"] = "0" });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_ShowTheFailureWithItsFixThenTheDelivery_When_AnOperatorSendsTestMessages()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.KnownChatIds.Add("1"); // 9001 is unknown: Telegram answers 400 "chat not found"
        var name = "tg-health-" + Guid.NewGuid().ToString("N")[..8];
        using (var api = _server!.Api())
        using (var created = await api.PostAsJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = name, ["kind"] = "Telegram",
            ["settings"] = new JsonObject { ["botToken"] = telegram.BotToken, ["apiBaseUrl"] = telegram.BaseUrl.ToString() },
        }))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        await using var browser = await StudioBrowser.LaunchAsync(Site);
        var page = browser.Page;
        try
        {
            // Arrange: the channel open on the Channels page.
            await page.GotoAsync(new Uri(Site, $"/channels?channel={name}&key={Uri.EscapeDataString(_server.ApiKey)}").ToString());
            await page.GetByTestId("health-error-rate").WaitForAsync();
            Assert.Equal("no deliveries", await page.GetByTestId("health-error-rate").InnerTextAsync());

            // Act: a test message to a chat the bot does not know.
            await page.GetByTestId("test-to").FillAsync("9001");
            await page.GetByTestId("send-test").ClickAsync();
            await page.Locator("[data-testid='test-result'][data-status='DeadLettered']").WaitForAsync();

            // Assert: the failure, the error rate and how to fix it.
            Assert.Contains("chat not found", await page.GetByTestId("test-result").InnerTextAsync(), StringComparison.OrdinalIgnoreCase);
            Assert.Equal("100% failed (1 of 1)", await page.GetByTestId("health-error-rate").InnerTextAsync());
            Assert.StartsWith("Chat not found: check the recipient id", await page.GetByTestId("health-fix").InnerTextAsync(), StringComparison.Ordinal);

            // Act: a test message to a known chat, with a text.
            await page.GetByTestId("test-to").FillAsync("1");
            await page.GetByTestId("test-text").FillAsync("ping from the health panel");
            await page.GetByTestId("send-test").ClickAsync();
            await page.Locator("[data-testid='test-result'][data-status='Sent']").WaitForAsync();

            // Assert: delivered through the outbox to the fake Telegram.
            Assert.Equal("Test message delivered to 1.", await page.GetByTestId("test-result").InnerTextAsync());
            Assert.Equal("50% failed (1 of 2)", await page.GetByTestId("health-error-rate").InnerTextAsync());
            Assert.NotEqual("never", await page.GetByTestId("health-last-outbound").InnerTextAsync());
            Assert.Contains(telegram.SentMessages, m => m.ChatId == "1" && m.Text == "ping from the health panel");
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_ShowTheFailureWithItsFixThenTheDelivery_When_AnOperatorSendsTestMessages));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server?.Output ?? "");
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }
}
