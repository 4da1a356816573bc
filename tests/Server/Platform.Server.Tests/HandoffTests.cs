using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Server.Security;
using Platform.Server.Tests.Infrastructure;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>
/// Human hand-off (issue 20, item 4) end to end through a web chat socket: a workflow hands the conversation to people, the bot
/// stays silent, a signed-in agent takes it and replies through the channel (once, audited with the agent's name), and Return to
/// bot resumes the workflow with the agent's decision; the timeout path; roles and bad input.
/// </summary>
public abstract class HandoffTests(ServerFixture server)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Password = "Correct-horse-42";

    private static JsonObject Js(string script) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script },
    };

    /// <summary>A web chat channel answered by: "Let me get a person." → Hand Off To Human → (Returned) "Back with the bot…" / (TimedOut) "Nobody came…".</summary>
    private async Task<string> CreateChannelAsync(string timeout)
    {
        var name = "hand-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = "WebChat", ["settings"] = new JsonObject() },
            HttpStatusCode.Created);
        var model = Sequence(UniqueName("hand off"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", name))),
            Activity("ask", "Platform.SendReply", ("text", Literal("String", "Let me get a person."))),
            Activity("handoff", "Platform.HandOffToHuman", ("reason", Literal("String", "Customer asks for a refund")), ("queue", Literal("String", "support")),
                ("timeout", Literal("TimeSpan", timeout))));
        var root = model["root"]!.AsObject();
        root["activities"]!.AsArray().Add(Activity("back", "Platform.SendReply", ("text", Js("'Back with the bot. Decision: ' + getOutput('handoff', 'Decision')"))));
        root["activities"]!.AsArray().Add(Activity("late", "Platform.SendReply", ("text", Literal("String", "Nobody came, the bot is back."))));
        root["connections"]!.AsArray().Add(Connect("handoff", "back", "Returned"));
        root["connections"]!.AsArray().Add(Connect("handoff", "late", "TimedOut"));
        await server.Admin.SaveAsync(model, publish: true);
        return name;
    }

    /// <summary>A user with <paramref name="role"/>, signed in with a cookie like the Studio's pages.</summary>
    private async Task<(string Name, HttpClient Client)> SignInAsync(string role)
    {
        var name = role.ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..8];
        await server.Admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = name, ["password"] = Password, ["role"] = role }, HttpStatusCode.Created);
        var client = server.Factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true, AllowAutoRedirect = false });
        await client.PostJsonAsync("/api/auth/signin", new JsonObject { ["userName"] = name, ["password"] = Password });
        return (name, client);
    }

    private async Task<JsonObject?> FindHandoffAsync(string channel) =>
        (await server.Operator.GetJsonAsync("/api/handoffs"))["items"]!.AsArray().Select(i => i!.AsObject()).FirstOrDefault(i => i.Str("channel") == channel);

    private async Task<JsonObject> WaitForHandoffAsync(string channel)
    {
        for (var until = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < until; await Task.Delay(100, Ct))
            if (await FindHandoffAsync(channel) is { } found) return found;
        Assert.Fail($"No conversation of {channel} waited for a person within 30 s.{Environment.NewLine}{ServerErrorLog.Latest()}");
        return null!;
    }

    private static string Path(string key, string action) => $"/api/handoffs/{Uri.EscapeDataString(key)}/{action}";

    private async Task<JsonArray> ThreadAsync(string key) =>
        (await server.Operator.GetJsonAsync($"/api/conversations/{Uri.EscapeDataString(key)}"))["messages"]!.AsArray();

    [Fact]
    public async Task Should_KeepTheBotSilentAndResumeWithTheDecision_When_AnAgentTakesRepliesAndReturnsAHandedOffConversation()
    {
        // Arrange: a visitor asks for a refund; the workflow hands the conversation to people.
        var channel = await CreateChannelAsync("00:10:00");
        var (agent, agentClient) = await SignInAsync("Operator");
        var (_, viewer) = await SignInAsync("Viewer");
        using var _a = agentClient;
        using var _v = viewer;
        await using var chat = await WebChatClient.ConnectAsync(server.Factory, channel);
        Assert.Equal("Let me get a person.", await chat.AskAsync("I want a refund"));
        var waiting = await WaitForHandoffAsync(channel);
        var key = waiting.Str("conversationKey");
        Assert.Equal(("Customer asks for a refund", "support"), (waiting.Str("reason"), waiting.Str("queue")));
        Assert.Null(waiting["assignedTo"]);
        Assert.True(waiting["waitingSeconds"]!.GetValue<long>() >= 0);
        Assert.NotNull(waiting["timeoutAt"]);

        // Act 1: the visitor writes again; the message is kept for the agents and no workflow answers it.
        var nextFrame = chat.AskAsync("hello? anyone there?");
        for (var until = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(100, Ct))
        {
            var kept = (await ThreadAsync(key)).FirstOrDefault(m => m.Str("direction") == "in" && m.Str("text") == "hello? anyone there?");
            if (kept is not null && kept.Str("status") == "Processed") break;
            Assert.True(DateTime.UtcNow < until, "The second message was not stored and processed.");
        }

        // A Viewer reads the queue but may not take over or reply.
        Assert.Contains((await viewer.GetJsonAsync("/api/handoffs"))["items"]!.AsArray(), i => i.Str("conversationKey") == key);
        using (var refused = await viewer.PostAsJsonAsync(Path(key, "reply"), new { text = "I am only a viewer" }, Ct))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using (var refused = await viewer.PostAsJsonAsync(Path(key, "assign"), new { }, Ct))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        // Act 2: the agent takes it and replies (the page retries with the same client id: sent once).
        var assigned = await agentClient.PostJsonAsync(Path(key, "assign"), new JsonObject());
        Assert.Equal(agent, assigned.Str("assignedTo"));
        var agents = JsonNode.Parse(await agentClient.GetStringAsync("/api/handoffs/agents", Ct))!.AsArray();
        Assert.Contains(agents, a => a.Str("userName") == agent);
        var reply = await agentClient.PostJsonAsync(Path(key, "reply"), new JsonObject { ["text"] = "Hi, this is a person from support.", ["clientMessageId"] = "r1" });
        var again = await agentClient.PostJsonAsync(Path(key, "reply"), new JsonObject { ["text"] = "Hi, this is a person from support.", ["clientMessageId"] = "r1" });

        // Assert: the visitor's next frame is the agent's reply (the bot did not answer "hello?").
        Assert.Equal("Hi, this is a person from support.", await nextFrame);
        Assert.False(reply["duplicate"]!.GetValue<bool>());
        Assert.True(again["duplicate"]!.GetValue<bool>());
        Assert.Equal(reply.Str("messageId"), again.Str("messageId"));
        Assert.Equal(agent, reply.Str("agent"));

        // Another agent cannot reply while it is assigned.
        var (_, other) = await SignInAsync("Operator");
        using (other)
        using (var taken = await other.PostAsJsonAsync(Path(key, "reply"), new { text = "me too" }, Ct))
            Assert.Contains(agent, (await taken.AssertProblemAsync(HttpStatusCode.Conflict)).Str("title"));

        // Act 3: Return to bot with a decision resumes the workflow on Returned.
        var returned = await agentClient.PostJsonAsync(Path(key, "return"), new JsonObject { ["decision"] = "Refund approved", ["note"] = "order 42" });
        Assert.True(returned["resumed"]!.GetValue<bool>());
        Assert.Equal("Back with the bot. Decision: Refund approved", await chat.NextReplyAsync());
        Assert.Null(await FindHandoffAsync(channel));

        // The transcript: the agent's reply once, from a person; the kept message handled by no workflow.
        var thread = await ThreadAsync(key);
        var fromAgent = Assert.Single(thread, m => m!["agent"] is not null);
        Assert.Equal((agent, "Hi, this is a person from support.", "out"), (fromAgent.Str("agent"), fromAgent.Str("text"), fromAgent.Str("direction")));
        for (var until = DateTime.UtcNow.AddSeconds(30); (await ThreadAsync(key)).Single(m => m!["agent"] is not null).Str("status") != "Sent"; await Task.Delay(100, Ct))
            Assert.True(DateTime.UtcNow < until, "The agent's reply was not sent.");
        Assert.Null(thread.Single(m => m.Str("text") == "hello? anyone there?")!["workflowInstanceId"]);
        Assert.Single(thread, m => m.Str("text") == "Let me get a person.");

        // The reply is audited with the agent's name.
        await server.Factory.Services.GetRequiredService<AuditLogWriter>().FlushAsync(Ct);
        var audit = (await server.Admin.GetJsonAsync($"/api/audit?actor={agent}&pageSize=50"))["items"]!.AsArray();
        var replied = audit.Where(i => i.Str("action") == "POST /api/handoffs/{key}/reply").ToList();
        Assert.Equal(2, replied.Count); // the reply and its harmless repeat
        Assert.All(replied, r => Assert.Equal(("user", "success"), (r.Str("actorKind"), r.Str("outcome"))));
        var details = JsonNode.Parse(replied[0].Str("details"))!;
        Assert.Equal((key, reply.Str("messageId")), (details.Str("conversation"), details.Str("outboxMessageId")));
        Assert.Contains(audit, i => i.Str("action") == "POST /api/handoffs/{key}/return");

        // Afterwards the bot answers the conversation again.
        Assert.Equal("Let me get a person.", await chat.AskAsync("thanks"));
    }

    [Fact]
    public async Task Should_TakeTheTimedOutPortAndGiveTheConversationBack_When_NobodyReturnsItInTime()
    {
        // Arrange
        var channel = await CreateChannelAsync("00:00:01");
        await using var chat = await WebChatClient.ConnectAsync(server.Factory, channel);

        // Act
        Assert.Equal("Let me get a person.", await chat.AskAsync("I want a refund"));
        var late = await chat.NextReplyAsync();

        // Assert: the TimedOut port answered, and the conversation is the bot's again.
        Assert.Equal("Nobody came, the bot is back.", late);
        Assert.Null(await FindHandoffAsync(channel));
        Assert.Equal("Let me get a person.", await chat.AskAsync("still there?"));
    }

    [Fact]
    public async Task Should_AnswerAClear4xx_When_TheConversationIsNotHandedOffOrTheInputIsBad()
    {
        var unknown = Uri.EscapeDataString("webchat:nowhere:nobody");
        using var notHanded = await server.Admin.PostAsJsonAsync($"/api/handoffs/{unknown}/reply", new { text = "hello" }, Ct);
        using var notHandedReturn = await server.Admin.PostAsJsonAsync($"/api/handoffs/{unknown}/return", new { decision = "x" }, Ct);
        using var notHandedAssign = await server.Admin.PostAsJsonAsync($"/api/handoffs/{unknown}/assign", new { }, Ct);
        using var empty = await server.Admin.PostAsJsonAsync($"/api/handoffs/{unknown}/reply", new { text = "  " }, Ct);
        using var tooLong = await server.Admin.PostAsJsonAsync($"/api/handoffs/{unknown}/reply", new { text = new string('x', 4001) }, Ct);
        using var badId = await server.Admin.PostAsJsonAsync($"/api/handoffs/{unknown}/reply", new { text = "hi", clientMessageId = "<script>" }, Ct);
        using var malformed = await server.Admin.PostRawAsync($"/api/handoffs/{unknown}/reply", "{\"text\": ");
        using var longDecision = await server.Admin.PostAsJsonAsync($"/api/handoffs/{unknown}/return", new { decision = new string('x', 2001) }, Ct);

        Assert.Contains("webchat:nowhere:nobody", (await notHanded.AssertProblemAsync(HttpStatusCode.NotFound)).Str("title"));
        await notHandedReturn.AssertProblemAsync(HttpStatusCode.NotFound);
        await notHandedAssign.AssertProblemAsync(HttpStatusCode.NotFound);
        await empty.AssertProblemAsync(HttpStatusCode.BadRequest);
        await tooLong.AssertProblemAsync(HttpStatusCode.BadRequest);
        await badId.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        await longDecision.AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}

public sealed class SqliteHandoffTests(SqliteServerFixture server) : HandoffTests(server), IClassFixture<SqliteServerFixture>;

public sealed class PostgresHandoffTests(PostgresServerFixture server) : HandoffTests(server), IClassFixture<PostgresServerFixture>;
