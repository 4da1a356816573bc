using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// "New from template" in headless Chromium: the Templates page lists the templates, and "Use" makes a draft that opens in
/// the Studio designer with the template's activities as nodes.
/// </summary>
public sealed class TemplatesBrowserTests : IAsyncLifetime
{
    private ServerProcess? _server;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("templates", "/templates", new Dictionary<string, string?>
    {
        ["Platform__Mqtt__EmbeddedPort"] = FreePort.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
    });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_OpenTheDraftInTheDesigner_When_AnAnalystUsesATemplate()
    {
        await using var browser = await StudioBrowser.LaunchAsync(_server!.Site);
        var page = browser.Page;
        try
        {
            // Act: the Templates page from the bar, then "Use" on the device alarm with a name of our own.
            await page.GotoAsync(new Uri(_server.Site, $"/templates?key={Uri.EscapeDataString(_server.ApiKey)}").ToString());
            await page.GetByTestId("use-device-alarm").WaitForAsync();
            Assert.Equal("page", await page.GetByTestId("nav-templates").GetAttributeAsync("aria-current"));
            Assert.True(await page.GetByTestId("use-faq-bot").IsVisibleAsync());
            await page.GetByTestId("template-name").FillAsync("Server room alarm");
            await page.GetByTestId("use-device-alarm").ClickAsync();

            // Assert: the designer opens the new draft with the template's four activities.
            await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/workflows/definitions/device-alarm-[0-9a-f]{8}/edit$"));
            var canvas = page.Locator(".graph-container.x6-graph");
            await canvas.WaitForAsync(new() { Timeout = 120_000 });
            var nodes = canvas.Locator("g.x6-node");
            await nodes.Nth(3).WaitForAsync(new() { Timeout = 60_000 });
            Assert.Equal(4, await nodes.CountAsync());
            Assert.Contains("Above 30", await canvas.InnerTextAsync());
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_OpenTheDraftInTheDesigner_When_AnAnalystUsesATemplate));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), _server.Output);
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }
}
