using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;

namespace Platform.Server.Tests;

/// <summary>
/// The embedded default with its demo: the shop database, the assistant intent set, the demo devices with the simulator
/// on the embedded MQTT broker, and the seed workflows from workflows/ published on first start. Messages come in through
/// a (fake) Telegram channel, so each conversation is a Telegram chat.
/// </summary>
public sealed class DemoServerFixture : IAsyncLifetime
{
    private readonly TempDirectory _data = new("platform-demo");

    public PlatformServerFactory Factory { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public FakeTelegramServer Telegram { get; private set; } = null!;
    public FakeSlackServer Slack { get; private set; } = null!;
    public FakeWhatsAppServer WhatsApp { get; private set; } = null!;
    public FakeDiscordServer Discord { get; private set; } = null!;
    public const string WhatsAppVerifyToken = "demo-whatsapp-verify";
    public const string SecretToken = "demo-telegram-secret";

    public async ValueTask InitializeAsync()
    {
        Telegram = await FakeTelegramServer.StartAsync();
        Slack = await FakeSlackServer.StartAsync();
        WhatsApp = await FakeWhatsAppServer.StartAsync();
        Discord = await FakeDiscordServer.StartAsync();
        var settings = PlatformServerFactory.WithKeys(_data.Path);
        settings["Platform:Demo:Enabled"] = "true";
        settings["Platform:Devices:Simulate"] = "true";
        settings["Platform:Mqtt:EmbeddedPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Platform:AI:Embeddings:Enabled"] = "false"; // n-grams only: fast and deterministic for these sentences
        Factory = new PlatformServerFactory(settings);
        Admin = Factory.CreateClient(PlatformServerFactory.AdminKey);
        await Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = "telegram", ["kind"] = "Telegram",
            ["settings"] = new JsonObject { ["botToken"] = Telegram.BotToken, ["webhookSecretToken"] = SecretToken, ["apiBaseUrl"] = Telegram.BaseUrl.ToString() },
        }, HttpStatusCode.Created);
        await Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = "slack", ["kind"] = "Slack",
            ["settings"] = new JsonObject { ["botToken"] = Slack.BotToken, ["signingSecret"] = Slack.SigningSecret, ["apiBaseUrl"] = Slack.ApiBaseUrl.ToString() },
        }, HttpStatusCode.Created);
        await Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = "whatsapp", ["kind"] = "WhatsApp",
            ["settings"] = new JsonObject
            {
                ["phoneNumberId"] = WhatsApp.PhoneNumberId, ["accessToken"] = WhatsApp.AccessToken, ["appSecret"] = WhatsApp.AppSecret,
                ["verifyToken"] = WhatsAppVerifyToken, ["apiBaseUrl"] = WhatsApp.BaseUrl.ToString(), ["templateName"] = "service_reply",
            },
        }, HttpStatusCode.Created);
        await Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = "discord", ["kind"] = "Discord",
            ["settings"] = new JsonObject
            {
                ["applicationId"] = Discord.ApplicationId, ["publicKey"] = Discord.PublicKeyHex, ["botToken"] = Discord.BotToken,
                ["apiBaseUrl"] = Discord.ApiBaseUrl.ToString(),
            },
        }, HttpStatusCode.Created);
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        if (Telegram is not null) await Telegram.DisposeAsync();
        if (Slack is not null) await Slack.DisposeAsync();
        if (WhatsApp is not null) await WhatsApp.DisposeAsync();
        if (Discord is not null) await Discord.DisposeAsync();
        _data.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

