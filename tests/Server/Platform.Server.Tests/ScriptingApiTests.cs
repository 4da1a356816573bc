using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;
using static Platform.Server.Tests.Infrastructure.ApiClient;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary>POST /elsa/api/scripting/javascript/type-definitions/{id}: the JavaScript editor's IntelliSense declarations.</summary>
public sealed class ScriptingApiTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    [Fact]
    public async Task Should_DeclareVariablesInputAndActivityOutputs_When_TheStudioAsksForTypeDefinitions()
    {
        // Arrange: a message workflow with two variables.
        var variables = new JsonArray(
            new JsonObject { ["id"] = "v1", ["name"] = "room", ["typeName"] = "String" },
            new JsonObject { ["id"] = "v2", ["name"] = "count", ["typeName"] = "Int32" });
        var model = Sequence(UniqueName("scripting"), variables,
            Activity("received", "Platform.MessageReceived", ("channel", Literal("String", "scripting-" + Guid.NewGuid().ToString("N")[..8]))),
            Activity("reply", "Platform.SendReply", ("text", Literal("String", "hi"))));
        var id = (await server.Admin.SaveAsync(model, publish: false)).Str("definitionId");

        // Act: what the Studio's Monaco handler sends.
        using var response = await server.Operator.PostAsJsonAsync($"{Api}/scripting/javascript/type-definitions/{id}",
            new JsonObject { ["workflowDefinitionId"] = id, ["activityTypeName"] = "Platform.SendReply", ["propertyName"] = "Text" });

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ts = await response.Content.ReadAsStringAsync();
        Assert.Contains("declare const variables: { \"room\": string; \"count\": number; };", ts, StringComparison.Ordinal);
        Assert.Contains("declare const input: { message?:", ts, StringComparison.Ordinal);
        Assert.Contains("declare function getOutput(activityId: \"received\", name: \"Text\"): string;", ts, StringComparison.Ordinal);
        Assert.Contains("declare function getOutput(activityId: \"reply\", name: \"MessageId\"): string;", ts, StringComparison.Ordinal);
        Assert.Contains("declare function getConversationHistory(", ts, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_Answer404WithHowTo_When_TheDefinitionDoesNotExist()
    {
        using var response = await server.Admin.PostAsJsonAsync($"{Api}/scripting/javascript/type-definitions/no-such-definition", new JsonObject());
        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Should_Answer401_When_NoKeyIsSent()
    {
        using var anonymous = server.Factory.CreateClient(apiKey: null);
        using var response = await anonymous.PostAsJsonAsync($"{Api}/scripting/javascript/type-definitions/any", new JsonObject());
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
