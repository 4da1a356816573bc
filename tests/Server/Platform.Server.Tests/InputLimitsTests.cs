using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Channels.Webhooks;
using Platform.Server.Tests.Infrastructure;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>Input caps and text normalisation on the inbound paths (issue 16: H1, L3).</summary>
public sealed class InputLimitsTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Secret = "webhook-secret-for-limit-tests-0123456789";

    private async Task<string> CreateEchoChannelAsync()
    {
        var name = "limits-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = name, ["kind"] = "Webhook", ["settings"] = new JsonObject { ["secret"] = Secret },
        }, HttpStatusCode.Created);
        await server.Admin.SaveAsync(Sequence(UniqueName("limits echo"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", name))),
            Activity("reply", "Platform.SendReply", ("text", new JsonObject
            {
                ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'You said: ' + getInput('text')" },
            }))), publish: true);
        return name;
    }

    private async Task<JsonObject> SendAndWaitAsync(string channel, string id, string text)
    {
        var body = new JsonObject { ["id"] = id, ["sender"] = new JsonObject { ["id"] = "u-1" }, ["text"] = text }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook?wait=true")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, Secret));
        using var client = server.Factory.CreateClient(apiKey: null);
        using var response = await client.SendAsync(request, Ct);
        return await response.ReadJsonAsync(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Should_Reply_That_The_Message_Is_Too_Long_And_Run_No_Workflow_When_A_Channel_Message_Is_Over_The_Limit()
    {
        var channel = await CreateEchoChannelAsync();

        var answer = await SendAndWaitAsync(channel, "long-1", new string('a', 5000) + " 1 2 3");

        var reply = answer["reply"]!.Str("text");
        Assert.Contains("5006 characters", reply);
        Assert.Contains("at most 4096", reply);
        Assert.DoesNotContain("You said", reply);
    }

    [Fact]
    public async Task Should_Answer_Normally_When_A_Message_Contains_Nul_Control_And_NonCharacters()
    {
        var channel = await CreateEchoChannelAsync();

        var answer = await SendAndWaitAsync(channel, "odd-1", "hi\u0000 the\uFFFEre\u0007 ｆｕｌｌ\r\nwidth");

        Assert.Equal("You said: hi there full\nwidth", answer["reply"]!.Str("text"));
    }

    [Fact]
    public async Task Should_Answer_413_When_An_Intent_Test_Text_Or_Body_Is_Too_Large()
    {
        var id = "limits" + Guid.NewGuid().ToString("N")[..8];
        await server.Admin.PostJsonAsync("/api/intents", new JsonObject
        {
            ["id"] = id,
            ["intents"] = new JsonArray(
                new JsonObject { ["name"] = "on", ["examples"] = new JsonArray("turn on the light", "switch the lamp on", "lights on please") },
                new JsonObject { ["name"] = "off", ["examples"] = new JsonArray("turn off the light", "switch the lamp off", "lights off please") }),
        }, HttpStatusCode.Created);

        // Over the message limit: refused before recognition, with the limit and its setting named.
        using var tooLong = await server.Operator.PostRawAsync($"/api/intents/{id}/test", new JsonObject { ["text"] = new string('a', 5000) }.ToJsonString());
        var problem = await tooLong.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("MaxMessageLength", problem.Str("detail"));

        // A 1 MB body is not read at all.
        using var huge = await server.Operator.PostRawAsync($"/api/intents/{id}/test", new JsonObject { ["text"] = new string('a', 1_000_000) }.ToJsonString());
        await huge.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        // A normal text still works.
        var ok = await server.Operator.PostJsonAsync($"/api/intents/{id}/test", new JsonObject { ["text"] = "turn on the light\u0000" });
        Assert.Equal("on", ok.Str("topIntent"));
    }
}
