using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;

namespace Platform.Server.Tests;

/// <summary>The seed assistant in Chinese over the web chat: the bilingual intent set, Chinese entities and replies in the
/// user's language (Send Reply's and Format Result's Text Zh).</summary>
public sealed partial class SeedWorkflowTests
{
    [Fact]
    public async Task Should_Switch_The_Kitchen_Light_On_And_Answer_In_Chinese_When_Told_In_Chinese()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var reply = await chat.AskAsync("打开厨房的灯");

        // Assert
        Assert.Equal("好的，厨房的灯已打开。", reply);
        Assert.True(await IsOnAsync("kitchen-light"));
    }

    [Fact]
    public async Task Should_Read_The_Bedroom_Temperature_When_Asked_In_Chinese()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act: 温度 names the temperature sensor, so there is no "which one?" question.
        var reply = await chat.AskAsync("卧室温度多少");

        // Assert
        Assert.Matches(@"^温度传感器显示 [\d.]+ °C", reply);
    }

    [Fact]
    public async Task Should_Count_Todays_Orders_In_Chinese_When_Asked_In_Chinese()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var reply = await chat.AskAsync("今天有多少订单");

        // Assert: Format Result's Template Zh.
        Assert.Equal("今天来了 5 个订单，总额 575.6。", reply);
    }

    [Fact]
    public async Task Should_Switch_The_Bedroom_Light_Off_When_Told_In_Chinese()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var reply = await chat.AskAsync("关掉卧室的灯");

        // Assert
        Assert.Equal("好的，卧室的灯已关闭。", reply);
        Assert.False(await IsOnAsync("bedroom-light"));
    }

    [Fact]
    public async Task Should_Answer_Politely_In_Chinese_With_Chinese_Quick_Replies_When_Out_Of_Scope()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var frame = await chat.AskForFrameAsync("给我讲个笑话");

        // Assert
        Assert.StartsWith("抱歉，我没听懂。", frame["text"]!.GetValue<string>());
        Assert.Contains("打开厨房的灯", QuickReplies(frame));
    }

    [Fact]
    public async Task Should_Ask_Which_Light_In_Chinese_And_Switch_The_Chosen_One_When_The_Light_Is_Ambiguous()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act: the quick reply's label is what the button sends.
        var question = await chat.AskForFrameAsync("开灯");
        var reply = await chat.AskAsync(QuickReplies(question).Single(q => q.Contains("厨房", StringComparison.Ordinal)));

        // Assert
        Assert.Equal("你指的是哪一个：卧室的灯还是厨房的灯？", question["text"]!.GetValue<string>());
        Assert.Equal(["卧室的灯", "厨房的灯"], QuickReplies(question));
        Assert.Equal("好的，厨房的灯已打开。", reply);
        Assert.False(await IsOnAsync("bedroom-light"));
    }

    [Fact]
    public async Task Should_Answer_In_Chinese_When_The_Channel_Language_Is_Zh_Even_For_An_English_Message()
    {
        // Arrange: a second Telegram channel whose settings fix the reply language.
        await demo.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = "telegram-zh", ["kind"] = "Telegram",
            ["settings"] = new JsonObject
            {
                ["botToken"] = demo.Telegram.BotToken, ["webhookSecretToken"] = DemoServerFixture.SecretToken,
                ["apiBaseUrl"] = demo.Telegram.BaseUrl.ToString(), ["language"] = "zh",
            },
        }, HttpStatusCode.Created);
        const long chatId = 7301;
        var update = TelegramPayloads.TextMessage(Interlocked.Increment(ref _update), chatId, Interlocked.Increment(ref _update), "how many orders came in today?");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/telegram-zh/telegram/webhook")
        {
            Content = new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", DemoServerFixture.SecretToken);

        // Act
        var response = await demo.Factory.CreateClient().SendAsync(request, Ct);
        string? reply = null;
        for (var i = 0; i < 300 && reply is null; i++)
        {
            reply = demo.Telegram.SentMessages.FirstOrDefault(m => m.ChatId == "7301")?.PlainText;
            if (reply is null) await Task.Delay(50, Ct);
        }

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("今天来了 5 个订单，总额 575.6。", reply);
    }

    [Theory]
    [InlineData("fr")]
    [InlineData("klingon")]
    [InlineData("42")]
    public async Task Should_Refuse_The_Channel_With_The_Allowed_Languages_When_Its_Language_Setting_Is_Unknown(string language)
    {
        // Arrange
        var settings = new JsonObject
        {
            ["botToken"] = demo.Telegram.BotToken, ["webhookSecretToken"] = DemoServerFixture.SecretToken,
            ["apiBaseUrl"] = demo.Telegram.BaseUrl.ToString(),
            ["language"] = language == "42" ? JsonValue.Create(42) : JsonValue.Create(language),
        };

        // Act
        var create = await demo.Admin.PostAsJsonAsync("/api/channels", new JsonObject { ["name"] = "telegram-" + Guid.NewGuid().ToString("N")[..6], ["kind"] = "Telegram", ["settings"] = settings }, Ct);
        var update = await demo.Admin.PutAsJsonAsync("/api/channels/telegram", new JsonObject { ["kind"] = "Telegram", ["settings"] = settings.DeepClone() }, Ct);

        // Assert
        foreach (var response in new[] { create, update })
        {
            var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
            Assert.Contains("language", problem["title"]!.GetValue<string>());
            Assert.Contains("zh, en", problem["detail"]!.GetValue<string>());
        }
        Assert.Null((await demo.Admin.GetJsonAsync("/api/channels/telegram"))["settings"]?["language"]);
    }

    [Fact]
    public async Task Should_Answer_In_English_Again_When_The_Next_Message_Is_English()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act: the language is detected per message.
        var chinese = await chat.AskAsync("今天的订单有多少");
        var english = await chat.AskAsync("how many orders came in today?");

        // Assert
        Assert.StartsWith("今天来了", chinese);
        Assert.Equal("5 orders came in today, 575.6 in total.", english);
    }
}

