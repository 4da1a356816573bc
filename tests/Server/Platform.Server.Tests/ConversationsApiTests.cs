using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Channels.Webhooks;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary><c>GET /api/conversations</c> and <c>/api/conversations/{key}</c> over messages sent through a real webhook channel.</summary>
public abstract class ConversationsApiTests(ServerFixture server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Secret = "conversations-webhook-secret-0123456789";

    private static JsonObject Js(string script) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script },
    };

    /// <summary>A webhook channel whose replies go to <paramref name="receiver"/>, answered by a workflow that asks which room and
    /// waits for the answer in the same conversation.</summary>
    private async Task<string> CreateChannelAsync(LoopbackReceiver receiver)
    {
        var name = "conv-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = name, ["kind"] = "Webhook",
            ["settings"] = new JsonObject { ["secret"] = Secret, ["outboundUrl"] = receiver.Url("/hooks/replies").ToString() },
        }, HttpStatusCode.Created);
        await server.Admin.SaveAsync(Sequence(UniqueName("which room"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", name))),
            Activity("ask", "Platform.SendReply", ("text", Js("'Which room, ' + getOutput('received', 'Text') + '?'"))),
            Activity("wait", "Platform.WaitForMessage"),
            Activity("answer", "Platform.SendReply", ("text", Js("'Turning on the ' + getOutput('wait', 'Text') + ' light.'")))), publish: true);
        return name;
    }

    private async Task SendAsync(string channel, string id, string sender, string text)
    {
        var body = new JsonObject { ["id"] = id, ["sender"] = new JsonObject { ["id"] = sender, ["name"] = "Ada" }, ["text"] = text }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, Secret));
        using var client = server.Factory.CreateClient(apiKey: null);
        using var response = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task WaitForSentAsync(string channel, int count)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < until)
        {
            var outbox = (await server.Admin.GetJsonAsync($"/api/messages/outbox?channel={channel}&status=Sent"))["totalCount"]!.GetValue<long>();
            if (outbox >= count) return;
            await Task.Delay(100, Ct);
        }
        Assert.Fail($"Fewer than {count} replies were sent on {channel} within 30 s.");
    }

    private static string Path(string key, string query = "") => $"/api/conversations/{Uri.EscapeDataString(key)}{query}";

    [Fact]
    public async Task Should_ListConversationsNewestActivityFirstWithCountsAndLastText_When_MessagesCameInThroughAChannel()
    {
        // Arrange: Ada finishes a two-turn conversation, then Bob starts one.
        await using var receiver = await LoopbackReceiver.StartAsync();
        var channel = await CreateChannelAsync(receiver);
        await SendAsync(channel, "ada-1", "ada", "light");
        await WaitForSentAsync(channel, 1);
        await SendAsync(channel, "ada-2", "ada", "kitchen");
        await WaitForSentAsync(channel, 2);
        await SendAsync(channel, "bob-1", "bob", "lamp");
        await WaitForSentAsync(channel, 3);

        // Act
        var list = await server.Admin.GetJsonAsync($"/api/conversations?channel={channel}");
        var firstPage = await server.Operator.GetJsonAsync($"/api/conversations?channel={channel}&take=1");
        var secondPage = await server.Operator.GetJsonAsync($"/api/conversations?channel={channel}&take=1&skip=1");

        // Assert
        Assert.Equal(2, list["totalCount"]!.GetValue<long>());
        var items = list["items"]!.AsArray();
        Assert.Equal([$"webhook:{channel}:bob", $"webhook:{channel}:ada"], items.Select(i => i.Str("key")));
        var ada = items[1]!;
        Assert.Equal(channel, ada.Str("channel"));
        Assert.Equal((2L, 2L), (ada["inboundCount"]!.GetValue<long>(), ada["outboundCount"]!.GetValue<long>()));
        Assert.Equal(("Turning on the kitchen light.", "out"), (ada.Str("lastText"), ada.Str("lastDirection")));
        Assert.True(DateTimeOffset.Parse(items[0].Str("lastActivityAt"), null) >= DateTimeOffset.Parse(ada.Str("lastActivityAt"), null));
        Assert.Equal($"webhook:{channel}:bob", Assert.Single(firstPage["items"]!.AsArray())!.Str("key"));
        Assert.Equal($"webhook:{channel}:ada", Assert.Single(secondPage["items"]!.AsArray())!.Str("key"));
        Assert.Equal(2, secondPage["totalCount"]!.GetValue<long>());
    }

    [Fact]
    public async Task Should_ReturnTheMessagesInAndOutInTimeOrderWithTheirWorkflowInstance_When_AConversationIsOpened()
    {
        // Arrange
        await using var receiver = await LoopbackReceiver.StartAsync();
        var channel = await CreateChannelAsync(receiver);
        await SendAsync(channel, "ada-1", "ada", "light");
        await WaitForSentAsync(channel, 1);
        await SendAsync(channel, "ada-2", "ada", "bedroom");
        await WaitForSentAsync(channel, 2);
        var key = $"webhook:{channel}:ada";

        // Act
        var thread = await server.Operator.GetJsonAsync(Path(key));
        var newest = await server.Operator.GetJsonAsync(Path(key, "?take=3"));

        // Assert: in, out, in, out, all handled by the one instance that waited for the answer.
        Assert.Equal((key, channel, false), (thread.Str("key"), thread.Str("channel"), thread["truncated"]!.GetValue<bool>()));
        var messages = thread["messages"]!.AsArray();
        Assert.Equal(["in", "out", "in", "out"], messages.Select(m => m.Str("direction")));
        Assert.Equal(["light", "Which room, light?", "bedroom", "Turning on the bedroom light."], messages.Select(m => m.Str("text")));
        Assert.Equal(["Processed", "Sent", "Processed", "Sent"], messages.Select(m => m.Str("status")));
        Assert.All(messages, m => Assert.Null(m!["error"]));
        var instances = messages.Select(m => m.Str("workflowInstanceId")).Distinct().ToList();
        var instanceId = Assert.Single(instances);
        Assert.Equal(("ada", "Ada"), (messages[0]!["sender"].Str("id"), messages[0]!["sender"].Str("name")));
        Assert.NotNull(messages[1]!["sentAt"]);
        var instance = await server.Operator.GetJsonAsync($"{ApiClient.Api}/workflow-instances/{instanceId}");
        Assert.Equal(instanceId, instance.Str("id"));
        Assert.True(newest["truncated"]!.GetValue<bool>());
        Assert.Equal(["Which room, light?", "bedroom", "Turning on the bedroom light."], newest["messages"]!.AsArray().Select(m => m.Str("text")));
    }

    [Fact]
    public async Task Should_AnswerAClear4xx_When_TheConversationIsUnknownOrThePagingIsInvalid()
    {
        using var unknown = await server.Admin.GetAsync(Path("webhook:nowhere:nobody"), Ct);
        using var badTake = await server.Admin.GetAsync("/api/conversations?take=0", Ct);
        using var badSkip = await server.Admin.GetAsync("/api/conversations?skip=-1", Ct);
        using var badThreadTake = await server.Admin.GetAsync(Path("webhook:nowhere:nobody", "?take=100000"), Ct);
        using var notANumber = await server.Admin.GetAsync("/api/conversations?take=many", Ct);
        using var anonymous = await server.Factory.CreateClient(apiKey: null).GetAsync("/api/conversations", Ct);

        Assert.Contains("webhook:nowhere:nobody", (await unknown.AssertProblemAsync(HttpStatusCode.NotFound)).Str("title"));
        await badTake.AssertProblemAsync(HttpStatusCode.BadRequest);
        await badSkip.AssertProblemAsync(HttpStatusCode.BadRequest);
        await badThreadTake.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.BadRequest, notANumber.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }
}

public sealed class SqliteConversationsApiTests(SqliteServerFixture server) : ConversationsApiTests(server), IClassFixture<SqliteServerFixture>;

public sealed class PostgresConversationsApiTests(PostgresServerFixture server) : ConversationsApiTests(server), IClassFixture<PostgresServerFixture>;
