using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Descriptors;
using Platform.Engine.Models;
using Platform.Testing;

namespace Platform.Activities.AI.Tests;

/// <summary>
/// Slot filling across turns at engine level: a workflow (built here) whose Recognize Intent asks for a missing entity
/// through Send Reply and Wait For Message, with the embedding model on (the tiny word-vector model of these tests).
/// </summary>
public sealed class SlotFillingTests : IAsyncDisposable
{
    private readonly TempDirectory _vectors = new("ai-slots");

    /// <summary>The assistant set with a <c>device</c> entity; turning a device on or off needs the device and the room.</summary>
    public static IntentSet Home(string id = "home")
    {
        var set = Sets.Assistant(id);
        IntentSlot[] required = [new() { Entity = "device", Prompt = "Which device?" }, new() { Entity = "room", Prompt = "Which room?" }];
        return set with
        {
            Intents = set.Intents.Select(i => i.Name is "device_on" or "device_off" ? i with { Required = required } : i).ToList(),
            Entities =
            [
                .. set.Entities.Select(e => e.Name == "room"
                    ? e with { Values = [.. e.Values, new IntentEntityValue { Value = "bedroom" }] }
                    : e),
                new IntentEntityDefinition
                {
                    Name = "device", Kind = IntentEntityKinds.List,
                    Values = [new IntentEntityValue { Value = "light", Synonyms = ["lamp", "lights"] }, new IntentEntityValue { Value = "fan" }, new IntentEntityValue { Value = "heater" }],
                },
            ],
        };
    }