public sealed partial class SeedWorkflowTests(DemoServerFixture demo) : IClassFixture<DemoServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static long _update = 1000;

    /// <summary>Sends <paramref name="text"/> from Telegram chat <paramref name="chatId"/> and returns the replies that chat gets.</summary>
    private async Task<List<string>> SayAsync(long chatId, string text, int expectedReplies = 1)
    {
        var before = demo.Telegram.SentMessages.Count(m => m.ChatId == chatId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var update = TelegramPayloads.TextMessage(Interlocked.Increment(ref _update), chatId, Interlocked.Increment(ref _update), text);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/telegram/telegram/webhook")
        {
            Content = new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", DemoServerFixture.SecretToken);
        var response = await demo.Factory.CreateClient().SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        List<string> replies = [];
        for (var i = 0; i < 300; i++)
        {
            replies = demo.Telegram.SentMessages.Where(m => m.ChatId == chatId.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .Skip(before).Select(m => m.PlainText).ToList();
            if (replies.Count >= expectedReplies) break;
            await Task.Delay(50, Ct);
        }
        Assert.True(replies.Count >= expectedReplies, $"No reply to '{text}'. Outbox: {await demo.Admin.GetStringAsync("/api/messages/outbox?take=5", Ct)}\n{ServerErrorLog.Latest()}");
        return replies;
    }

    [Fact]
    public async Task Should_Publish_The_Seed_Workflows_And_Demo_Data_When_The_Demo_Server_Starts()
    {
        var definitions = await demo.Admin.GetJsonAsync("/elsa/api/workflow-definitions?versionOptions=Published&pageSize=100");
        var sources = await demo.Admin.GetStringAsync("/api/data-sources", Ct);
        var ids = definitions["items"]!.AsArray().Select(d => d!["definitionId"]!.GetValue<string>()).ToList();

        foreach (var file in Directory.GetFiles(TestPaths.InRepo("workflows"), "*.json"))
            Assert.Contains(JsonNode.Parse(await File.ReadAllTextAsync(file, Ct))!["definitionId"]!.GetValue<string>(), ids);
        Assert.Contains("\"demo\"", sources);
    }

    [Fact]
    public async Task Should_Count_Todays_Orders_From_The_Demo_Database_When_Asked()
    {
        var replies = await SayAsync(7001, "how many orders came in today?");

        Assert.Equal("5 orders came in today, 575.6 in total.", replies.Single());
    }

    [Fact]
    public async Task Should_List_Low_Stock_As_A_Table_When_Asked()
    {
        var replies = await SayAsync(7002, "which products need reordering");

        Assert.Contains("Smart plug", replies.Single());
        Assert.Contains("LED bulb E27", replies.Single());
        Assert.DoesNotContain("Desk lamp", replies.Single());
    }

    [Fact]
    public async Task Should_Switch_The_Kitchen_Light_On_Through_The_Device_When_Told()
    {
        var replies = await SayAsync(7003, "turn on the kitchen light");
        var state = await demo.Admin.GetJsonAsync("/api/devices/kitchen-light/state");

        Assert.Contains("kitchen light", replies.Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains(" on", replies.Single(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("true", state.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Should_Answer_Politely_When_The_Question_Is_Out_Of_Scope()
    {
        var replies = await SayAsync(7004, "tell me a joke");

        Assert.StartsWith("Sorry, I didn't get that.", replies.Single());
    }

    [Fact]
    public async Task Should_Unlock_The_Front_Door_Only_After_A_Permitted_User_Confirms()
    {
        // Arrange: chat 7005's user may unlock the door; 7006's may not.
        var device = await demo.Admin.GetJsonAsync("/api/devices/front-door-lock");
        device["permittedUsers"] = new JsonArray("owner", "7005");
        (await demo.Admin.PutAsJsonAsync("/api/devices/front-door-lock", device, Ct)).EnsureSuccessStatusCode();

        // Act
        var question = await SayAsync(7005, "unlock the front door");
        var unlocked = await SayAsync(7005, "yes");
        var stranger = await SayAsync(7006, "unlock the front door");
        var audit = await demo.Admin.GetStringAsync("/api/devices/audit?take=50", Ct);

        // Assert
        Assert.Equal("Unlock the front door lock? yes / no", question.Single());
        Assert.Contains("unlocked", unlocked.Single(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("yes / no", stranger.Single());
        Assert.Contains("7005", audit);
        Assert.Contains("7006", audit);
    }

    [Fact]
    public async Task Should_Answer_In_The_Web_Chat_When_A_Visitor_Asks_The_Assistant()
    {
        // Arrange: the built-in web chat channel "web" over a real WebSocket.
        using var socket = await demo.Factory.Server.CreateWebSocketClient().ConnectAsync(new Uri(demo.Factory.Server.BaseAddress, "/ws/chat?channel=web"), Ct);
        async Task<JsonObject> ReceiveAsync(string type)
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var result = await socket.ReceiveAsync(new ArraySegment<byte>(buffer), Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
                var frame = JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count))!.AsObject();
                if (frame["type"]!.GetValue<string>() == type) return frame;
            }
        }
        await ReceiveAsync("welcome");

        // Act
        await socket.SendAsync(Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "message", ["id"] = "q1", ["text"] = "how many orders came in today?" }.ToJsonString()),
            System.Net.WebSockets.WebSocketMessageType.Text, true, Ct);
        var reply = await ReceiveAsync("message");

        // Assert
        Assert.Equal("5 orders came in today, 575.6 in total.", reply["text"]!.GetValue<string>());
    }

    // ---- "which one?": "the light" is the kitchen or the bedroom light ----

    private const string WhichLight = "Which one do you mean: the bedroom light or the kitchen light?";

    private async Task<bool?> IsOnAsync(string deviceId) =>
        (await demo.Admin.GetJsonAsync($"/api/devices/{deviceId}/state"))["state"]?["on"]?.GetValue<bool>();

    private static List<string> QuickReplies(JsonObject frame) =>
        frame["quickReplies"]?.AsArray().Select(q => q!["label"]!.GetValue<string>()).ToList() ?? [];

    [Theory]
    [InlineData("kitchen")]
    [InlineData("the kitchen one")]
    [InlineData("in the kitchen")]
    [InlineData("Kitchen light")]
    public async Task Should_Ask_Which_Device_And_Switch_The_Chosen_One_When_The_Device_Is_Ambiguous(string answer)
    {
        // Arrange: no test switches the bedroom light on.
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var question = await chat.AskForFrameAsync("turn on the light");
        var reply = await chat.AskAsync(answer);

        // Assert
        Assert.Equal(WhichLight, question["text"]!.GetValue<string>());
        Assert.Equal(["Bedroom light", "Kitchen light"], QuickReplies(question));
        Assert.Equal("The kitchen light is on.", reply);
        Assert.True(await IsOnAsync("kitchen-light"));
        Assert.False(await IsOnAsync("bedroom-light"));
    }

    [Theory]
    [InlineData("is the light on?", "bedroom", "The bedroom light is off.")]
    [InlineData("turn off the lamp", "the bedroom one", "The bedroom light is off.")]
    public async Task Should_Ask_Which_Device_And_Answer_For_The_Chosen_One_When_The_Device_Is_Ambiguous(string request, string answer, string expected)
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var question = await chat.AskForFrameAsync(request);
        var reply = await chat.AskAsync(answer);

        // Assert
        Assert.Equal(WhichLight, question["text"]!.GetValue<string>());
        Assert.Equal(["Bedroom light", "Kitchen light"], QuickReplies(question));
        Assert.Equal(expected, reply);
        Assert.False(await IsOnAsync("bedroom-light"));
    }

    [Fact]
    public async Task Should_Ask_Once_More_And_Then_List_The_Devices_When_The_Answers_Name_No_Device()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var question = await chat.AskAsync("turn on the light");
        var again = await chat.AskForFrameAsync("hmm");
        var givenUp = await chat.AskAsync("no idea");
        var audit = JsonNode.Parse(await demo.Admin.GetStringAsync("/api/devices/audit?take=100", Ct))!.AsArray();

        // Assert: two questions, then Control Device's list of what it can control; no light was switched.
        Assert.Equal(WhichLight, question);
        Assert.Equal(WhichLight, again["text"]!.GetValue<string>());
        Assert.Equal(["Bedroom light", "Kitchen light"], QuickReplies(again));
        Assert.Equal("I don't know which device you mean. I can control: Bedroom light (bedroom), Front door lock (hall), Kitchen light (kitchen), " +
                     "Living room dimmer (living room), Temperature sensor (bedroom), Thermostat (living room).", givenUp);
        Assert.DoesNotContain(audit, e => e!["deviceId"]?.GetValue<string>() == "bedroom-light" && e["command"]?.GetValue<string>() == "on");
        Assert.False(await IsOnAsync("bedroom-light"));
    }

    [Fact]
    public async Task Should_Answer_A_New_Request_When_It_Comes_Instead_Of_The_Answer()
    {
        // Arrange: an answer that names no device or room is read as a request of its own.
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var question = await chat.AskAsync("turn on the light");
        var orders = await chat.AskAsync("how many orders came in today?");
        var again = await chat.AskAsync("turn on the light");
        var reply = await chat.AskAsync("kitchen");

        // Assert
        Assert.Equal(WhichLight, question);
        Assert.Equal("5 orders came in today, 575.6 in total.", orders);
        Assert.Equal(WhichLight, again);
        Assert.Equal("The kitchen light is on.", reply);
    }

    [Fact]
    public async Task Should_Ask_The_Same_Request_Again_When_A_New_Request_Without_A_Device_Is_Ambiguous_Too()
    {
        // Arrange: "switch it off" names no device, so the device of the first request stays, and the switch follows the new request.
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var question = await chat.AskAsync("is the light on?");
        var again = await chat.AskAsync("please switch it off");
        var reply = await chat.AskAsync("bedroom");
        var audit = JsonNode.Parse(await demo.Admin.GetStringAsync("/api/devices/audit?take=100", Ct))!.AsArray();

        // Assert: a command was sent (the first request only read the state).
        Assert.Equal(WhichLight, question);
        Assert.Equal(WhichLight, again);
        Assert.Equal("The bedroom light is off.", reply);
        Assert.Contains(audit, e => e!["deviceId"]?.GetValue<string>() == "bedroom-light" && e["command"]?.GetValue<string>() == "off");
        Assert.False(await IsOnAsync("bedroom-light"));
    }

    [Fact]
    public async Task Should_Return_Only_What_The_Query_Selects_When_The_Message_Carries_Sql()
    {
        // The message text never reaches the SQL: the hostile part changes nothing and drops nothing.
        var replies = await SayAsync(7007, "how many orders came in today?'; DROP TABLE orders; --");
        var again = await SayAsync(7008, "how many orders came in today?");

        Assert.Equal("5 orders came in today, 575.6 in total.", replies.Single());
        Assert.Equal("5 orders came in today, 575.6 in total.", again.Single());
    }

    [Fact]
    public async Task Should_Post_The_Daily_Report_To_Slack_When_It_Runs()
    {
        using var run = await demo.Admin.PostAsJsonAsync("/elsa/api/workflow-definitions/daily-report/execute", new JsonObject { ["versionOptions"] = "Published" }, Ct);
        run.EnsureSuccessStatusCode();
        for (var i = 0; i < 200 && demo.Slack.PostedMessages.Count == 0; i++) await Task.Delay(50, Ct);

        var post = Assert.Single(demo.Slack.PostedMessages);
        Assert.Equal("#reports", post.Channel);
        Assert.Contains("paid", post.Text);
    }
}
