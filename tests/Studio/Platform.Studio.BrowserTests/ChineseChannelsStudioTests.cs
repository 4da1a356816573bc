using Platform.Studio.BrowserTests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The Channels page for a WeChat Official Account in headless Chromium against its own server process: choosing the kind
/// offers the account's settings, the secrets stay write-only, and WeChat's URL verification then succeeds on the listed URL.
/// </summary>
public sealed class ChineseChannelsStudioTests : IAsyncLifetime
{
    private ServerProcess? _server;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("wechat-studio", "/channels", new Dictionary<string, string?> { ["Platform__Mqtt__EmbeddedPort"] = "0" });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_Offer_The_Account_Settings_And_Pass_The_Url_Verification_When_An_Admin_Creates_A_WeChat_Channel()
    {
        await using var wechat = await FakeWeChatServer.StartOfficialAccountAsync();
        await using var browser = await StudioBrowser.LaunchAsync(_server!.Site);
        var page = browser.Page;
        try
        {
            // Arrange
            await page.GotoAsync(new Uri(_server.Site, $"/channels?key={Uri.EscapeDataString(_server.ApiKey)}").ToString());
            await page.GetByTestId("new-channel").WaitForAsync();

            // Act: choosing WeChat offers its settings; fill them in.
            await page.GetByTestId("new-channel").ClickAsync();
            await page.GetByTestId("channel-name").FillAsync("wechat-studio");
            await page.GetByTestId("channel-kind").SelectOptionAsync("WeChat");
            var settings = page.GetByTestId("setting");
            var names = new List<string>();
            for (var i = 0; i < await settings.CountAsync(); i++) names.Add(await settings.Nth(i).GetByTestId("setting-name").InputValueAsync());
            var values = new Dictionary<string, string>
            {
                ["appId"] = wechat.AppId, ["appSecret"] = wechat.Secret, ["token"] = wechat.Token, ["encodingAesKey"] = wechat.EncodingAesKey, ["passiveReplyMilliseconds"] = "0",
            };
            for (var i = 0; i < names.Count; i++) await settings.Nth(i).GetByTestId("setting-value").FillAsync(values[names[i]]);
            await page.GetByTestId("add-setting").ClickAsync();
            await settings.Nth(names.Count).GetByTestId("setting-name").FillAsync("apiBaseUrl");
            await settings.Nth(names.Count).GetByTestId("setting-value").FillAsync(wechat.BaseUrl.ToString());
            await page.GetByTestId("save").ClickAsync();
            await page.GetByTestId("status").GetByText("Saved.").WaitForAsync();
            using var api = _server.Api();
            var verification = await wechat.VerifyUrlAsync(new Uri(_server.Site, "/channels/wechat-studio/wechat"), "4711815", via: api);

            // Assert
            Assert.Equal(["appId", "appSecret", "token", "encodingAesKey", "passiveReplyMilliseconds"], names);
            Assert.Contains("/channels/wechat-studio/wechat", await page.GetByTestId("channel-endpoints").InnerTextAsync());
            await page.GetByTestId("settings").GetByText("•••• set").First.WaitForAsync();
            Assert.DoesNotContain(wechat.Secret, await page.ContentAsync());
            Assert.Equal((200, "4711815"), (verification.Status, verification.Body));
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_Offer_The_Account_Settings_And_Pass_The_Url_Verification_When_An_Admin_Creates_A_WeChat_Channel));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server?.Output ?? "");
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }
}