    private static JsonObject Js(string script) => new() { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script } };

    private static JsonObject ToVariable(string variable) => new() { ["typeName"] = "String", ["memoryReference"] = new JsonObject { ["id"] = "var-" + variable } };

    private static JsonObject Node(string id, string type, JsonObject? properties = null)
    {
        var node = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1, ["name"] = id };
        foreach (var (k, v) in properties ?? []) node[k] = v?.DeepClone();
        return node;
    }

    private static JsonObject Connect(string from, string port, string to) =>
        new() { ["source"] = new JsonObject { ["activity"] = from, ["port"] = port }, ["target"] = new JsonObject { ["activity"] = to, ["port"] = "In" } };

    /// <summary>
    /// received (text → message) → intent (text: variables.message); device_on → "Turning on …"; MissingSlot → ask (the question,
    /// the choices as quick replies) → answer (Wait For Message, text → message) → back to intent; orders_today → "Orders…";
    /// OutOfScope → "Sorry…".
    /// </summary>
    private async Task<ChatDriver> ChatAsync(AiHost host, int? maxQuestions = null)
    {
        await host.SaveAsync(Home());
        var intent = new JsonObject { ["text"] = Js("variables.message") };
        if (maxQuestions is { } max) intent["maxQuestions"] = AiHost.Literal(max);
        var definition = await ChatDriver.PublishAsync(host, "slot filling",
            [
                Node("received", "Platform.MessageReceived", new() { ["text"] = ToVariable("message") }),
                Node("intent", "Platform.RecognizeIntent.home", intent),
                Node("ask", "Platform.SendReply", new() { ["text"] = Js("getOutput('intent', 'Question')"), ["quickReplies"] = Js("getOutput('intent', 'Choices')") }),
                Node("answer", "Platform.WaitForMessage", new() { ["text"] = ToVariable("message") }),
                Node("on", "Platform.SendReply", new() { ["text"] = Js("'Turning on the ' + variables.device + ' in the ' + variables.room + '.'") }),
                Node("orders", "Platform.SendReply", new() { ["text"] = Js("'Orders: 5.'") }),
                Node("sorry", "Platform.SendReply", new() { ["text"] = Js("'Sorry, I did not get that.'") }),
            ],
            [
                Connect("received", "Done", "intent"),
                Connect("intent", "device_on", "on"),
                Connect("intent", "orders_today", "orders"),
                Connect("intent", "MissingSlot", "ask"),
                Connect("ask", "Done", "answer"),
                Connect("answer", "Done", "intent"),
                Connect("intent", "OutOfScope", "sorry"),
            ],
            "message", "device", "room");
        return new ChatDriver(host, definition);
    }

    private AiHost Host() => new(new Dictionary<string, string?>
    {
        ["Platform:AI:Embeddings:Enabled"] = "true",
        ["Platform:AI:Embeddings:WordVectorsPath"] = WordVectors.Write(_vectors.Path),
    });

    private static async Task WaitForEmbeddingsAsync(AiHost host)
    {
        var embeddings = host.Services.GetRequiredService<IntentEmbeddings>();
        await embeddings.WaitAsync();
        Assert.Equal(IntentEmbeddingState.Ready, embeddings.State);
    }

    /// <summary>The journal records of the intent activity, in order.</summary>
    private static async Task<List<ActivityExecutionRecord>> IntentRunsAsync(AiHost host, string instanceId) =>
        (await host.Services.GetRequiredService<IActivityExecutionStore>().FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = instanceId }, new PageArgs(0, 100)))
        .Items.Where(r => r.ActivityId == "intent").OrderBy(r => r.Sequence).ToList();

    [Fact]
    public async Task Should_AskForTheRoomAndRouteAsTheOriginalIntent_When_TheNextMessageIsOnlyTheRoom()
    {
        // Arrange
        await using var host = Host();
        await WaitForEmbeddingsAsync(host);
        var chat = await ChatAsync(host);

        // Act
        var first = await chat.SayAsync("turn on the light");
        var second = await chat.SayAsync("kitchen");

        // Assert
        Assert.Equal(["Which room?"], first);
        Assert.Equal(["Turning on the light in the kitchen."], second);
        var instance = chat.Instance!;
        Assert.Equal(WorkflowSubStatus.Finished, instance.SubStatus);
        Assert.Equal("light", instance.State.Variables["device"]?.ToString());
        Assert.Equal("kitchen", instance.State.Variables["room"]?.ToString());
        Assert.DoesNotContain(instance.State.Properties.Keys, k => k.StartsWith("platform.slots.", StringComparison.Ordinal));
        var runs = await IntentRunsAsync(host, instance.Id);
        Assert.Equal(2, runs.Count);
        Assert.Equal("MissingSlot", Assert.Single(runs[0].Outcomes));
        Assert.Equal("room", runs[0].Outputs["Slot"]?.ToString());
        Assert.Equal(["kitchen", "living room", "bedroom"], JsonSerializer.SerializeToElement(runs[0].Outputs["Choices"]).EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("device_on", Assert.Single(runs[1].Outcomes));
        Assert.Equal("device_on", runs[1].Outputs["Intent"]?.ToString());
        var entities = JsonSerializer.SerializeToElement(runs[1].Outputs["Entities"]);
        Assert.Equal("light", entities.GetProperty("device").GetString());
        Assert.Equal("kitchen", entities.GetProperty("room").GetString());
    }

    [Fact]
    public async Task Should_AskForEachMissingEntityInOrder_When_TheRequestNamesNeitherDeviceNorRoom()
    {
        // Arrange
        await using var host = Host();
        await WaitForEmbeddingsAsync(host);
        var chat = await ChatAsync(host);

        // Act
        var first = await chat.SayAsync("please switch on");
        var second = await chat.SayAsync("the lamp");
        var third = await chat.SayAsync("in the lounge");

        // Assert
        Assert.Equal(["Which device?"], first);
        Assert.Equal(["Which room?"], second);
        Assert.Equal(["Turning on the light in the living room."], third);
    }

    [Fact]
    public async Task Should_RouteAtOnce_When_TheRequestHasEveryRequiredEntity()
    {
        // Arrange
        await using var host = Host();
        await WaitForEmbeddingsAsync(host);
        var chat = await ChatAsync(host);

        // Act
        var replies = await chat.SayAsync("turn on the kitchen light");

        // Assert
        Assert.Equal(["Turning on the light in the kitchen."], replies);
        Assert.Equal(WorkflowSubStatus.Finished, chat.Instance!.SubStatus);
    }

    [Fact]
    public async Task Should_AskAgainWithTheChoicesAndThenGiveUp_When_TheAnswersAreUnrelated()
    {
        // Arrange
        await using var host = Host();
        await WaitForEmbeddingsAsync(host);
        var chat = await ChatAsync(host, maxQuestions: 3);

        // Act
        var question = await chat.SayAsync("turn on the light");
        var again = await chat.SayAsync("tell me a joke");
        var third = await chat.SayAsync("book a flight to paris");
        var gaveUp = await chat.SayAsync("what is the weather like in berlin");

        // Assert
        Assert.Equal(["Which room?"], question);
        Assert.Equal(["Which room? (kitchen, living room, bedroom)"], again);
        Assert.Equal(["Which room? (kitchen, living room, bedroom)"], third);
        Assert.Equal(["Sorry, I did not get that."], gaveUp);
        Assert.Equal(WorkflowSubStatus.Finished, chat.Instance!.SubStatus);
        var last = (await IntentRunsAsync(host, chat.Instance.Id))[^1];
        Assert.Equal("OutOfScope", Assert.Single(last.Outcomes));
        Assert.Equal("room", last.Outputs["Slot"]?.ToString());
        Assert.Equal("room", last.Payload["slotAbandoned"]?.ToString());
    }

    [Fact]
    public async Task Should_StartOverWithTheNewIntent_When_TheAnswerIsAnotherRequest()
    {
        // Arrange
        await using var host = Host();
        await WaitForEmbeddingsAsync(host);
        var chat = await ChatAsync(host);

        // Act
        var question = await chat.SayAsync("turn on the light");
        var answer = await chat.SayAsync("how many orders came in today");

        // Assert
        Assert.Equal(["Which room?"], question);
        Assert.Equal(["Orders: 5."], answer);
        Assert.Equal(WorkflowSubStatus.Finished, chat.Instance!.SubStatus);
    }

    [Fact]
    public async Task Should_AddTheMissingSlotPortBeforeOutOfScope_When_AnIntentHasRequiredEntities()
    {
        // Arrange
        await using var host = new AiHost();

        // Act
        await host.SaveAsync(Home());
        var descriptor = host.Services.GetRequiredService<ActivityRegistry>().Find("Platform.RecognizeIntent.home");

        // Assert
        Assert.NotNull(descriptor);
        Assert.Equal(["device_on", "device_off", "orders_today", "unlock_door", "MissingSlot", "OutOfScope"], descriptor.Outcomes);
        Assert.Contains(descriptor.Inputs, i => i.Name == "MaxQuestions");
        Assert.Contains(descriptor.Outputs, o => o.Name == "Question");
        Assert.Equal(["device_on", "device_off", "orders_today", "unlock_door", "OutOfScope"], TrainedIntentSet.OutcomesOf(Sets.Assistant()));
    }

    [Fact]
    public void Should_NameTheUndefinedEntity_When_AnIntentRequiresAnEntityTheSetDoesNotDefine()
    {
        // Arrange
        var set = Home();
        set = set with
        {
            Intents = [.. set.Intents, new IntentDefinition
            {
                Name = "set_alarm", Examples = ["wake me up at 7", "set an alarm", "alarm please"],
                Required = [new IntentSlot { Entity = "datetime" }, new IntentSlot { Entity = "alarm_sound" }, new IntentSlot { Entity = "datetime" }],
            }],
        };

        // Act
        var problems = IntentSetRules.Validate(set);

        // Assert
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.Contains("requires the entity 'alarm_sound', which the set does not define", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("requires the entity 'datetime' twice", StringComparison.Ordinal));
        Assert.Equal("Please tell me the alarm sound.", new IntentSlot { Entity = "alarm_sound" }.Question);
        Assert.Contains(IntentSetRules.Validate(Home() with { Intents = [new IntentDefinition { Name = "MissingSlot", Examples = ["a", "b", "c"] }] }),
            p => p.Contains("reserved", StringComparison.Ordinal));
    }

    public ValueTask DisposeAsync()
    {
        _vectors.Dispose();
        return ValueTask.CompletedTask;
    }
}
