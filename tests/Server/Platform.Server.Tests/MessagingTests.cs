using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>Messages in through a channel's webhook, through a workflow, and out through the outbox to a fake Telegram.</summary>
public abstract class MessagingTests(ServerFixture server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string SecretToken = "tg-secret-token-for-tests";

    private static JsonObject Js(string script) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script },
    };

    private async Task<string> CreateTelegramChannelAsync(FakeTelegramServer telegram, string? fallback = null)
    {
        var name = "tg-" + Guid.NewGuid().ToString("N")[..10];
        var settings = new JsonObject
        {
            ["botToken"] = telegram.BotToken, ["webhookSecretToken"] = SecretToken, ["apiBaseUrl"] = telegram.BaseUrl.ToString(),
        };
        if (fallback is not null) settings["fallbackText"] = fallback;
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = "Telegram", ["settings"] = settings }, HttpStatusCode.Created);
        return name;
    }

    private async Task PublishAsync(JsonObject model) => await server.Admin.SaveAsync(model, publish: true);

    private static JsonObject EchoWorkflow(string channel) => Sequence(UniqueName("echo"), null,
        Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
        Activity("reply", "Platform.SendReply", ("text", Js("'You said: ' + getOutput('received', 'Text')"))));

    private async Task<HttpResponseMessage> DeliverAsync(string channel, JsonObject update, string? secret = SecretToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/telegram/webhook")
        {
            Content = new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (secret is not null) request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", secret);
        return await server.Factory.CreateClient().SendAsync(request, Ct);
    }

    private static async Task<IReadOnlyList<TelegramSentMessage>> WaitForSentAsync(FakeTelegramServer telegram, int count, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (telegram.SentMessages.Count < count && DateTime.UtcNow < until) await Task.Delay(50, Ct);
        return telegram.SentMessages;
    }

    private async Task<JsonArray> OutboxAsync(string channel, string? status = null)
    {
        var page = await server.Admin.GetJsonAsync($"/api/messages/outbox?channel={channel}" + (status is null ? "" : $"&status={status}"));
        return page["items"]!.AsArray();
    }

    [Fact]
    public async Task Should_Reply_On_Telegram_When_A_Message_Starts_A_Workflow()
    {
        // Arrange
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram);
        await PublishAsync(EchoWorkflow(channel));

        // Act
        var response = await DeliverAsync(channel, TelegramPayloads.TextMessage(1, 4242, 77, "hello"));
        var sent = await WaitForSentAsync(telegram, 1);

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = Assert.Single(sent);
        Assert.Equal("4242", reply.ChatId);
        Assert.Equal("You said: hello", reply.PlainText);
        Assert.Equal(77, reply.ReplyToMessageId);
        var outbox = Assert.Single(await OutboxAsync(channel));
        Assert.Equal("Sent", outbox!.Str("status"));
    }

    [Fact]
    public async Task Should_Reply_When_A_Telegram_Channel_Polls_For_Updates_Instead_Of_A_Webhook()
    {
        // Arrange: no public URL, so the channel polls getUpdates.
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = "tgpoll-" + Guid.NewGuid().ToString("N")[..8];
        await PublishAsync(EchoWorkflow(channel));
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = channel, ["kind"] = "Telegram",
            ["settings"] = new JsonObject { ["botToken"] = telegram.BotToken, ["apiBaseUrl"] = telegram.BaseUrl.ToString(), ["mode"] = "polling" },
        }, HttpStatusCode.Created);

        // Act
        telegram.EnqueueUpdate(TelegramPayloads.TextMessage(11, 4300, 90, "polled"));
        var sent = await WaitForSentAsync(telegram, 1);
        await server.Admin.DeleteAsync($"/api/channels/{channel}", Ct); // stops the poller

        // Assert
        Assert.Equal("You said: polled", Assert.Single(sent).PlainText);
    }

    [Fact]
    public async Task Should_Answer_The_Challenge_And_Reply_In_The_Thread_When_Slack_Sends_Events()
    {
        // Arrange
        await using var slack = await FakeSlackServer.StartAsync();
        var channel = "slack-" + Guid.NewGuid().ToString("N")[..8];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = channel, ["kind"] = "Slack",
            ["settings"] = new JsonObject { ["botToken"] = slack.BotToken, ["signingSecret"] = slack.SigningSecret, ["apiBaseUrl"] = slack.ApiBaseUrl.ToString() },
        }, HttpStatusCode.Created);
        await PublishAsync(EchoWorkflow(channel));
        async Task<HttpResponseMessage> PostAsync(JsonObject payload, string? secret = null)
        {
            var body = payload.ToJsonString();
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/slack/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Slack-Request-Timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("X-Slack-Signature", FakeSlackServer.Sign(secret ?? slack.SigningSecret, timestamp, body));
            return await server.Factory.CreateClient().SendAsync(request, Ct);
        }

        // Act
        var challenge = await PostAsync(SlackPayloads.UrlVerification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"));
        var forged = await PostAsync(SlackPayloads.AppMention("C0LAN2Q65", "U061F7AUR", "hi", "1700000000.000100"), secret: "not-the-secret");
        var mention = await PostAsync(SlackPayloads.AppMention("C0LAN2Q65", "U061F7AUR", "status please", "1700000000.000200", eventId: "Ev" + Guid.NewGuid().ToString("N")[..8]));
        for (var i = 0; i < 200 && slack.PostedMessages.Count == 0; i++) await Task.Delay(50, Ct);

        // Assert
        Assert.Contains("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", await challenge.Content.ReadAsStringAsync(Ct));
        await forged.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, mention.StatusCode);
        var post = Assert.Single(slack.PostedMessages);
        Assert.Equal("C0LAN2Q65", post.Channel);
        Assert.Equal("1700000000.000200", post.ThreadTs);
        Assert.Contains("You said: status please", post.Text);
    }

    [Fact]
    public async Task Should_Reply_By_Sms_When_Twilio_Posts_A_Signed_Message()
    {
        // Arrange: Twilio signs the public URL it calls; the channel names it.
        await using var twilio = await FakeTwilioServer.StartAsync();
        var channel = "sms-" + Guid.NewGuid().ToString("N")[..8];
        var publicUrl = $"https://bot.example.com/channels/{channel}/twilio/messages";
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = channel, ["kind"] = "Sms",
            ["settings"] = new JsonObject
            {
                ["accountSid"] = twilio.AccountSid, ["authToken"] = twilio.AuthToken, ["fromNumber"] = "+15005550006",
                ["apiBaseUrl"] = twilio.BaseUrl.ToString(), ["publicUrl"] = publicUrl,
            },
        }, HttpStatusCode.Created);
        await PublishAsync(EchoWorkflow(channel));
        var fields = new List<KeyValuePair<string, string>>
        {
            new("MessageSid", "SM" + Guid.NewGuid().ToString("N")), new("AccountSid", twilio.AccountSid), new("From", "+14155550100"),
            new("To", "+15005550006"), new("Body", "sms works?"), new("NumMedia", "0"),
        };
        async Task<HttpResponseMessage> PostAsync(string signature)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/twilio/messages") { Content = new FormUrlEncodedContent(fields) };
            request.Headers.Add("X-Twilio-Signature", signature);
            return await server.Factory.CreateClient().SendAsync(request, Ct);
        }

        // Act
        var tampered = await PostAsync(FakeTwilioServer.Sign(twilio.AuthToken, publicUrl + "?x=1", fields));
        var signed = await PostAsync(FakeTwilioServer.Sign(twilio.AuthToken, publicUrl, fields));
        for (var i = 0; i < 200 && twilio.CreatedMessages.Count == 0; i++) await Task.Delay(50, Ct);

        // Assert
        await tampered.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, signed.StatusCode);
        Assert.Contains("<Response", await signed.Content.ReadAsStringAsync(Ct));
        var sms = Assert.Single(twilio.CreatedMessages);
        Assert.Equal("+14155550100", sms.To);
        Assert.Equal("You said: sms works?", sms.Body);
    }

    [Fact]
    public async Task Should_Process_Once_When_Telegram_Redelivers_The_Same_Update()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram);
        await PublishAsync(EchoWorkflow(channel));
        var update = TelegramPayloads.TextMessage(2, 4243, 78, "once");

        var first = await DeliverAsync(channel, update);
        var second = await DeliverAsync(channel, update);
        await WaitForSentAsync(telegram, 1);
        await Task.Delay(1500, Ct); // a second reply would come within the poll interval

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Single(telegram.SentMessages);
        var inbox = await server.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}");
        Assert.Equal(1, inbox["totalCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task Should_Carry_The_Conversation_Across_Turns_When_A_Workflow_Waits_For_The_Next_Message()
    {
        // Arrange: "turn on the light" → "Which room?" → "kitchen" → "Turning on the kitchen light."
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram);
        await PublishAsync(Sequence(UniqueName("slots"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("ask", "Platform.SendReply", ("text", Literal("String", "Which room?"))),
            Activity("wait", "Platform.WaitForMessage"),
            Activity("answer", "Platform.SendReply", ("text", Js("'Turning on the ' + getOutput('wait', 'Text') + ' light.'")))));

        // Act
        await DeliverAsync(channel, TelegramPayloads.TextMessage(3, 5001, 10, "turn on the light"));
        await WaitForSentAsync(telegram, 1);
        await DeliverAsync(channel, TelegramPayloads.TextMessage(4, 5001, 11, "kitchen"));
        var sent = await WaitForSentAsync(telegram, 2);

        // Assert
        Assert.Equal(["Which room?", "Turning on the kitchen light."], sent.Select(s => s.PlainText));
        Assert.All(sent, s => Assert.Equal("5001", s.ChatId));
    }

    [Fact]
    public async Task Should_Take_The_Timeout_Port_When_No_Answer_Comes_In_Time()
    {
        // Arrange: "Which room?" waits 1 s; no answer → "Too slow"; a later message starts the workflow afresh.
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram);
        var model = Sequence(UniqueName("timeout"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("ask", "Platform.SendReply", ("text", Literal("String", "Which room?"))),
            Activity("wait", "Platform.WaitForMessage", ("timeout", Literal("TimeSpan", "00:00:01"))),
            Activity("answer", "Platform.SendReply", ("text", Js("'Got ' + getOutput('wait', 'Text')"))));
        model["root"]!["activities"]!.AsArray().Add(Activity("late", "Platform.SendReply", ("text", Literal("String", "Too slow, ask me again."))));
        model["root"]!["connections"]!.AsArray().Add(Connect("wait", "late", "Timeout"));
        await PublishAsync(model);

        // Act
        await DeliverAsync(channel, TelegramPayloads.TextMessage(21, 5101, 10, "turn on the light"));
        var afterTimeout = await WaitForSentAsync(telegram, 2);
        await DeliverAsync(channel, TelegramPayloads.TextMessage(22, 5101, 11, "kitchen"));
        var sent = await WaitForSentAsync(telegram, 3);

        // Assert: the late "kitchen" did not resume the timed-out instance; it started a new conversation turn.
        Assert.Equal(["Which room?", "Too slow, ask me again."], afterTimeout.Take(2).Select(s => s.PlainText));
        Assert.Equal("Which room?", sent[2].PlainText);
    }

    [Fact]
    public async Task Should_Start_Only_Workflows_Whose_Text_Pattern_Matches_And_Fall_Back_Otherwise()
    {
        // Arrange
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram, fallback: "I only know about orders.");
        await PublishAsync(Sequence(UniqueName("orders-only"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel)), ("textPattern", Literal("String", @"^\s*orders?\b"))),
            Activity("reply", "Platform.SendReply", ("text", Literal("String", "Here are your orders.")))));

        // Act
        await DeliverAsync(channel, TelegramPayloads.TextMessage(31, 5201, 10, "Orders please"));
        await WaitForSentAsync(telegram, 1);
        await DeliverAsync(channel, TelegramPayloads.TextMessage(32, 5201, 11, "what's the weather?"));
        var sent = await WaitForSentAsync(telegram, 2);

        // Assert
        Assert.Equal(["Here are your orders.", "I only know about orders."], sent.Select(s => s.PlainText));
    }

    [Fact]
    public async Task Should_Refuse_To_Save_When_The_Text_Pattern_Is_Not_A_Regular_Expression()
    {
        var model = Sequence(UniqueName("bad-pattern"), null,
            Activity("received", "Platform.MessageReceived", ("textPattern", Literal("String", "order(s"))),
            Activity("reply", "Platform.SendReply", ("text", Literal("String", "x"))));

        using var response = await server.Admin.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true }, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not a valid regular expression", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Report_Sent_And_Failed_Per_Target_When_Send_Message_Fans_Out_And_Waits_For_Delivery()
    {
        // Arrange: one message to two Telegram chats and to a channel that does not exist, waiting for the deliveries.
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram);
        var missing = "missing-" + Guid.NewGuid().ToString("N")[..8];
        var model = Sequence(UniqueName("fan-out"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
            Activity("fan", "Platform.SendMessage",
                ("channel", Literal("String", channel)), ("to", Literal("String", "7001")),
                ("targets", Literal("String[]", new JsonArray($"{channel}:7002", $"{missing}:7003", "no-colon-here").ToJsonString())),
                ("text", Literal("String", "Stock is low.")), ("waitForDelivery", Literal("Boolean", true))));
        model["root"]!["activities"]!.AsArray().Add(Activity("report", "Platform.SendReply",
            ("text", Js("getOutput('fan', 'Results').map(r => r.to + '=' + r.status).join(', ')"))));
        model["root"]!["connections"]!.AsArray().Add(Connect("fan", "report", "Failed"));
        await PublishAsync(model);

        // Act
        await DeliverAsync(channel, TelegramPayloads.TextMessage(41, 5301, 10, "tell everyone"));
        var sent = await WaitForSentAsync(telegram, 3, TimeSpan.FromSeconds(60));

        // Assert: both chats got it; the report names each target's result, after the deliveries were final.
        Assert.Equal(["7001", "7002"], sent.Where(s => s.PlainText == "Stock is low.").Select(s => s.ChatId).Order());
        var report = sent.Single(s => s.ChatId == "5301").PlainText;
        Assert.Equal("7001=sent, 7002=sent, 7003=failed, no-colon-here=failed", report);
        var dead = await OutboxAsync(missing, "DeadLettered");
        Assert.Contains("is not configured", Assert.Single(dead)!["lastError"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Answer_With_The_Fallback_When_No_Workflow_Listens_On_The_Channel()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram, fallback: "Nobody is here yet.");

        await DeliverAsync(channel, TelegramPayloads.TextMessage(5, 6001, 12, "anyone?"));
        var sent = await WaitForSentAsync(telegram, 1);

        Assert.Equal("Nobody is here yet.", Assert.Single(sent).PlainText);
    }

    [Fact]
    public async Task Should_Retry_And_Deliver_When_Telegram_Answers_429_With_Retry_After()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram);
        await PublishAsync(EchoWorkflow(channel));
        telegram.RespondTooManyRequests(1, TimeSpan.FromSeconds(1));

        await DeliverAsync(channel, TelegramPayloads.TextMessage(6, 6002, 13, "busy?"));
        var sent = await WaitForSentAsync(telegram, 1);

        Assert.Equal("You said: busy?", Assert.Single(sent).PlainText);
        // The fake has the message before the dispatcher has committed "Sent": wait for the commit.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await OutboxAsync(channel, "Sent")).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
        var outbox = Assert.Single(await OutboxAsync(channel));
        Assert.Equal("Sent", outbox!.Str("status"));
        Assert.Equal(2, outbox!["attempts"]!.GetValue<int>());
    }

    [Fact]
    public async Task Should_Dead_Letter_With_The_Reason_When_Telegram_Refuses_The_Chat_And_Retry_On_Request()
    {
        // Arrange
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.KnownChatIds.Add("1"); // 6003 is unknown: "chat not found"
        var channel = await CreateTelegramChannelAsync(telegram);
        await PublishAsync(EchoWorkflow(channel));

        // Act
        await DeliverAsync(channel, TelegramPayloads.TextMessage(7, 6003, 14, "lost?"));
        JsonArray dead = [];
        for (var i = 0; i < 200 && dead.Count == 0; i++)
        {
            await Task.Delay(100, Ct);
            dead = await OutboxAsync(channel, "DeadLettered");
        }
        telegram.KnownChatIds.Add("6003");
        var retry = await server.Admin.PostAsync($"/api/messages/outbox/{dead.Single()!.Str("id")}/retry", null, Ct);
        var sent = await WaitForSentAsync(telegram, 1);

        // Assert
        Assert.Contains("chat not found", dead.Single()!.Str("lastError"));
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal("You said: lost?", Assert.Single(sent).PlainText);
    }

    [Fact]
    public async Task Should_Refuse_With_401_And_Store_Nothing_When_The_Secret_Token_Is_Wrong()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram);

        var wrong = await DeliverAsync(channel, TelegramPayloads.TextMessage(8, 6004, 15, "let me in"), secret: "guess");
        var missing = await DeliverAsync(channel, TelegramPayloads.TextMessage(9, 6004, 16, "let me in"), secret: null);
        var unknown = await DeliverAsync("no-such-channel", TelegramPayloads.TextMessage(10, 6004, 17, "hi"));

        await wrong.AssertProblemAsync(HttpStatusCode.Unauthorized);
        await missing.AssertProblemAsync(HttpStatusCode.Unauthorized);
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
        var inbox = await server.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}");
        Assert.Equal(0, inbox["totalCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task Should_Answer_400_When_The_Update_Is_Not_Json()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/telegram/webhook")
        {
            Content = new StringContent("{not json", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", SecretToken);

        var response = await server.Factory.CreateClient().SendAsync(request, Ct);

        await response.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Should_Never_Return_Secrets_When_Reading_A_Channel()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var channel = await CreateTelegramChannelAsync(telegram);

        var read = await server.Admin.GetJsonAsync($"/api/channels/{channel}");
        var updated = await (await server.Admin.PutAsJsonAsync($"/api/channels/{channel}",
            new JsonObject { ["settings"] = new JsonObject { ["apiBaseUrl"] = telegram.BaseUrl.ToString(), ["fallbackText"] = "hi" } }, Ct)).ReadJsonAsync(HttpStatusCode.OK);
        var raw = await server.Admin.GetStringAsync("/api/channels", Ct);

        Assert.DoesNotContain(telegram.BotToken, raw);
        Assert.DoesNotContain(SecretToken, raw);
        Assert.Equal(["botToken", "webhookSecretToken"], read["secrets"]!.AsArray().Select(s => s!.GetValue<string>()).Order());
        Assert.Equal(["botToken", "webhookSecretToken"], updated["secrets"]!.AsArray().Select(s => s!.GetValue<string>()).Order());
        Assert.Null(updated["error"]);
    }

    [Fact]
    public async Task Should_Refuse_A_Channel_With_400_When_A_Required_Setting_Is_Missing()
    {
        var response = await server.Admin.PostAsJsonAsync("/api/channels",
            new JsonObject { ["name"] = "tg-incomplete", ["kind"] = "Telegram", ["settings"] = new JsonObject() }, Ct);
        var operatorTry = await server.Operator.PostAsJsonAsync("/api/channels",
            new JsonObject { ["name"] = "tg-op", ["kind"] = "Telegram", ["settings"] = new JsonObject { ["botToken"] = "x" } }, Ct);

        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("botToken", problem.Str("detail"));
        Assert.Equal(HttpStatusCode.Forbidden, operatorTry.StatusCode);
    }
}

public sealed class SqliteMessagingTests(SqliteServerFixture server) : MessagingTests(server), IClassFixture<SqliteServerFixture>;

public sealed class PostgresMessagingTests(PostgresServerFixture server) : MessagingTests(server), IClassFixture<PostgresServerFixture>;
