using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary><c>status</c> of <c>GET /api/channels[/{name}]</c>: connected, disabled, or error with the reason.</summary>
public sealed class ChannelStatusTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string SecretToken = "tg-secret-token-for-status-tests";

    private async Task<JsonObject> StatusAsync(string name) => (await server.Operator.GetJsonAsync($"/api/channels/{name}"))["status"]!.AsObject();

    [Fact]
    public async Task Should_ReportConnectedDisabledOrErrorWithTheReason_When_AChannelWorksIsOffOrCannotDeliver()
    {
        // Arrange: a Telegram bot that knows no chat, so the first reply dead-letters with Telegram's reason.
        await using var telegram = await FakeTelegramServer.StartAsync();
        telegram.KnownChatIds.Add("1"); // 9001 is unknown: the reply fails with "chat not found"
        var name = "tg-" + Guid.NewGuid().ToString("N")[..10];
        var settings = new JsonObject { ["botToken"] = telegram.BotToken, ["webhookSecretToken"] = SecretToken, ["apiBaseUrl"] = telegram.BaseUrl.ToString() };
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = "Telegram", ["settings"] = settings }, HttpStatusCode.Created);
        var fresh = await StatusAsync(name);
        await server.Admin.SaveAsync(Sequence(UniqueName("tg echo"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", name))),
            Activity("reply", "Platform.SendReply", ("text", Literal("String", "hello back")))), publish: true);

        // Act
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{name}/telegram/webhook")
        {
            Content = new StringContent(TelegramPayloads.TextMessage(1, 9001, 5, "hi").ToJsonString(), Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", SecretToken);
            using var delivered = await server.Factory.CreateClient(apiKey: null).SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, delivered.StatusCode);
        }
        var until = DateTime.UtcNow.AddSeconds(30);
        JsonObject failing;
        while ((failing = await StatusAsync(name)).Str("state") != "error" && DateTime.UtcNow < until) await Task.Delay(100, Ct);
        var listed = (await server.Operator.GetJsonAsync("/api/channels"))["value"]!.AsArray();
        settings.Remove("botToken");
        using (var off = await server.Admin.PutAsync($"/api/channels/{name}", new StringContent(
            new JsonObject { ["enabled"] = false, ["settings"] = settings.DeepClone() }.ToJsonString(), Encoding.UTF8, "application/json"), Ct))
            await off.ReadJsonAsync(HttpStatusCode.OK);
        var disabledChannel = await server.Operator.GetJsonAsync($"/api/channels/{name}");
        var disabled = disabledChannel["status"]!.AsObject();
        Assert.False(disabledChannel["enabled"]!.GetValue<bool>(), disabledChannel.ToJsonString());

        // Assert
        Assert.Equal("connected", fresh.Str("state"));
        Assert.Null(fresh["reason"]);
        Assert.Equal("error", failing.Str("state"));
        Assert.Contains("chat not found", failing.Str("reason"), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("error", listed.Single(c => c!.Str("name") == name)!["status"].Str("state"));
        Assert.Equal("disabled", disabled.Str("state"));
        Assert.Contains("disabled", disabled.Str("reason"));
    }

    [Fact]
    public async Task Should_RefuseWith400NamingTheSetting_When_AnSmsChannelsPublicBaseUrlIsNotHttp()
    {
        var name = "sms-" + Guid.NewGuid().ToString("N")[..10];
        using var bad = await server.Admin.PostAsync("/api/channels", new StringContent(new JsonObject
        {
            ["name"] = name, ["kind"] = "Sms",
            ["settings"] = new JsonObject { ["accountSid"] = "AC1", ["authToken"] = "token-0123456789", ["fromNumber"] = "+15005550006", ["publicBaseUrl"] = "ftp://files.example.com" },
        }.ToJsonString(), Encoding.UTF8, "application/json"), Ct);

        var problem = await bad.AssertProblemAsync(HttpStatusCode.BadRequest);

        Assert.Contains("publicBaseUrl", problem.Str("detail"));
    }
}

