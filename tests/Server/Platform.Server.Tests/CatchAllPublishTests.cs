using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using static Platform.Server.Tests.Infrastructure.ApiClient;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>
/// Publishing a second workflow that catches every message of the same channel (Message Received without a text pattern)
/// is refused with the rule for which workflows run, so a user never gets two answers by accident.
/// </summary>
public sealed class CatchAllPublishTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private static JsonObject CatchAll(string channel, string? pattern = null)
    {
        var received = pattern is null
            ? Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel)))
            : Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel)), ("textPattern", Literal("String", pattern)));
        return Sequence(UniqueName("catch-all"), null, received, Activity("reply", "Platform.SendReply", ("text", Literal("String", "hello"))));
    }

    private async Task<HttpResponseMessage> PublishAsync(JsonObject model, bool publish = true) =>
        await server.Admin.PostAsJsonAsync($"{Api}/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = publish });

    [Fact]
    public async Task Should_RefuseWithTheRule_When_ASecondCatchAllIsPublishedOnTheSameChannel()
    {
        // Arrange
        var channel = "web-" + Guid.NewGuid().ToString("N")[..8];
        var first = await (await PublishAsync(CatchAll(channel))).ReadJsonAsync(HttpStatusCode.OK);
        var firstId = first["workflowDefinition"].Str("definitionId");

        // Act
        using var second = await PublishAsync(CatchAll(channel));

        // Assert
        var problem = await second.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains(firstId, problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("Every published workflow whose Message Received accepts a message runs", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("Text pattern", problem.Str("detail"), StringComparison.Ordinal);
        // A pattern, another channel, or a new version of the same workflow are fine.
        (await PublishAsync(CatchAll(channel, "^(order|status)\\b"))).EnsureSuccessStatusCode();
        (await PublishAsync(CatchAll(channel + "-other"))).EnsureSuccessStatusCode();
        var again = CatchAll(channel);
        again["definitionId"] = firstId;
        (await PublishAsync(again)).EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Should_RefuseThePublishAction_When_TheDraftWouldCatchTheSameMessages()
    {
        // Arrange: a published catch-all and a draft of another one on the same channel (drafts are fine).
        var channel = "sms-" + Guid.NewGuid().ToString("N")[..8];
        (await PublishAsync(CatchAll(channel))).EnsureSuccessStatusCode();
        var draft = await (await PublishAsync(CatchAll(channel), publish: false)).ReadJsonAsync(HttpStatusCode.OK);
        var draftId = draft["workflowDefinition"].Str("definitionId");

        // Act
        using var publish = await server.Admin.PostAsJsonAsync($"{Api}/workflow-definitions/{draftId}/publish", new JsonObject());

        // Assert
        var problem = await publish.AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains($"channel '{channel}'", problem.Str("detail"), StringComparison.Ordinal);
        var latest = await server.Admin.GetJsonAsync($"{Api}/workflow-definitions/by-definition-id/{draftId}?versionOptions=Latest");
        Assert.False(latest["isPublished"]!.GetValue<bool>());
    }
    [Fact]
    public async Task Should_ListTheSecondCatchAllAsFailed_When_DraftsAreBulkPublished()
    {
        // Arrange: two drafts that each catch every message on the same channel.
        var channel = "bulk-" + Guid.NewGuid().ToString("N")[..8];
        var first = (await (await PublishAsync(CatchAll(channel), publish: false)).ReadJsonAsync(HttpStatusCode.OK))["workflowDefinition"].Str("definitionId");
        var second = (await (await PublishAsync(CatchAll(channel), publish: false)).ReadJsonAsync(HttpStatusCode.OK))["workflowDefinition"].Str("definitionId");

        // Act: the Studio's "Publish" bulk action on both.
        using var response = await server.Admin.PostAsJsonAsync($"{Api}/bulk-actions/publish/workflow-definitions/by-definition-ids",
            new JsonObject { ["definitionIds"] = new JsonArray(first, second) });

        // Assert: the first is published, the second refused with the rule, and it stays a draft.
        var result = await response.ReadJsonAsync(HttpStatusCode.OK);
        Assert.Equal([first], result["published"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal([second], result["failed"]!.AsArray().Select(n => n!.GetValue<string>()));
        var reason = result["warnings"]![second]![0]!.GetValue<string>();
        Assert.Contains(first, reason, StringComparison.Ordinal);
        Assert.Contains("Every published workflow whose Message Received accepts a message runs", reason, StringComparison.Ordinal);
        var latest = await server.Admin.GetJsonAsync($"{Api}/workflow-definitions/by-definition-id/{second}?versionOptions=Latest");
        Assert.False(latest["isPublished"]!.GetValue<bool>());
    }
}
