using System.Text.Json.Nodes;
using Platform.Testing.Fakes;

namespace Platform.Activities.AI.Tests;

/// <summary>Ask Model with conversation memory: earlier turns of the chat go to the model as user/assistant messages.</summary>
public sealed class AskModelHistoryTests
{
    private static AiHost Host(FakeOpenAiServer server) => new(new Dictionary<string, string?>
    {
        ["Platform:AI:ChatCompletion:Endpoint"] = server.ApiBase.ToString(),
        ["Platform:AI:ChatCompletion:Model"] = "gpt-4o-mini",
        ["Platform:AI:ChatCompletion:ApiKey"] = server.ApiKey,
    });

    private static JsonObject Js(string script) => new() { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script } };

    /// <summary>received → ask (system + the message as Text) → reply with the answer.</summary>
    private static async Task<ChatDriver> ChatAsync(AiHost host, int? historyTurns, string chatId = "chat-1")
    {
        var ask = new JsonObject
        {
            ["id"] = "ask", ["type"] = "Platform.AskModel", ["version"] = 1,
            ["system"] = AiHost.Literal("You are the shop assistant."),
            ["text"] = Js("getOutput('received', 'Text')"),
        };
        if (historyTurns is { } n) ask["historyTurns"] = AiHost.Literal(n);
        var definition = await ChatDriver.PublishAsync(host, "ask with memory",
            [
                new JsonObject { ["id"] = "received", ["type"] = "Platform.MessageReceived", ["version"] = 1 },
                ask,
                new JsonObject { ["id"] = "reply", ["type"] = "Platform.SendReply", ["version"] = 1, ["text"] = Js("getOutput('ask', 'Answer')") },
            ],
            [
                new JsonObject { ["source"] = new JsonObject { ["activity"] = "received", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "ask", ["port"] = "In" } },
                new JsonObject { ["source"] = new JsonObject { ["activity"] = "ask", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "reply", ["port"] = "In" } },
            ]);
        return new ChatDriver(host, definition, chatId);
    }

    private static List<(string Role, string Content)> Messages(JsonArray conversation) =>
        conversation.Select(m => (m!["role"]!.GetValue<string>(), m["content"]!.ToString())).ToList();

    [Fact]
    public async Task Should_SendEarlierTurnsInOrderBeforeThePrompt_When_TheConversationHasHistory()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        var answers = 0;
        server.Answer = _ => $"answer {Interlocked.Increment(ref answers)}";
        await using var host = Host(server);
        var chat = await ChatAsync(host, historyTurns: null);
        var other = await ChatAsync(host, historyTurns: null, chatId: "chat-2");

        // Act
        Assert.Equal(["answer 1"], await chat.SayAsync("hello"));
        Assert.Equal(["answer 2"], await other.SayAsync("a different chat"));
        Assert.Equal(["answer 3"], await chat.SayAsync("my name is Ada"));
        Assert.Equal(["answer 4"], await chat.SayAsync("what is my name?"));

        // Assert
        Assert.Equal(
            [("system", "You are the shop assistant."), ("user", "hello"), ("assistant", "answer 1"), ("user", "my name is Ada"), ("assistant", "answer 3"), ("user", "what is my name?")],
            Messages(server.Conversations[^1]));
        Assert.Equal([("system", "You are the shop assistant."), ("user", "hello")], Messages(server.Conversations[0]));
    }

    [Fact]
    public async Task Should_SendOnlyTheLastTurns_When_HistoryTurnsIsSmaller()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(server);
        var chat = await ChatAsync(host, historyTurns: 2);

        // Act
        await chat.SayAsync("one");
        await chat.SayAsync("two");
        await chat.SayAsync("three");

        // Assert
        Assert.Equal(
            [("system", "You are the shop assistant."), ("user", "two"), ("assistant", "You said: two"), ("user", "three")],
            Messages(server.Conversations[^1]));
    }

    [Fact]
    public async Task Should_SendNoHistory_When_HistoryTurnsIsZero()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        await using var host = Host(server);
        var chat = await ChatAsync(host, historyTurns: 0);

        // Act
        await chat.SayAsync("one");
        await chat.SayAsync("two");

        // Assert
        Assert.Equal([("system", "You are the shop assistant."), ("user", "two")], Messages(server.Conversations[^1]));
    }
}
