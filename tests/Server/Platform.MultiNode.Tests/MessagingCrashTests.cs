using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.MultiNode.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;

namespace Platform.MultiNode.Tests;

/// <summary>
/// A message received by a real server process that is killed (-9) before it replies is still answered, exactly once:
/// after a restart on the embedded default, and by the other node when two nodes share PostgreSQL.
/// </summary>
public sealed class MessagingCrashTests(PostgresFixture postgres) : IAsyncLifetime
{
    private const string SecretToken = "crash-test-secret-token";
    private static readonly Dictionary<string, string> SharedSecretsKey = new()
    {
        // Every node must decrypt channel secrets stored by the others.
        ["Platform__Secrets__Key"] = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()),
    };

    private readonly TempDirectory _temp = new("multinode-messaging");
    private readonly List<ServerNode> _nodes = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        _temp.Dispose();
    }

    private async Task<ServerNode> StartAsync(string name, string data, string? db = null)
    {
        var node = await ServerNode.StartAsync(name, data, db, SharedSecretsKey);
        _nodes.Add(node);
        return node;
    }

    /// <summary>A Telegram channel on the fake, and MessageReceived → Delay(3 s) → SendReply.</summary>
    private static async Task<string> SetUpAsync(ServerNode node, FakeTelegramServer telegram)
    {
        var channel = "tg-" + Guid.NewGuid().ToString("N")[..8];
        using (var created = await node.Admin.PostAsJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = channel, ["kind"] = "Telegram",
            ["settings"] = new JsonObject { ["botToken"] = telegram.BotToken, ["webhookSecretToken"] = SecretToken, ["apiBaseUrl"] = telegram.BaseUrl.ToString() },
        }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }
        await node.Admin.PublishAsync(Api.Sequence($"slow reply {channel}",
            Api.Activity("received", "Platform.MessageReceived", ("channel", Api.Literal("String", channel))),
            Api.Activity("think", "Elsa.Delay", ("timeSpan", Api.Literal("TimeSpan", "00:00:03"))),
            Api.Activity("reply", "Platform.SendReply", ("text", new JsonObject
            {
                ["typeName"] = "String",
                ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'Answer to: ' + getOutput('received', 'Text')" },
            }))));
        return channel;
    }

    private static async Task WaitForSuspendedAsync(ServerNode node, string channel)
    {
        for (var i = 0; i < 100; i++)
        {
            var inbox = await node.Admin.GetJsonAsync($"/api/messages/inbox?channel={channel}");
            if (inbox["items"]!.AsArray().FirstOrDefault()?["status"]?.GetValue<string>() == "Processed") return;
            await Task.Delay(100);
        }
        Assert.Fail($"The message was not processed.\n{node.Output}");
    }

    private static async Task<IReadOnlyList<TelegramSentMessage>> WaitForRepliesAsync(FakeTelegramServer telegram, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (telegram.SentMessages.Count == 0 && DateTime.UtcNow < until) await Task.Delay(100);
        await Task.Delay(3000); // a duplicate would follow within the outbox poll interval
        return telegram.SentMessages;
    }

    [Fact]
    public async Task Should_Reply_Exactly_Once_When_The_Embedded_Server_Is_Killed_Between_Receive_And_Reply()
    {
        // Arrange
        await using var telegram = await FakeTelegramServer.StartAsync();
        var data = _temp.CreateSubdirectory("data");
        var first = await StartAsync("first", data);
        var channel = await SetUpAsync(first, telegram);
        var delivered = await telegram.SendUpdateAsync(new Uri(first.BaseAddress, $"/channels/{channel}/telegram/webhook"),
            TelegramPayloads.TextMessage(1, 9001, 500, "are you there?"), SecretToken);
        await WaitForSuspendedAsync(first, channel);

        // Act: kill -9 while the workflow thinks; restart on the same data directory.
        await first.KillAsync();
        var second = await StartAsync("second", data);
        var replies = await WaitForRepliesAsync(telegram, TimeSpan.FromSeconds(30));

        // Assert
        Assert.Equal(200, delivered.Status);
        var reply = Assert.Single(replies);
        Assert.Equal("Answer to: are you there?", reply.PlainText);
        Assert.Equal("9001", reply.ChatId);
        Assert.False(second.HasExited, second.Output);
    }

    [Fact]
    public async Task Should_Reply_Exactly_Once_When_The_Node_That_Received_The_Message_Dies()
    {
        // Arrange: two nodes on one PostgreSQL database; node A takes the message.
        await using var telegram = await FakeTelegramServer.StartAsync();
        var db = await postgres.CreateDatabaseAsync("messaging");
        var a = await StartAsync("node-a", _temp.CreateSubdirectory("a"), db);
        var b = await StartAsync("node-b", _temp.CreateSubdirectory("b"), db);
        var channel = await SetUpAsync(a, telegram);
        await telegram.SendUpdateAsync(new Uri(a.BaseAddress, $"/channels/{channel}/telegram/webhook"),
            TelegramPayloads.TextMessage(2, 9002, 501, "failover?"), SecretToken);
        await WaitForSuspendedAsync(a, channel);

        // Act: kill -9 node A mid-workflow.
        await a.KillAsync();
        var replies = await WaitForRepliesAsync(telegram, TimeSpan.FromSeconds(30));

        // Assert: node B resumed the instance and the reply went out once.
        var reply = Assert.Single(replies);
        Assert.Equal("Answer to: failover?", reply.PlainText);
        var outbox = await b.Admin.GetJsonAsync($"/api/messages/outbox?channel={channel}");
        Assert.Equal("Sent", Assert.Single(outbox["items"]!.AsArray())!["status"]!.GetValue<string>());
    }

    /// <summary>A channel of <paramref name="kind"/> with <paramref name="settings"/>, and MessageReceived → Delay(3 s) → SendReply.</summary>
    private static async Task<string> SetUpChatAppAsync(ServerNode node, string kind, JsonObject settings)
    {
        var channel = kind.ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..8];
        using (var created = await node.Admin.PostAsJsonAsync("/api/channels", new JsonObject { ["name"] = channel, ["kind"] = kind, ["settings"] = settings }))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        }
        await node.Admin.PublishAsync(Api.Sequence($"slow reply {channel}",
            Api.Activity("received", "Platform.MessageReceived", ("channel", Api.Literal("String", channel))),
            Api.Activity("think", "Elsa.Delay", ("timeSpan", Api.Literal("TimeSpan", "00:00:03"))),
            Api.Activity("reply", "Platform.SendReply", ("text", new JsonObject
            {
                ["typeName"] = "String",
                ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'Answer to: ' + getOutput('received', 'Text')" },
            }))));
        return channel;
    }

    [Fact]
    public async Task Should_Reply_Exactly_Once_Over_WhatsApp_When_The_Server_Is_Killed_Between_Receive_And_Reply()
    {
        // Arrange
        await using var whatsapp = await FakeWhatsAppServer.StartAsync();
        var data = _temp.CreateSubdirectory("data-wa");
        var first = await StartAsync("first-wa", data);
        var channel = await SetUpChatAppAsync(first, "WhatsApp", new JsonObject
        {
            ["phoneNumberId"] = whatsapp.PhoneNumberId, ["accessToken"] = whatsapp.AccessToken, ["appSecret"] = whatsapp.AppSecret,
            ["verifyToken"] = "crash-verify", ["apiBaseUrl"] = whatsapp.BaseUrl.ToString(),
        });
        var delivered = await whatsapp.SendWebhookAsync(new Uri(first.BaseAddress, $"/channels/{channel}/whatsapp/webhook"),
            whatsapp.TextMessage("4915100000001", "wamid.crash-" + Guid.NewGuid().ToString("N"), "are you there?"));
        await WaitForSuspendedAsync(first, channel);

        // Act: kill -9 while the workflow thinks; restart on the same data directory.
        await first.KillAsync();
        var second = await StartAsync("second-wa", data);
        var until = DateTime.UtcNow.AddSeconds(30);
        while (whatsapp.SentMessages.Count == 0 && DateTime.UtcNow < until) await Task.Delay(100);
        await Task.Delay(3000); // a duplicate would follow within the outbox poll interval

        // Assert
        Assert.Equal(200, delivered.Status);
        var reply = Assert.Single(whatsapp.SentMessages);
        Assert.Equal(("4915100000001", "Answer to: are you there?"), (reply.To, reply.Text));
        Assert.False(second.HasExited, second.Output);
    }

    [Fact]
    public async Task Should_Reply_Exactly_Once_Over_Discord_When_The_Server_Is_Killed_Between_Receive_And_Reply()
    {
        // Arrange
        await using var discord = await FakeDiscordServer.StartAsync();
        var data = _temp.CreateSubdirectory("data-discord");
        var first = await StartAsync("first-discord", data);
        var channel = await SetUpChatAppAsync(first, "Discord", new JsonObject
        {
            ["applicationId"] = discord.ApplicationId, ["publicKey"] = discord.PublicKeyHex, ["botToken"] = discord.BotToken,
            ["apiBaseUrl"] = discord.ApiBaseUrl.ToString(),
        });
        var delivered = await discord.SendInteractionAsync(new Uri(first.BaseAddress, $"/channels/{channel}/discord/interactions"),
            discord.SlashCommand("1184213318474219001", "80351110224678912", "ask", "are you there?"));
        await WaitForSuspendedAsync(first, channel);

        // Act
        await first.KillAsync();
        var second = await StartAsync("second-discord", data);
        var until = DateTime.UtcNow.AddSeconds(30);
        while (discord.PostedMessages.Count == 0 && DateTime.UtcNow < until) await Task.Delay(100);
        await Task.Delay(3000);

        // Assert: the deferred response was edited once, through the interaction webhook.
        Assert.Equal((200, "{\"type\":5}"), (delivered.Status, delivered.Body));
        var reply = Assert.Single(discord.PostedMessages);
        Assert.Equal(("original", "Answer to: are you there?"), (reply.Route, reply.Content));
        Assert.False(second.HasExited, second.Output);
    }
}
