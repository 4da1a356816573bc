using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Server.Mapping;
using Platform.Server.Tests.Infrastructure;
using static Platform.Server.Tests.Infrastructure.ApiClient;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>
/// What the Studio needs around editing: the root flowchart's journal record (not "Not executed"), readable node names and
/// palette entries for the per-set Recognize Intent types, and nodes tall enough for their ports.
/// </summary>
public sealed class StudioEditingApiTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private static JsonObject Intent(string name) =>
        new() { ["name"] = name, ["examples"] = new JsonArray($"{name} one", $"{name} two please", $"about {name} three") };

    private async Task CreateSetAsync(string id, string name, int intents)
    {
        var set = new JsonObject { ["id"] = id, ["name"] = name, ["intents"] = new JsonArray(Enumerable.Range(1, intents).Select(i => (JsonNode)Intent($"intent{i}")).ToArray()) };
        using var put = await server.Admin.PutAsJsonAsync($"/api/intents/{id}", set);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Should_ReportTheFlowchartAsCompleted_When_TheViewerAsksForTheRootOfAFinishedInstance()
    {
        // Arrange
        var definition = await server.Admin.SaveAsync(HelloWorld(UniqueName("root record")), publish: true);
        var rootNodeId = definition["root"].Str("nodeId");
        var (instanceId, _) = await server.Admin.ExecuteAsync(definition.Str("definitionId"));

        // Act: what the instance viewer asks when the root is selected.
        var summaries = await server.Admin.GetJsonAsync(
            $"{Api}/activity-execution-summaries/list?workflowInstanceId={instanceId}&activityNodeId={Uri.EscapeDataString(rootNodeId)}");
        var summary = Assert.Single(summaries["items"]!.AsArray())!;
        var record = await server.Admin.GetJsonAsync($"{Api}/activity-executions/by-id?id={Uri.EscapeDataString(summary.Str("id"))}");

        // Assert
        Assert.Equal("Completed", summary.Str("status"));
        Assert.Equal("Elsa.Flowchart", record.Str("activityType"));
        Assert.Equal(rootNodeId, record.Str("activityNodeId"));
        Assert.NotNull(record["completedAt"]);
    }

    [Fact]
    public async Task Should_OfferReadableNodeNamesAndOnlyThePerSetTypes_When_IntentSetsExist()
    {
        // Arrange
        var id = "names" + Guid.NewGuid().ToString("N")[..6];
        await CreateSetAsync(id, "Home assistant", 2);

        // Act
        var descriptors = (await server.Admin.GetJsonAsync($"{Api}/descriptors/activities"))["items"]!.AsArray();

        // Assert: the Studio names a new node "<name>1", so the name is PascalCase, not the set id.
        var perSet = Assert.Single(descriptors, d => d.Str("typeName") == $"Platform.RecognizeIntent.{id}")!;
        Assert.Equal("RecognizeIntentHomeAssistant", perSet.Str("name"));
        Assert.True(perSet["isBrowsable"]!.GetValue<bool>());
        // The generic type (no ports of its own) stays for existing workflows but leaves the palette.
        var generic = Assert.Single(descriptors, d => d.Str("typeName") == "Platform.RecognizeIntent")!;
        Assert.False(generic["isBrowsable"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Should_StoreANodeTallEnoughForEveryPort_When_AWorkflowWithASevenIntentSetIsSaved()
    {
        // Arrange
        var id = "ports" + Guid.NewGuid().ToString("N")[..6];
        await CreateSetAsync(id, "Seven", 7);
        var model = Sequence(UniqueName("ports"), null, Activity("intent", $"Platform.RecognizeIntent.{id}"), Activity("write", "Elsa.WriteLine"));

        // Act
        var saved = await server.Admin.SaveAsync(model, publish: false);

        // Assert: 7 intents + OutOfScope, each with room for its port and label; other nodes keep the measured size.
        var activities = saved["root"]!["activities"]!.AsArray();
        var intent = activities.Single(a => a.Str("id") == "intent")!;
        Assert.Equal(DesignerSizes.HeightFor(8), intent["metadata"]!["designer"]!["size"]!["height"]!.GetValue<double>());
        Assert.True(DesignerSizes.HeightFor(8) / 9 >= 20);
        Assert.Null(activities.Single(a => a.Str("id") == "write")!["metadata"]?["designer"]?["size"]);
    }

    [Fact]
    public async Task Should_RunTheHttpRequestAndShowItUnderTheNewName_When_AWorkflowStillUsesElsaSendHttpRequest()
    {
        // Arrange: a workflow saved before the type was renamed (Elsa.SendHttpRequest → Platform.SendHttpRequest).
        await using var receiver = await Platform.Testing.Fakes.LoopbackReceiver.StartAsync(
            _ => Task.FromResult(new Platform.Testing.Fakes.FakeResponse(200, "{\"ok\":true}")));
        var model = Sequence(UniqueName("old http"), null,
            Activity("call", "Elsa.SendHttpRequest", ("url", Literal("String", receiver.Url("/old-name").ToString()))),
            Activity("write", "Elsa.WriteLine", ("text", Literal("String", "after the call"))));

        // Act
        var saved = await server.Admin.SaveAsync(model, publish: true);
        var (_, state) = await server.Admin.ExecuteAsync(saved.Str("definitionId"), "Published");
        var reloaded = await server.Admin.GetJsonAsync($"{Api}/workflow-definitions/by-definition-id/{saved.Str("definitionId")}?versionOptions=Latest");

        // Assert: the old name validates, publishes and runs (Done leads on); the Studio gets the new name.
        Assert.Equal("Finished", state.Str("subStatus"));
        Assert.Equal("/old-name", Assert.Single(receiver.Requests).Path);
        Assert.Equal("Platform.SendHttpRequest", reloaded["root"]!["activities"]!.AsArray().Single(a => a.Str("id") == "call")!.Str("type"));
    }

    [Fact]
    public async Task Should_ListHttpRequestUnderPlatformSendHttpRequestOnly_When_TheStudioLoadsTheDescriptors()
    {
        // Arrange: a stored workflow that still names the old type (so it must not come back as a "not installed" placeholder).
        await server.Admin.SaveAsync(Sequence(UniqueName("old http descriptor"), null, Activity("call", "Elsa.SendHttpRequest")), publish: false);

        // Act
        var descriptors = (await server.Admin.GetJsonAsync($"{Api}/descriptors/activities"))["items"]!.AsArray();

        // Assert: the Studio special-cases Elsa.SendHttpRequest (three embedded drop slots); ours has just Done and Failed.
        var http = Assert.Single(descriptors, d => d.Str("typeName") == "Platform.SendHttpRequest")!;
        Assert.Equal("HTTP Request", http.Str("displayName"));
        Assert.Equal("HTTP", http.Str("category"));
        Assert.DoesNotContain(descriptors, d => d.Str("typeName") == "Elsa.SendHttpRequest");
    }
}
