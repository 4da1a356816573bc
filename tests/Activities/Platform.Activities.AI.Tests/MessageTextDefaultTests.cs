using System.Text.Json.Nodes;
using Platform.Testing.Fakes;

namespace Platform.Activities.AI.Tests;

/// <summary>
/// The obvious flow works without binding variables: Recognize Intent, Extract Entities and Ask Model read the message the
/// workflow answers when their Text is empty, and Send Reply answers that conversation.
/// </summary>
public sealed class MessageTextDefaultTests
{
    private static JsonObject Js(string script) => new() { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script } };

    private static JsonObject Connect(string from, string port, string to) => new()
    {
        ["source"] = new JsonObject { ["activity"] = from, ["port"] = port }, ["target"] = new JsonObject { ["activity"] = to, ["port"] = "In" },
    };

    private static JsonObject Node(string id, string type, params (string Name, JsonNode Value)[] inputs)
    {
        var node = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1 };
        foreach (var (name, value) in inputs) node[name] = value;
        return node;
    }

    [Fact]
    public async Task Should_ClassifyAndExtractTheMessage_When_TextIsEmpty()
    {
        // Arrange: message → Recognize Intent: assistant (no Text) → Extract Entities (no Text) → reply with both.
        await using var host = new AiHost();
        await host.SaveAsync(Sets.Assistant());
        var activities = new JsonArray(
            Node("received", "Platform.MessageReceived"),
            Node("intent", "Platform.RecognizeIntent.assistant"),
            Node("entities", "Platform.ExtractEntities", ("intentSet", AiHost.Literal("assistant"))),
            Node("reply", "Platform.SendReply", ("text", Js("getOutput('intent', 'Intent') + ' ' + getOutput('entities', 'Entities').room"))));
        var connections = new JsonArray(Connect("received", "Done", "intent"), Connect("intent", "device_on", "entities"), Connect("entities", "Done", "reply"));
        var chat = new ChatDriver(host, await ChatDriver.PublishAsync(host, "defaults", activities, connections));

        // Act
        var replies = await chat.SayAsync("please switch on the lamp in the cooking area");

        // Assert: the reply went to the conversation of the message.
        Assert.Equal(["device_on kitchen"], replies);
    }

    [Fact]
    public async Task Should_SendTheMessageAfterThePrompt_When_AskModelHasNoText()
    {
        // Arrange
        await using var server = await FakeOpenAiServer.StartAsync();
        server.Answer = _ => "a summary";
        await using var host = new AiHost(new Dictionary<string, string?>
        {
            ["Platform:AI:ChatCompletion:Endpoint"] = server.ApiBase.ToString(),
            ["Platform:AI:ChatCompletion:Model"] = "gpt-4o-mini",
            ["Platform:AI:ChatCompletion:ApiKey"] = server.ApiKey,
        });
        var activities = new JsonArray(
            Node("received", "Platform.MessageReceived"),
            Node("ask", "Platform.AskModel", ("prompt", AiHost.Literal("Summarise the request."))),
            Node("reply", "Platform.SendReply", ("text", Js("getOutput('ask', 'Answer')"))));
        var connections = new JsonArray(Connect("received", "Done", "ask"), Connect("ask", "Done", "reply"));
        var chat = new ChatDriver(host, await ChatDriver.PublishAsync(host, "ask defaults", activities, connections));

        // Act
        var replies = await chat.SayAsync("my parcel ORD-123456 is late");

        // Assert
        Assert.Equal(["a summary"], replies);
        var user = server.Conversations[^1].Last(m => m!["role"]!.GetValue<string>() == "user")!["content"]!.ToString();
        Assert.Equal("Summarise the request.\n\nmy parcel ORD-123456 is late", user);
    }

    [Fact]
    public async Task Should_ClassifyTheNewestMessage_When_TheWorkflowWaitedForAnotherMessage()
    {
        // Arrange: message → reply "What?" → wait for message → Recognize Intent (no Text) → reply with the intent.
        await using var host = new AiHost();
        await host.SaveAsync(Sets.Assistant());
        var activities = new JsonArray(
            Node("received", "Platform.MessageReceived"),
            Node("ask", "Platform.SendReply", ("text", AiHost.Literal("What can I do?"))),
            Node("wait", "Platform.WaitForMessage"),
            Node("intent", "Platform.RecognizeIntent.assistant"),
            Node("reply", "Platform.SendReply", ("text", Js("getOutput('intent', 'Intent')"))));
        var connections = new JsonArray(Connect("received", "Done", "ask"), Connect("ask", "Done", "wait"), Connect("wait", "Done", "intent"),
            Connect("intent", "orders_today", "reply"));
        var chat = new ChatDriver(host, await ChatDriver.PublishAsync(host, "wait defaults", activities, connections));

        // Act
        Assert.Equal(["What can I do?"], await chat.SayAsync("hello"));
        var replies = await chat.SayAsync("how many orders came in today");

        // Assert
        Assert.Equal(["orders_today"], replies);
    }
}