/// <summary>Robust text in the seed assistant: typos and two requests in one message.</summary>
public sealed partial class SeedWorkflowTests
{
    [Fact]
    public async Task Should_Switch_The_Light_When_The_Request_Has_Typos()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act: the spelling pass reads "trun on teh kitchen lihgt" as "turn on the kitchen light".
        var reply = await chat.AskAsync("trun on teh kitchen lihgt");

        // Assert
        Assert.Equal("The kitchen light is on.", reply);
        Assert.True(await IsOnAsync("kitchen-light"));
    }

    [Fact]
    public async Task Should_Answer_Both_Requests_In_Order_When_One_Message_Has_Two()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var first = await chat.AskAsync("turn off the bedroom light and tell me today's orders");
        var second = await chat.NextReplyAsync();

        // Assert
        Assert.Equal("The bedroom light is off.", first);
        Assert.Equal("5 orders came in today, 575.6 in total.", second);
        Assert.False(await IsOnAsync("bedroom-light"));
    }

    [Fact]
    public async Task Should_Answer_Both_Chinese_Requests_In_Order_When_One_Message_Has_Two()
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var first = await chat.AskAsync("关掉卧室的灯然后告诉我今天的订单");
        var second = await chat.NextReplyAsync();

        // Assert
        Assert.Equal("好的，卧室的灯已关闭。", first);
        Assert.Equal("今天来了 5 个订单，总额 575.6。", second);
    }

    [Theory]
    [InlineData("turn on the kitchen light and turn off the bedroom light", "The kitchen light is on.", "The bedroom light is off.")]
    [InlineData("打开厨房的灯，关掉卧室的灯", "好的，厨房的灯已打开。", "好的，卧室的灯已关闭。")]
    public async Task Should_Answer_Each_Device_With_Its_Own_Sentence_When_One_Message_Has_Two_Device_Requests(string text, string expectedFirst, string expectedSecond)
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var first = await chat.AskAsync(text);
        var second = await chat.NextReplyAsync();

        // Assert: the second reply is the second device's sentence, not the first one's again.
        Assert.Equal(expectedFirst, first);
        Assert.Equal(expectedSecond, second);
        Assert.True(await IsOnAsync("kitchen-light"));
        Assert.False(await IsOnAsync("bedroom-light"));
    }
}

/// <summary>The dimmer: a level from a number or a percentage, in English and Chinese.</summary>
public sealed partial class SeedWorkflowTests
{
    [Theory]
    [InlineData("set the living room dimmer to 50%", 50, "50 %")]
    [InlineData("把客厅的调光灯调到百分之三十", 30, "亮度 30%")]
    public async Task Should_Set_The_Dimmer_Level_When_Told_A_Percentage(string text, int level, string expected)
    {
        // Arrange
        await using var chat = await WebChatClient.ConnectAsync(demo.Factory, "web");

        // Act
        var reply = await chat.AskAsync(text);
        var state = await demo.Admin.GetJsonAsync("/api/devices/living-room-dimmer/state");

        // Assert
        Assert.Contains(expected, reply, StringComparison.Ordinal);
        Assert.Equal(level, state["state"]?["level"]?.GetValue<double>());
    }
}
