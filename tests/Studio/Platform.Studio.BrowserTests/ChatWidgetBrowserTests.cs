using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Platform.Studio.BrowserTests.Infrastructure;

namespace Platform.Studio.BrowserTests;

/// <summary>
/// The web chat page (<c>/chat</c>) and the embed script (<c>/chat/widget.js</c>) in headless Chromium against the real
/// server: an echo workflow is published through the API, a visitor types and sees the reply, and after a reload the
/// conversation comes back (the token from localStorage, the replies replayed by the server).
/// </summary>
[Collection(StudioAppCollection.Name)]
public sealed class ChatWidgetBrowserTests(StudioApp app)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new web chat channel with an echo workflow: "You said: &lt;text&gt;" with quick replies Yes and No.</summary>
    private async Task<string> CreateEchoChannelAsync(string replyScript = "'You said: **' + getInput('text') + '**'", string? attachmentsScript = null)
    {
        var channel = "chat-" + Guid.NewGuid().ToString("N")[..10];
        using var api = app.CreateClient(withApiKey: true);
        using (var created = await api.PostAsJsonAsync("/api/channels", new JsonObject { ["name"] = channel, ["kind"] = "WebChat" }, Ct))
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));

        JsonObject Input(string type, string typeName, string value) => new()
        {
            ["typeName"] = typeName, ["expression"] = new JsonObject { ["type"] = type, ["value"] = value },
        };
        var model = new JsonObject
        {
            ["name"] = $"Chat echo {channel}",
            ["variables"] = new JsonArray(),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(
                    new JsonObject { ["id"] = "received", ["type"] = "Platform.MessageReceived", ["version"] = 1, ["channel"] = Input("Literal", "String", channel) },
                    new JsonObject
                    {
                        ["id"] = "reply", ["type"] = "Platform.SendReply", ["version"] = 1,
                        ["text"] = Input("JavaScript", "String", replyScript),
                        ["quickReplies"] = Input("Literal", "String[]", "[\"Yes\",\"No\"]"),
                    }),
                ["connections"] = new JsonArray(new JsonObject
                {
                    ["source"] = new JsonObject { ["activity"] = "received", ["port"] = "Done" },
                    ["target"] = new JsonObject { ["activity"] = "reply", ["port"] = "In" },
                    ["vertices"] = new JsonArray(),
                }),
            },
        };
        if (attachmentsScript is not null) model["root"]!["activities"]![1]!["attachments"] = Input("JavaScript", "Object", attachmentsScript);
        using var saved = await api.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true }, Ct);
        Assert.True(saved.StatusCode == HttpStatusCode.OK, await saved.Content.ReadAsStringAsync(Ct));
        return channel;
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_Show_A_Table_With_Text_Cells_When_A_Reply_Carries_A_Markdown_Table()
    {
        await WithBrowserAsync(nameof(Should_Show_A_Table_With_Text_Cells_When_A_Reply_Carries_A_Markdown_Table), async browser =>
        {
            // Arrange: a reply with a title and a pipe table, one cell of which is markup a visitor typed.
            var channel = await CreateEchoChannelAsync(
                "'**Running low**\\n\\n| product | in stock |\\n|---|---:|\\n| Desk lamp | 2 |\\n| ' + getInput('text') + ' | 0 |'");
            var page = browser.Page;
            await page.GotoAsync(new Uri(app.BaseAddress, $"/chat?channel={channel}").ToString());
            await page.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();

            // Act
            await page.Locator("#chat-input").FillAsync("<img src=x onerror=alert(1)>");
            await page.Locator("#chat-input").PressAsync("Enter");

            // Assert: a real table, the typed markup as text in its cell and never as an element.
            var table = page.Locator(".chat-msg.bot table");
            await table.WaitForAsync();
            Assert.Equal(["product", "in stock"], await table.Locator("th").AllInnerTextsAsync());
            Assert.Equal(["Desk lamp", "2", "<img src=x onerror=alert(1)>", "0"], await table.Locator("td").AllInnerTextsAsync());
            Assert.Equal(0, await page.Locator(".chat-msg.bot img").CountAsync());
            Assert.Equal("Running low", await page.Locator(".chat-msg.bot strong").First.InnerTextAsync());
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_Show_The_Reply_And_Replay_The_History_When_A_Visitor_Chats_And_Reloads()
    {
        await WithBrowserAsync(nameof(Should_Show_The_Reply_And_Replay_The_History_When_A_Visitor_Chats_And_Reloads), async browser =>
        {
            // Arrange
            var channel = await CreateEchoChannelAsync();
            var page = browser.Page;
            await page.GotoAsync(new Uri(app.BaseAddress, $"/chat?channel={channel}").ToString());
            await page.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();

            // Act: type and send with Enter.
            await page.Locator("#chat-input").FillAsync("hello");
            await page.Locator("#chat-input").PressAsync("Enter");

            // Assert: the reply, its Markdown rendered as elements, the delivery tick and the quick replies.
            var reply = page.Locator(".chat-msg.bot", new() { HasText = "You said: hello" });
            await reply.WaitForAsync();
            Assert.Equal("hello", await reply.Locator("strong").InnerTextAsync());
            await page.Locator(".chat-msg.user", new() { HasText = "delivered" }).WaitForAsync();
            var token = await page.EvaluateAsync<string>($"JSON.parse(localStorage.getItem('platform-chat:{channel}')).token");
            Assert.False(string.IsNullOrEmpty(token));

            // Act: a quick reply.
            await page.Locator("#chat-quick button", new() { HasText = "Yes" }).ClickAsync();
            await page.Locator(".chat-msg.bot", new() { HasText = "You said: Yes" }).WaitForAsync();

            // Act: reload; the conversation is resumed with the stored token and the replies come back from the server.
            await page.ReloadAsync();
            await page.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();
            await page.Locator(".chat-msg.bot", new() { HasText = "You said: Yes" }).WaitForAsync();

            // Assert: the whole conversation in order, once.
            var texts = await page.Locator(".chat-msg:not(.system)").AllInnerTextsAsync();
            var lines = texts.Select(t => t.Split('\n')[0].Trim()).ToList();
            Assert.Equal(["hello", "You said: hello", "Yes", "You said: Yes"], lines);
            // The resumed conversation came with a fresh token (its lifetime starts again), which the page keeps.
            var resumedToken = await page.EvaluateAsync<string>($"JSON.parse(localStorage.getItem('platform-chat:{channel}')).token");
            Assert.False(string.IsNullOrEmpty(resumedToken));
            Assert.NotEqual(token, resumedToken);
            Assert.Empty(browser.OutsideRequests);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_Open_The_Chat_In_A_Frame_When_Another_Site_Embeds_The_Widget()
    {
        await WithBrowserAsync(nameof(Should_Open_The_Chat_In_A_Frame_When_Another_Site_Embeds_The_Widget), async browser =>
        {
            // Arrange: a page of another origin (another loopback port: Chromium keeps public pages from loading
            // loopback resources) with the one-line embed.
            var channel = await CreateEchoChannelAsync();
            var page = browser.Page;
            var widget = new Uri(app.BaseAddress, "/chat/widget.js");
            await using var shop = await HostPageAsync(
                $"<!DOCTYPE html><html><body><h1>Shop</h1><script src=\"{widget}\" data-channel=\"{channel}\"></script></body></html>");
            await page.GotoAsync(shop.Urls.First());

            // Act
            await page.Locator("[data-platform-chat=button]").ClickAsync();
            var frame = page.FrameLocator("iframe[data-platform-chat=frame]");
            await frame.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();
            await frame.Locator("#chat-input").FillAsync("from the shop");
            await frame.Locator("#chat-send").ClickAsync();

            // Assert
            await frame.Locator(".chat-msg.bot", new() { HasText = "You said: from the shop" }).WaitForAsync();
            await page.Locator("[data-platform-chat=button]").ClickAsync();
            Assert.False(await page.Locator("iframe[data-platform-chat=frame]").IsVisibleAsync());
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_KeepTheNewestReplyInViewAboveTheQuickReplies_When_TheWindowIs320To1440PixelsWide()
    {
        await WithBrowserAsync(nameof(Should_KeepTheNewestReplyInViewAboveTheQuickReplies_When_TheWindowIs320To1440PixelsWide), async browser =>
        {
            // Arrange: replies with quick replies Yes and No; a short window so that the list overflows.
            var channel = await CreateEchoChannelAsync();
            var page = browser.Page;
            await page.SetViewportSizeAsync(480, 520);
            await page.GotoAsync(new Uri(app.BaseAddress, $"/chat?channel={channel}").ToString());
            await page.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();

            foreach (var width in new[] { 480, 320, 768, 1440 })
            {
                // Act: a few turns at this width; the last reply brings the quick replies.
                await page.SetViewportSizeAsync(width, 520);
                for (var i = 1; i <= 3; i++)
                {
                    var text = $"turn {i} at {width} px";
                    await page.Locator("#chat-input").FillAsync(text);
                    await page.Locator("#chat-input").PressAsync("Enter");
                    await page.Locator(".chat-msg.bot", new() { HasText = "You said: " + text }).WaitForAsync();
                }
                await page.Locator("#chat-quick button", new() { HasText = "Yes" }).WaitForAsync();

                // Assert: the newest reply lies inside the message list's visible box, above the quick replies.
                var geometry = await page.EvaluateAsync<double[]>(
                    "() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => {" +
                    "  const list = document.getElementById('chat-messages').getBoundingClientRect();" +
                    "  const bots = document.querySelectorAll('.chat-msg.bot');" +
                    "  const newest = bots[bots.length - 1].getBoundingClientRect();" +
                    "  const quick = document.getElementById('chat-quick').getBoundingClientRect();" +
                    "  resolve([list.top, list.bottom, newest.top, newest.bottom, quick.top, window.innerHeight]);" +
                    "})))");
                var (listTop, listBottom, top, bottom, quickTop, height) = (geometry[0], geometry[1], geometry[2], geometry[3], geometry[4], geometry[5]);
                Assert.True(top >= listTop - 1 && bottom <= listBottom + 1,
                    $"At {width} px the newest reply ({top:0}-{bottom:0}) is outside the message list ({listTop:0}-{listBottom:0}).");
                Assert.True(bottom <= quickTop + 1, $"At {width} px the quick replies (top {quickTop:0}) cover the newest reply (bottom {bottom:0}).");
                Assert.True(quickTop < height, $"At {width} px the quick replies are below the window.");
                Assert.Contains($"turn 3 at {width} px", await page.Locator(".chat-msg.bot").Last.InnerTextAsync());
            }
        });
    }

    /// <summary>A site on another loopback port that serves <paramref name="html"/> at <c>/</c>.</summary>
    private static async Task<WebApplication> HostPageAsync(string html)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseUrls($"http://localhost:{FreePort.Next()}");
        builder.Logging.ClearProviders();
        var site = builder.Build();
        site.MapGet("/", () => Results.Content(html, "text/html; charset=utf-8"));
        await site.StartAsync(Ct);
        return site;
    }

    /// <summary>An 8×8 red PNG.</summary>
    private const string RedPng = "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAYAAADED76LAAAAEklEQVR4nGP4z8DwHx9mGBkKAMLXf4EvceABAAAAAElFTkSuQmCC";

    [Fact(Timeout = 300_000)]
    public async Task Should_ShowTheImageTheWorkflowSendsBack_When_AVisitorUploadsAPngWithTheAttachButton()
    {
        await WithBrowserAsync(nameof(Should_ShowTheImageTheWorkflowSendsBack_When_AVisitorUploadsAPngWithTheAttachButton), async browser =>
        {
            // Arrange: a workflow that answers with the visitor's own files (Send Reply's Attachments).
            var channel = await CreateEchoChannelAsync("'Here is your picture back.'", "getInput('message').attachments");
            var page = browser.Page;
            await page.GotoAsync(new Uri(app.BaseAddress, $"/chat?channel={channel}").ToString());
            await page.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();

            // Act: the visitor clicks the attach button and picks a PNG.
            var chooser = await page.RunAndWaitForFileChooserAsync(() => page.Locator("#chat-attach").ClickAsync());
            await chooser.SetFilesAsync(new FilePayload { Name = "red.png", MimeType = "image/png", Buffer = Convert.FromBase64String(RedPng) });

            // Assert: the visitor's image, then the reply with the same image shown inline (loaded, 8×8), delivered through signed links.
            var reply = page.Locator(".chat-msg.bot", new() { HasText = "Here is your picture back." });
            await reply.WaitForAsync();
            var image = reply.Locator("img.chat-image");
            await image.WaitForAsync();
            await page.WaitForFunctionAsync("() => { const i = document.querySelector('.chat-msg.bot img.chat-image'); return i && i.complete && i.naturalWidth > 0; }");
            Assert.Equal(8, await image.EvaluateAsync<int>("i => i.naturalWidth"));
            Assert.Equal("red.png", await image.GetAttributeAsync("alt"));
            Assert.StartsWith("/chat/files/", await image.GetAttributeAsync("src"), StringComparison.Ordinal);
            await page.Locator(".chat-msg.user img.chat-image").WaitForAsync();
            await page.Locator(".chat-msg.user", new() { HasText = "delivered" }).WaitForAsync();
            Assert.True(await page.Locator("#chat-upload").IsHiddenAsync());
            Assert.Empty(browser.OutsideRequests);
        });
    }

    [Fact(Timeout = 300_000)]
    public async Task Should_SayTheFileIsTooLargeWithoutSendingIt_When_AVisitorPicksAFileOverTheLimit()
    {
        await WithBrowserAsync(nameof(Should_SayTheFileIsTooLargeWithoutSendingIt_When_AVisitorPicksAFileOverTheLimit), async browser =>
        {
            var channel = "chat-" + Guid.NewGuid().ToString("N")[..10];
            using (var api = app.CreateClient(withApiKey: true))
            using (var created = await api.PostAsJsonAsync("/api/channels", new JsonObject
                   {
                       ["name"] = channel, ["kind"] = "WebChat", ["settings"] = new JsonObject { ["maxAttachmentBytes"] = "2048" },
                   }, Ct))
                Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
            var page = browser.Page;
            var uploads = 0;
            page.Request += (_, request) => { if (request.Url.Contains("/chat/upload", StringComparison.Ordinal)) uploads++; };
            await page.GotoAsync(new Uri(app.BaseAddress, $"/chat?channel={channel}").ToString());
            await page.Locator("#chat-status", new() { HasText = "Online" }).WaitForAsync();

            var chooser = await page.RunAndWaitForFileChooserAsync(() => page.Locator("#chat-attach").ClickAsync());
            await chooser.SetFilesAsync(new FilePayload { Name = "big.bin", MimeType = "application/octet-stream", Buffer = new byte[5 * 1024] });

            await page.Locator(".chat-msg.system", new() { HasText = "That file is too large (5 KB); the limit is 2 KB." }).WaitForAsync();
            Assert.Equal(0, uploads);
        });
    }

    private async Task WithBrowserAsync(string testName, Func<StudioBrowser, Task> test)
    {
        await using var browser = await StudioBrowser.LaunchAsync(app.BaseAddress);
        browser.Context.SetDefaultTimeout(30_000);
        try
        {
            await test(browser);
        }
        catch (Exception failure)
        {
            var directory = TestPaths.NewArtifactsDirectory(testName);
            await File.WriteAllTextAsync(Path.Combine(directory, "failure.txt"), failure.ToString());
            await app.SaveLogsAsync(directory);
            await browser.SaveArtifactsAsync(directory);
            TestContext.Current.SendDiagnosticMessage($"Chat browser test artifacts: {directory}");
            throw new Xunit.Sdk.XunitException($"{failure.Message}\n(artifacts: {directory})", failure);
        }
    }
}
