using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>
/// Issue 20 item 3: files users send come into the attachment store before the workflow runs, fetched from each service
/// exactly as the service serves them (the fakes check the auth headers), so the workflow sees a stored copy whose bytes equal
/// the file's; a file over the channel's limit gets a clear reply in the user's language instead of silence; the web chat
/// uploads a file and shows the workflow's file back.
/// </summary>
public abstract class InboundAttachmentTests(ServerFixture server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Js(string script, string type = "String") => new()
    {
        ["typeName"] = type, ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script },
    };

    /// <summary>A PNG of a few hundred bytes (the signature, then random content).</summary>
    private static byte[] Png(int size = 700)
    {
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>Publishes: Message Received on <paramref name="channel"/> → Send Reply "stored &lt;id&gt; &lt;size&gt; &lt;name&gt;" of the first file.</summary>
    private async Task PublishEchoAsync(string channel) =>
        await server.Admin.SaveAsync(Sequence(UniqueName("file echo"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("reply", "Platform.SendReply", ("text", Js(
                "var a = (getInput('message').attachments || [])[0]; a ? 'stored ' + a.id + ' ' + a.size + ' ' + a.name : 'no file'")))), publish: true);

    private async Task<string> CreateChannelAsync(string prefix, string kind, JsonObject settings)
    {
        var name = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = kind, ["settings"] = settings }, HttpStatusCode.Created);
        return name;
    }

    private static async Task<T> WaitAsync<T>(Func<T?> read, string what) where T : class
    {
        for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until; await Task.Delay(50, Ct))
            if (read() is { } found) return found;
        Assert.Fail($"No {what} within 30 s.{Environment.NewLine}{ServerErrorLog.Latest()}");
        return null!;
    }

    /// <summary>Checks an echo "stored &lt;id&gt; &lt;size&gt; &lt;name&gt;" and that the stored copy has exactly <paramref name="content"/>.</summary>
    private async Task AssertStoredAsync(string echo, byte[] content, string name)
    {
        var parts = echo.Split(' ', 4);
        Assert.True(parts is ["stored", _, _, _], $"The workflow saw no stored file: '{echo}'.");
        Assert.Equal(32, parts[1].Length);
        Assert.Equal((content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), name), (parts[2], parts[3]));
        var stored = await server.Admin.GetByteArrayAsync($"/api/attachments/{parts[1]}", Ct);
        Assert.Equal(content, stored);
    }

    [Fact]
    public async Task Should_StoreTheFileFetchedWithGetFile_When_ATelegramUserSendsADocument()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateChannelAsync("tgfile", "Telegram", new JsonObject
        {
            ["botToken"] = telegram.BotToken, ["webhookSecretToken"] = "tg-secret", ["apiBaseUrl"] = telegram.BaseUrl.ToString(),
        });
        await PublishEchoAsync(channel);
        var content = Png(1500);
        telegram.AddFile("BQACAgIAAxkBAAIBfile1", "documents/file_7.png", content);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/telegram/webhook")
        {
            Content = new StringContent(TelegramPayloads.DocumentMessage(31, 5151, 12, "scan.png", "image/png", content.Length, "BQACAgIAAxkBAAIBfile1").ToJsonString(),
                Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "tg-secret");
        using var response = await server.Factory.CreateClient().SendAsync(request, Ct);
        var reply = await WaitAsync(() => telegram.SentMessages.FirstOrDefault(m => m.ChatId == "5151"), "Telegram reply");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await AssertStoredAsync(reply.PlainText, content, "scan.png");
        Assert.Contains(telegram.Requests, r => r.Path == $"/bot{telegram.BotToken}/getFile");
        Assert.Contains(telegram.Requests, r => r.Path == $"/file/bot{telegram.BotToken}/documents/file_7.png" && r.ResponseStatus == 200);
    }

    [Fact]
    public async Task Should_StoreTheSharedFileDownloadedWithTheBotToken_When_ASlackUserSharesAFile()
    {
        await using var slack = await FakeSlackServer.StartAsync();
        var channel = await CreateChannelAsync("slackfile", "Slack", new JsonObject
        {
            ["botToken"] = slack.BotToken, ["signingSecret"] = slack.SigningSecret, ["apiBaseUrl"] = slack.ApiBaseUrl.ToString(),
        });
        await PublishEchoAsync(channel);
        var content = Encoding.UTF8.GetBytes("quarterly numbers\n" + new string('x', 900));
        var file = slack.AddFile("numbers.txt", "text/plain", content);
        var body = SlackPayloads.DirectMessage("D0FILES01", "U0FILES01", "see attached", "1700000100.000100", eventId: "Ev" + Guid.NewGuid().ToString("N")[..8],
            files: new JsonArray(file), subtype: "file_share").ToJsonString();
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/slack/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Slack-Request-Timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("X-Slack-Signature", FakeSlackServer.Sign(slack.SigningSecret, timestamp, body));

        using var response = await server.Factory.CreateClient().SendAsync(request, Ct);
        var post = await WaitAsync(() => slack.PostedMessages.FirstOrDefault(m => m.Channel == "D0FILES01"), "Slack reply");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await AssertStoredAsync(post.Text!, content, "numbers.txt");
        var download = Assert.Single(slack.Requests, r => r.Path.StartsWith("/files-pri/", StringComparison.Ordinal));
        Assert.Equal("Bearer " + slack.BotToken, download.Header("Authorization"));
    }

    [Fact]
    public async Task Should_StoreTheMediaLookedUpByIdAndDownloadedWithTheToken_When_AWhatsAppCustomerSendsAnImage()
    {
        await using var whatsapp = await FakeWhatsAppServer.StartAsync();
        var channel = await CreateChannelAsync("wafile", "WhatsApp", new JsonObject
        {
            ["phoneNumberId"] = whatsapp.PhoneNumberId, ["accessToken"] = whatsapp.AccessToken, ["appSecret"] = whatsapp.AppSecret,
            ["verifyToken"] = "verify-me", ["apiBaseUrl"] = whatsapp.BaseUrl.ToString(), ["sendReadReceipts"] = "false",
        });
        await PublishEchoAsync(channel);
        var content = Png(2048);
        var mediaId = whatsapp.AddMedia(content, "image/png");
        var waId = "4915100" + Random.Shared.Next(100000, 999999).ToString(System.Globalization.CultureInfo.InvariantCulture);

        var response = await whatsapp.SendWebhookAsync(new Uri($"/channels/{channel}/whatsapp/webhook", UriKind.Relative),
            whatsapp.MediaMessage(waId, "wamid." + Guid.NewGuid().ToString("N"), "image", mediaId, "image/png", fileName: "photo.png"), through: server.Factory.CreateClient());
        var reply = await WaitAsync(() => whatsapp.SentMessages.FirstOrDefault(m => m.To == waId), "WhatsApp reply");

        Assert.Equal(200, response.Status);
        await AssertStoredAsync(reply.Text!, content, "photo.png");
        Assert.Contains(whatsapp.Requests, r => r.Method == "GET" && r.Path == $"/{whatsapp.ApiVersion}/{mediaId}" && r.ResponseStatus == 200);
        var download = Assert.Single(whatsapp.Requests, r => r.Path.StartsWith("/whatsapp-cdn/", StringComparison.Ordinal));
        Assert.Equal(("Bearer " + whatsapp.AccessToken, 200), (download.Header("Authorization"), download.ResponseStatus));
    }

    [Fact]
    public async Task Should_StoreTheMmsMediaDownloadedWithBasicAuth_When_TwilioPostsAnMms()
    {
        await using var twilio = await FakeTwilioServer.StartAsync();
        var publicUrl = "https://bot.example.com/channels/{0}/twilio/messages";
        var name = "mmsfile-" + Guid.NewGuid().ToString("N")[..8];
        publicUrl = string.Format(System.Globalization.CultureInfo.InvariantCulture, publicUrl, name);
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = name, ["kind"] = "Sms",
            ["settings"] = new JsonObject
            {
                ["accountSid"] = twilio.AccountSid, ["authToken"] = twilio.AuthToken, ["fromNumber"] = "+15005550006",
                ["apiBaseUrl"] = twilio.BaseUrl.ToString(), ["publicUrl"] = publicUrl,
            },
        }, HttpStatusCode.Created);
        await PublishEchoAsync(name);
        var content = Png(3000);
        var mediaUrl = twilio.AddMedia(content, "image/png");
        var from = "+1415555" + Random.Shared.Next(1000, 9999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var fields = new List<KeyValuePair<string, string>>
        {
            new("MessageSid", "MM" + Guid.NewGuid().ToString("N")), new("AccountSid", twilio.AccountSid), new("From", from), new("To", "+15005550006"),
            new("Body", ""), new("NumMedia", "1"), new("MediaContentType0", "image/png"), new("MediaUrl0", mediaUrl),
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{name}/twilio/messages") { Content = new FormUrlEncodedContent(fields) };
        request.Headers.Add("X-Twilio-Signature", FakeTwilioServer.Sign(twilio.AuthToken, publicUrl, fields));

        using var response = await server.Factory.CreateClient().SendAsync(request, Ct);
        var sms = await WaitAsync(() => twilio.CreatedMessages.FirstOrDefault(m => m.To == from), "SMS reply");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var echo = sms.Body!;
        Assert.EndsWith(".png", echo, StringComparison.Ordinal);
        await AssertStoredAsync(echo, content, echo.Split(' ', 4)[3]);
        var download = Assert.Single(twilio.Requests, r => r.Method == "GET" && r.Path.Contains("/Media/", StringComparison.Ordinal));
        Assert.Equal(("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{twilio.AccountSid}:{twilio.AuthToken}")), 200),
            (download.Header("Authorization"), download.ResponseStatus));
    }

    [Fact]
    public async Task Should_StoreTheAttachmentFromTheSignedCdnUrl_When_ADiscordCommandCarriesAFile()
    {
        await using var discord = await FakeDiscordServer.StartAsync();
        var channel = await CreateChannelAsync("dcfile", "Discord", new JsonObject
        {
            ["applicationId"] = discord.ApplicationId, ["publicKey"] = discord.PublicKeyHex, ["botToken"] = discord.BotToken,
            ["apiBaseUrl"] = discord.ApiBaseUrl.ToString(),
        });
        await PublishEchoAsync(channel);
        var content = Png(1200);
        var channelId = "1184" + Random.Shared.NextInt64(100_000_000_000, 999_999_999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

        var response = await discord.SendInteractionAsync(new Uri($"/channels/{channel}/discord/interactions", UriKind.Relative),
            discord.SlashCommandWithFile(channelId, "80351110001", "scan", "receipt.png", "image/png", content), through: server.Factory.CreateClient());
        var reply = await WaitAsync(() => discord.PostedMessages.FirstOrDefault(m => m.ChannelId == channelId || m.Content?.StartsWith("stored ", StringComparison.Ordinal) == true),
            "Discord reply");

        Assert.Equal(200, response.Status);
        await AssertStoredAsync(reply.Content!.Replace("\\", "", StringComparison.Ordinal), content, "receipt.png");
        Assert.Contains(discord.Requests, r => r.Method == "GET" && r.Path.StartsWith("/attachments/", StringComparison.Ordinal) && r.ResponseStatus == 200);
    }

    [Fact]
    public async Task Should_AnswerThatTheFileIsTooLargeInTheUsersLanguage_When_ATelegramDocumentIsOverTheChannelLimit()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateChannelAsync("tgbig", "Telegram", new JsonObject
        {
            ["botToken"] = telegram.BotToken, ["webhookSecretToken"] = "tg-secret", ["apiBaseUrl"] = telegram.BaseUrl.ToString(),
            ["maxAttachmentBytes"] = (50L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        await PublishEchoAsync(channel);
        async Task<HttpStatusCode> SendAsync(long chat, string? caption)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/telegram/webhook")
            {
                Content = new StringContent(TelegramPayloads.DocumentMessage(40 + chat % 7, chat, 9, "movie.mp4", "video/mp4", 62L * 1024 * 1024, "BQACbig" + chat, caption)
                    .ToJsonString(), Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", "tg-secret");
            using var response = await server.Factory.CreateClient().SendAsync(request, Ct);
            return response.StatusCode;
        }

        var english = await SendAsync(6161, "here is the video");
        var chinese = await SendAsync(6262, "这是我的视频");
        var inEnglish = await WaitAsync(() => telegram.SentMessages.FirstOrDefault(m => m.ChatId == "6161"), "English reply");
        var inChinese = await WaitAsync(() => telegram.SentMessages.FirstOrDefault(m => m.ChatId == "6262"), "Chinese reply");

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (english, chinese)); // taken, never a 413 that Telegram would retry and then drop
        Assert.StartsWith("That file is too large (62 MB); the limit is 50 MB.", inEnglish.PlainText, StringComparison.Ordinal);
        Assert.StartsWith("这个文件太大了（62 MB），上限是 50 MB。", inChinese.PlainText, StringComparison.Ordinal);
        Assert.DoesNotContain(telegram.Requests, r => r.Path.EndsWith("/getFile", StringComparison.Ordinal)); // nothing downloaded
    }

    /// <summary>The chat socket (welcome first) and the upload endpoint, as the widget uses them.</summary>
    private async Task<(WebSocket Socket, JsonObject Welcome)> ConnectChatAsync(string channel)
    {
        var socket = await server.Factory.Server.CreateWebSocketClient().ConnectAsync(new Uri($"ws://localhost/ws/chat?channel={channel}"), Ct);
        return (socket, await NextFrameAsync(socket, "welcome"));
    }

    private static async Task<JsonObject> NextFrameAsync(WebSocket socket, string type)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), timeout.Token);
                length += result.Count;
            }
            while (!result.EndOfMessage);
            var frame = JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, length))!.AsObject();
            if (frame["type"]?.GetValue<string>() == type) return frame;
        }
    }

    private async Task<HttpResponseMessage> UploadAsync(string channel, string token, string name, byte[] content, string type)
    {
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue(type);
        return await server.Factory.CreateClient().PostAsync(
            $"/chat/upload?channel={channel}&token={Uri.EscapeDataString(token)}&name={Uri.EscapeDataString(name)}", body, Ct);
    }

    [Fact]
    public async Task Should_ShowTheWorkflowsFileInTheChat_When_AVisitorUploadsAnImageAndTheWorkflowSendsItBack()
    {
        var channel = await CreateChannelAsync("chatfile", "WebChat", new JsonObject());
        await server.Admin.SaveAsync(Sequence(UniqueName("chat file echo"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("reply", "Platform.SendReply", ("text", Literal("String", "Here is your file back.")),
                ("attachments", Js("getInput('message').attachments", "Object")))), publish: true);
        var (socket, welcome) = await ConnectChatAsync(channel);
        using var open = socket;
        var content = Png(4096);

        using var upload = await UploadAsync(channel, welcome.Str("token"), "drawing.png", content, "image/png");
        var uploaded = JsonNode.Parse(await upload.Content.ReadAsStringAsync(Ct))!.AsObject();
        await socket.SendAsync(Encoding.UTF8.GetBytes(new JsonObject
        {
            ["type"] = "message", ["id"] = "f1", ["text"] = "", ["attachments"] = new JsonArray(uploaded.Str("file")),
        }.ToJsonString()), WebSocketMessageType.Text, true, Ct);
        var reply = await NextFrameAsync(socket, "message");
        var file = reply["attachments"]!.AsArray().Single()!;
        var shown = await server.Factory.CreateClient().GetAsync(file.Str("url"), Ct);

        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        Assert.True(uploaded["image"]!.GetValue<bool>());
        Assert.True(welcome["maxAttachmentBytes"]!.GetValue<long>() >= 50L * 1024 * 1024);
        Assert.Equal("Here is your file back.", reply.Str("text"));
        Assert.Equal(("drawing.png", "image/png", 4096L, true), (file.Str("name"), file.Str("contentType"), file["size"]!.GetValue<long>(), file["image"]!.GetValue<bool>()));
        Assert.StartsWith("/chat/files/", file.Str("url"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, shown.StatusCode);
        Assert.Equal("image/png", shown.Content.Headers.ContentType!.MediaType);
        Assert.Equal(content, await shown.Content.ReadAsByteArrayAsync(Ct));
        using var forged = await server.Factory.CreateClient().GetAsync("/chat/files/" + uploaded.Str("file")[..^4] + "AAAA", Ct);
        Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
    }

    [Fact]
    public async Task Should_RefuseWith413NamingTheLimitOr401_When_AChatUploadIsTooLargeOrHasNoToken()
    {
        var channel = await CreateChannelAsync("chatbig", "WebChat", new JsonObject { ["maxAttachmentBytes"] = "1024" });
        var (socket, welcome) = await ConnectChatAsync(channel);
        using var open = socket;

        using var tooLarge = await UploadAsync(channel, welcome.Str("token"), "big.png", Png(3 * 1024), "image/png");
        using var noToken = await UploadAsync(channel, "not-a-token", "small.png", Png(100), "image/png");

        Assert.Equal(1024, welcome["maxAttachmentBytes"]!.GetValue<long>());
        var problem = JsonNode.Parse(await tooLarge.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Equal("That file is too large (3 KB); the limit is 1 KB.", problem.Str("detail"));
        Assert.Equal(HttpStatusCode.Unauthorized, noToken.StatusCode);
    }
}

/// <summary>Inbound attachments on SQLite.</summary>
public sealed class SqliteInboundAttachmentTests(SqliteServerFixture server) : InboundAttachmentTests(server), IClassFixture<SqliteServerFixture>;
