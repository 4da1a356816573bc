using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing.Fakes;

namespace Platform.Server.Tests;

/// <summary><c>GET /api/channels/{name}/health</c> and <c>POST /api/channels/{name}/test</c>.</summary>
public sealed class ChannelHealthTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string SecretToken = "tg-secret-token-for-health-tests";

    private async Task<string> CreateTelegramChannelAsync(FakeTelegramServer telegram, string? botToken = null)
    {
        var name = "tg-health-" + Guid.NewGuid().ToString("N")[..10];
        var settings = new JsonObject
        {
            ["botToken"] = botToken ?? telegram.BotToken, ["webhookSecretToken"] = SecretToken, ["apiBaseUrl"] = telegram.BaseUrl.ToString(),
        };
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = "Telegram", ["settings"] = settings }, HttpStatusCode.Created);
        return name;
    }

    /// <summary>Sends a test message and waits until the outbox has a final status for it.</summary>
    private async Task<JsonObject> SendTestAsync(string name, string to)
    {
        var queued = await server.Admin.PostJsonAsync($"/api/channels/{name}/test", new JsonObject { ["to"] = to }, HttpStatusCode.Accepted);
        var id = queued.Str("id");
        var until = DateTime.UtcNow.AddSeconds(30);
        JsonObject row;
        while ((row = await server.Operator.GetJsonAsync($"/api/messages/outbox/{id}")).Str("status") == "Pending" && DateTime.UtcNow < until)
        {
            await Task.Delay(100, Ct);
        }

        return row;
    }

    [Fact]
    public async Task Should_ReportErrorRateAndLastErrorWithItsFix_When_ATestMessageFailsThenOneSucceeds()
    {
        // Arrange: the bot knows chat 1; chat 9001 is unknown, so Telegram answers 400 "chat not found".
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.KnownChatIds.Add("1");
        var name = await CreateTelegramChannelAsync(telegram);
        var fresh = await server.Operator.GetJsonAsync($"/api/channels/{name}/health");

        // Act
        var failed = await SendTestAsync(name, "9001");
        var afterFailure = await server.Operator.GetJsonAsync($"/api/channels/{name}/health");
        var sent = await SendTestAsync(name, "1");
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{name}/telegram/webhook")
        {
            Content = new StringContent(TelegramPayloads.TextMessage(1, 1, 5, "hi").ToJsonString(), Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", SecretToken);
            using var delivered = await server.Factory.CreateClient(apiKey: null).SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        }

        var afterSuccess = await server.Operator.GetJsonAsync($"/api/channels/{name}/health");

        // Assert
        Assert.Equal((0, 0, 0.0), (fresh["attempts"]!.GetValue<int>(), fresh["failures"]!.GetValue<int>(), fresh["errorRate"]!.GetValue<double>()));
        Assert.Null(fresh["lastError"]);
        Assert.Null(fresh["lastInboundAt"]);
        Assert.Null(fresh["lastOutboundAt"]);
        Assert.Equal("DeadLettered", failed.Str("status"));
        Assert.Equal((1, 1, 1.0), (afterFailure["attempts"]!.GetValue<int>(), afterFailure["failures"]!.GetValue<int>(), afterFailure["errorRate"]!.GetValue<double>()));
        var error = afterFailure["lastError"]!.AsObject();
        Assert.Contains("chat not found", error.Str("message"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(400, error["httpStatus"]!.GetValue<int>());
        Assert.StartsWith("Chat not found: check the recipient id", error.Str("fix"), StringComparison.Ordinal);
        Assert.Equal("Sent", sent.Str("status"));
        Assert.Contains(telegram.SentMessages, m => m.ChatId == "1" && m.Text.StartsWith("Test message from the platform", StringComparison.Ordinal));
        Assert.Equal((2, 1, 0.5), (afterSuccess["attempts"]!.GetValue<int>(), afterSuccess["failures"]!.GetValue<int>(), afterSuccess["errorRate"]!.GetValue<double>()));
        Assert.NotNull(afterSuccess["lastOutboundAt"]);
        Assert.NotNull(afterSuccess["lastInboundAt"]);
        Assert.Equal(15, afterSuccess["windowMinutes"]!.GetValue<int>());
    }

    [Fact]
    public async Task Should_SayCheckTheBotToken_When_TheTokenIsWrong()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.KnownChatIds.Add("1");
        var name = await CreateTelegramChannelAsync(telegram, botToken: "123:wrong-token");

        var failed = await SendTestAsync(name, "1");
        var health = await server.Operator.GetJsonAsync($"/api/channels/{name}/health");

        Assert.Equal("DeadLettered", failed.Str("status"));
        var error = health["lastError"]!.AsObject();
        Assert.Equal(401, error["httpStatus"]!.GetValue<int>());
        Assert.Contains("Check the bot token", error.Str("fix"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Refuse400Or404WithHowToFix_When_TheTestHasNoTargetOrTheChannelIsUnknown()
    {
        await using var telegram = await FakeTelegramServer.StartAsync();
        var name = await CreateTelegramChannelAsync(telegram);

        using var noTarget = await server.Admin.PostRawAsync($"/api/channels/{name}/test", "{\"to\":\"  \"}");
        using var tooLong = await server.Admin.PostRawAsync($"/api/channels/{name}/test",
            new JsonObject { ["to"] = "1", ["text"] = new string('x', 1001) }.ToJsonString());
        using var unknown = await server.Admin.PostRawAsync("/api/channels/no-such-channel-" + Guid.NewGuid().ToString("N")[..8] + "/test", "{\"to\":\"1\"}");
        using var viewer = await server.Operator.PostRawAsync($"/api/channels/{name}/test", "{\"to\":\"1\"}"); // the read-only key
        using var unknownHealth = await server.Operator.GetAsync("/api/channels/no-such-channel-" + Guid.NewGuid().ToString("N")[..8] + "/health", Ct);

        Assert.Contains("'to'", (await noTarget.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"), StringComparison.Ordinal);
        await tooLong.AssertProblemAsync(HttpStatusCode.BadRequest);
        await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
        await unknownHealth.AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
        Assert.Empty(telegram.SentMessages);
    }
}
