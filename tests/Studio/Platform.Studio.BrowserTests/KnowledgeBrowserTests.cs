using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The Knowledge page in headless Chromium against a server process: create a base, upload a document with the file picker
/// and another by drag and drop (both as multipart forms), see the chunk counts, search and read the scored hits, delete a document. Mouse and keyboard.
/// </summary>
public sealed class KnowledgeBrowserTests : IAsyncLifetime
{
    private ServerProcess? _server;
    private readonly string _temp = TestPaths.NewTempDirectory("knowledge-page");

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync("knowledge-page", "/health");

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
        TestPaths.TryDelete(_temp);
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_UploadSearchAndDelete_When_AnAnalystUsesTheKnowledgePage()
    {
        var server = _server!;
        var name = "handbook-" + Guid.NewGuid().ToString("N")[..8];
        var file = Path.Combine(_temp, "password.md");
        await File.WriteAllTextAsync(file, "# Handbook\n\n## Resetting your password\n\nOpen the account portal and choose Forgot password; the link is valid for thirty minutes.\n");

        await using var browser = await StudioBrowser.LaunchAsync(server.Site);
        var page = browser.Page;
        try
        {
            page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
            var uploads = new System.Collections.Concurrent.ConcurrentQueue<(string Method, string? ContentType)>();
            page.Request += (_, request) =>
            {
                if (request.Url.EndsWith($"/api/knowledge/{name}/documents", StringComparison.Ordinal))
                    uploads.Enqueue((request.Method, request.Headers.TryGetValue("content-type", out var type) ? type : null));
            };
            await page.GotoAsync(new Uri(server.Site, "/knowledge?key=" + Uri.EscapeDataString(server.ApiKey)).ToString());
            Assert.Equal("page", await page.GetByTestId("nav-knowledge").GetAttributeAsync("aria-current"));

            // Create the base.
            await page.GetByTestId("new-knowledge-base-name").ClickAsync();
            await page.Keyboard.TypeAsync(name);
            await page.GetByTestId("create-knowledge-base").ClickAsync();
            await page.Locator($"[data-knowledge-base='{name}']").WaitForAsync();

            // Upload with the file picker (clicking "choose files").
            var chooser = await page.RunAndWaitForFileChooserAsync(() => page.Locator(".kb-pick").ClickAsync());
            await chooser.SetFilesAsync(file);
            await page.GetByTestId("upload-status").GetByText("Indexed password.md").WaitForAsync();

            // Upload by dropping a file on the drop zone.
            var transfer = await page.EvaluateHandleAsync("""
                () => { const dt = new DataTransfer();
                  dt.items.add(new File(['# Parking\n\nParking permits are issued by the facilities team on Mondays.'], 'parking.md', { type: 'text/markdown' }));
                  return dt; }
                """);
            await page.GetByTestId("drop-zone").DispatchEventAsync("drop", new { dataTransfer = transfer });
            await page.GetByTestId("upload-status").GetByText("Indexed parking.md").WaitForAsync();
            await page.Locator("[data-testid='document-row'][data-document='parking.md']").WaitForAsync();
            Assert.Equal("1", (await page.Locator("[data-testid='document-row'][data-document='password.md'] [data-testid='chunk-count']").InnerTextAsync()).Trim());
            // Both went up as multipart forms (POST …/documents, field "file").
            Assert.Equal(2, uploads.Count);
            Assert.All(uploads, u => Assert.Equal("POST", u.Method));
            Assert.All(uploads, u => Assert.StartsWith("multipart/form-data", u.ContentType ?? "", StringComparison.Ordinal));

            // Search: the password section comes first, with its score.
            await page.GetByTestId("search-query").ClickAsync();
            await page.Keyboard.TypeAsync("I forgot my login, how long is the reset link good for?");
            await page.GetByTestId("search").ClickAsync();
            var first = page.GetByTestId("hit").First;
            await first.WaitForAsync();
            Assert.Contains("Resetting your password", await first.InnerTextAsync());
            Assert.Matches(@"^score [01]\.\d{3}$", (await first.GetByTestId("hit-score").InnerTextAsync()).Trim());

            // Delete the parking document: its row goes and the API has no chunks of it any more.
            await page.Locator("[data-testid='document-row'][data-document='parking.md'] [data-testid='delete-document']").ClickAsync();
            await page.GetByTestId("upload-status").GetByText("Deleted parking.md").WaitForAsync();
            Assert.Equal(0, await page.Locator("[data-testid='document-row'][data-document='parking.md']").CountAsync());
            Assert.Empty(browser.OutsideRequests);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(nameof(Should_UploadSearchAndDelete_When_AnAnalystUsesTheKnowledgePage));
            await browser.SaveArtifactsAsync(directory);
            await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), server.Output);
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }

        using var api = server.Api();
        var detail = await api.GetFromJsonAsync<JsonObject>($"/api/knowledge/{name}", TestContext.Current.CancellationToken);
        var documents = detail!["documents"]!.AsArray();
        Assert.Equal("password.md", Assert.Single(documents)!["name"]!.GetValue<string>());
    }
}
