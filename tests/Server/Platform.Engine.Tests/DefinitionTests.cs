using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Flowchart;
using Platform.Engine.Models;
using Xunit;

namespace Platform.Engine.Tests;

public class DefinitionTests
{
    [Fact]
    public async Task Should_Report_Problems_Instead_Of_Throwing_When_Flowchart_Json_Has_Wrong_Types()
    {
        await using var engine = new EngineFixture();
        var materializer = engine.Services.GetRequiredService<WorkflowMaterializer>();
        var root = JsonNode.Parse("""
            {"id": 5, "type": "Elsa.Flowchart", "activities": [{"id": 7, "type": ["x"]}, {"id": "ok", "type": "Elsa.WriteLine", "version": "2"}],
             "connections": {"not": "an array"}}
            """)!.AsObject();

        var graph = materializer.Build(root, null, out var problems);

        Assert.Equal(["ok"], graph.Activities.Select(a => a.Id));
        Assert.Equal(2, graph.Activities[0].Version);
        Assert.Contains(problems, p => p.Message.Contains("no type or id"));
    }

    [Fact]
    public async Task Should_Create_New_Version_And_Keep_Draft_In_History_When_Reverting()
    {
        await using var engine = new EngineFixture();
        await engine.PublishAsync(new FlowBuilder("rev").Activity("a", "Elsa.WriteLine", new { Text = "v1" }));
        var draft = (await engine.Definitions.SaveAsync(new FlowBuilder("rev").Activity("a", "Elsa.WriteLine", new { Text = "draft v2" }).Build(), publish: false)).Definition;

        var reverted = await engine.Definitions.RevertAsync("rev", 1);

        Assert.Equal(3, reverted!.Version);
        Assert.True(reverted.IsLatest);
        Assert.Contains("\"v1\"", reverted.Root.ToJsonString());
        var kept = await engine.Definitions.GetByIdAsync(draft.Id);
        Assert.False(kept!.IsLatest);
        Assert.Contains("draft v2", kept.Root.ToJsonString());
    }
}
