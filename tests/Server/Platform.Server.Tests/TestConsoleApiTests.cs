using System.Net;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary><c>POST /api/test-console/messages</c>: a console message takes the inbox path and answers workflow, path and replies.</summary>
public sealed class TestConsoleApiTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static JsonObject Js(string script) => new()
    {
        ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = script },
    };

    /// <summary>A web chat channel of its own, answered by an echo workflow.</summary>
    private async Task<(string Channel, string DefinitionId)> CreateEchoAsync()
    {
        var name = "console-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = name, ["kind"] = "WebChat" }, HttpStatusCode.Created);
        var saved = await server.Admin.SaveAsync(Sequence(UniqueName("console echo"), null,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", name))),
            Activity("reply", "Platform.SendReply", ("text", Js("'echo: ' + getOutput('received', 'Text')")))), publish: true);
        return (name, saved.Str("definitionId"));
    }

    [Fact]
    public async Task Should_AnswerTheWorkflowPathAndReply_When_AnAnalystSendsAConsoleMessage()
    {
        // Arrange
        var (channel, definitionId) = await CreateEchoAsync();

        // Act
        var result = await server.Admin.PostJsonAsync("/api/test-console/messages",
            new JsonObject { ["channel"] = channel, ["userId"] = "ada", ["text"] = "hello" });

        // Assert
        Assert.Equal("Processed", result.Str("status"));
        Assert.Equal(definitionId, result.Str("workflowDefinitionId"));
        Assert.StartsWith("Finished", result.Str("workflowStatus"));
        var instanceId = result.Str("workflowInstanceId");
        Assert.Equal($"/workflows/instances/{instanceId}/view", result.Str("instanceUrl"));
        Assert.Equal(["received", "reply"], result["path"]!.AsArray().Select(s => s.Str("activityId")));
        Assert.Equal(["echo: hello"], result["replies"]!.AsArray().Select(r => r.Str("text")));
        Assert.Equal($"webchat:{channel}:console-ada", result.Str("conversationKey"), ignoreCase: true);
        var journal = await server.Admin.GetJsonAsync($"{ApiClient.Api}/workflow-instances/{instanceId}");
        Assert.Equal(instanceId, journal.Str("id"));
    }

    [Fact]
    public async Task Should_SayNoWorkflowRan_When_NothingListensOnTheChannel()
    {
        // Arrange: a channel without workflows answers with its fallback text.
        var name = "console-" + Guid.NewGuid().ToString("N")[..10];
        await server.Admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = name, ["kind"] = "WebChat", ["settings"] = new JsonObject { ["fallbackText"] = "Nobody is here." },
        }, HttpStatusCode.Created);

        // Act
        var result = await server.Admin.PostJsonAsync("/api/test-console/messages", new JsonObject { ["channel"] = name, ["text"] = "anyone?" });

        // Assert
        Assert.Null(result["workflowInstanceId"]);
        Assert.Empty(result["path"]!.AsArray());
        Assert.Equal(["Nobody is here."], result["replies"]!.AsArray().Select(r => r.Str("text")));
    }

    [Fact]
    public async Task Should_Answer4xx_When_TheConsoleMessageIsBadOrTheKeyMayNotSendIt()
    {
        using var empty = await server.Admin.PostRawAsync("/api/test-console/messages", """{"channel":"web","text":" "}""");
        using var unknown = await server.Admin.PostRawAsync("/api/test-console/messages", """{"channel":"no-such-channel","text":"hi"}""");
        using var timeout = await server.Admin.PostRawAsync("/api/test-console/messages", """{"text":"hi","timeoutSeconds":600}""");
        using var colon = await server.Admin.PostRawAsync("/api/test-console/messages", """{"text":"hi","conversation":"a:b"}""");
        using var broken = await server.Admin.PostRawAsync("/api/test-console/messages", "{");
        using var reader = await server.Operator.PostRawAsync("/api/test-console/messages", """{"text":"hi"}""");

        Assert.Contains("text", (await empty.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"));
        Assert.Contains("no-such-channel", (await unknown.AssertProblemAsync(HttpStatusCode.NotFound)).Str("title"));
        await timeout.AssertProblemAsync(HttpStatusCode.BadRequest);
        await colon.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, reader.StatusCode);
    }
}
