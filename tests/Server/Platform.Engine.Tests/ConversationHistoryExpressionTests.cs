using Xunit;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Engine.Tests;

/// <summary>
/// <c>getConversationHistory(n)</c> and <c>conversation.history</c> in an engine without conversation memory (no messaging
/// host): expressions see an empty history. The history itself is tested with the real memory in
/// Platform.Activities.AI.Tests (ConversationHistoryExpressionTests).
/// </summary>
public sealed class ConversationHistoryExpressionTests
{
    private static FlowBuilder Flow() => new FlowBuilder()
        .Variable("fromJs").Variable("fromJsDefault").Variable("fromLiquid")
        .Activity("js", "Elsa.SetVariable", new { Variable = System.Text.Json.Nodes.JsonValue.Create("fromJs"), Value = Expr.Js("JSON.stringify(getConversationHistory(5))") })
        .Activity("jsDefault", "Elsa.SetVariable", new { Variable = System.Text.Json.Nodes.JsonValue.Create("fromJsDefault"), Value = Expr.Js("getConversationHistory().length") })
        .Activity("liquid", "Elsa.SetVariable", new { Variable = System.Text.Json.Nodes.JsonValue.Create("fromLiquid"), Value = Expr.Liquid("{{ conversation.history.size }}/{{ Conversation.History.size }}") })
        .Connect("js", "jsDefault").Connect("jsDefault", "liquid");

    [Fact]
    public async Task Should_SeeAnEmptyHistory_When_NoConversationMemoryIsRegistered()
    {
        // Arrange
        await using var engine = new EngineFixture();
        var definition = await engine.PublishAsync(Flow());

        // Act: started as by a message, with a conversation key, but the host has no memory.
        var result = await engine.Runtime.StartAsync(new StartWorkflowRequest(definition.DefinitionId)
        {
            Properties = new Dictionary<string, object?> { [ConversationMemory.ConversationProperty] = "webchat:web:no-memory" },
        });

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, result.SubStatus);
        Assert.Equal("[]", result.Instance.State.Variables["fromJs"]);
        Assert.Equal(0L, Convert.ToInt64(result.Instance.State.Variables["fromJsDefault"], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("0/0", result.Instance.State.Variables["fromLiquid"]);
    }

    [Fact]
    public async Task Should_SeeAnEmptyHistory_When_TheWorkflowHasNoConversation()
    {
        // Arrange
        await using var engine = new EngineFixture();

        // Act
        var result = await engine.RunAsync(Flow());

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, result.SubStatus);
        Assert.Equal("[]", result.Instance.State.Variables["fromJs"]);
        Assert.Equal("0/0", result.Instance.State.Variables["fromLiquid"]);
    }
}
