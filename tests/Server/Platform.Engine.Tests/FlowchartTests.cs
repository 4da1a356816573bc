using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Xunit;

namespace Platform.Engine.Tests;

public class FlowchartTests
{
    [Fact]
    public async Task Should_Finish_And_Journal_Every_Activity_In_Order_When_Flow_Is_Sequential()
    {
        // Arrange
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Activity("start", "Elsa.Start")
            .Activity("hello", "Elsa.WriteLine", new { Text = "Hello" })
            .Activity("end", "Elsa.End")
            .Connect("start", "hello").Connect("hello", "end");

        // Act
        var result = await engine.RunAsync(flow);

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, result.SubStatus);
        Assert.Equal(["start", "hello", "end"], await engine.ExecutedActivityIdsAsync(result.InstanceId));
        var journal = await engine.Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = result.InstanceId }, new PageArgs());
        Assert.All(journal.Items, r => Assert.Equal(ActivityStatus.Completed, r.Status));
        Assert.Equal("Hello", journal.Items[1].ActivityState["text"]?.ToString());
        Assert.Equal("Workflow1:flow1:hello", journal.Items[1].ActivityNodeId);
    }

    [Theory]
    [InlineData(5, "big")]
    [InlineData(1, "small")]
    public async Task Should_Follow_True_Or_False_Port_When_Decision_Evaluates_JavaScript(int count, string expected)
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Variable("count", "Int32", count)
            .Activity("decide", "Elsa.FlowDecision", new { Condition = Expr.Js("variables.count > 3") })
            .Activity("big", "Elsa.WriteLine", new { Text = "big" })
            .Activity("small", "Elsa.WriteLine", new { Text = "small" })
            .Connect("decide", "big", "True").Connect("decide", "small", "False");

        var result = await engine.RunAsync(flow);

        Assert.Equal(["decide", expected], await engine.ExecutedActivityIdsAsync(result.InstanceId));
    }

    [Fact]
    public async Task Should_Take_Matching_Case_When_Switch_Has_Cases()
    {
        await using var engine = new EngineFixture();
        var cases = System.Text.Json.Nodes.JsonNode.Parse("""
            [{"label":"Greeting","condition":{"type":"JavaScript","value":"getInput('text') == 'hi'"}},
             {"label":"Other","condition":{"type":"JavaScript","value":"true"}}]
            """)!;
        var flow = new FlowBuilder()
            .Activity("switch", "Elsa.FlowSwitch", new { Cases = cases })
            .Activity("greet", "Elsa.WriteLine", new { Text = "hello" })
            .Activity("other", "Elsa.WriteLine", new { Text = "other" })
            .Connect("switch", "greet", "Greeting").Connect("switch", "other", "Other");

        var result = await engine.RunAsync(flow, new Dictionary<string, object?> { ["text"] = "hi" });

        Assert.Equal(["switch", "greet"], await engine.ExecutedActivityIdsAsync(result.InstanceId));
    }

    [Fact]
    public async Task Should_Run_Join_Once_When_All_Forked_Branches_Arrive()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Activity("fork", "Elsa.FlowFork", new { Branches = Expr.Js("['a','b']") })
            .Activity("a", "Elsa.SetVariable", new { Variable = System.Text.Json.Nodes.JsonValue.Create("x"), Value = Expr.Js("1") })
            .Activity("b", "Elsa.WriteLine", new { Text = "b" })
            .Activity("join", "Elsa.FlowJoin", new { Mode = "WaitAll" })
            .Activity("after", "Elsa.WriteLine", new { Text = Expr.Liquid("x={{ Variables.x }}") })
            .Connect("fork", "a", "a").Connect("fork", "b", "b").Connect("a", "join").Connect("b", "join").Connect("join", "after");

        var result = await engine.RunAsync(flow);

        var ids = await engine.ExecutedActivityIdsAsync(result.InstanceId);
        Assert.Equal(1, ids.Count(i => i == "join"));
        Assert.Equal("after", ids[^1]);
        var journal = await engine.Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = result.InstanceId, ActivityId = "after" }, new PageArgs());
        Assert.Equal("x=1", journal.Items.Single().ActivityState["text"]?.ToString());
    }

    [Fact]
    public async Task Should_Record_Incident_And_Fault_Instance_When_Expression_Throws()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Activity("bad", "Elsa.WriteLine", new { Text = Expr.Js("throw new Error('boom')") })
            .Activity("next", "Elsa.WriteLine", new { Text = "never" })
            .Connect("bad", "next");

        var result = await engine.RunAsync(flow);

        Assert.Equal(WorkflowSubStatus.Faulted, result.SubStatus);
        Assert.Equal(WorkflowStatus.Finished, result.Instance.Status);
        var incident = Assert.Single(result.Instance.State.Incidents);
        Assert.Equal("bad", incident.ActivityId);
        Assert.Contains("boom", incident.Message);
        Assert.DoesNotContain("next", await engine.ExecutedActivityIdsAsync(result.InstanceId));
    }

    [Fact]
    public async Task Should_Continue_Through_Failed_Port_When_It_Is_Connected()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Activity("bad", "Elsa.WriteLine", new { Text = Expr.Js("undefinedFunction()") })
            .Activity("recover", "Elsa.WriteLine", new { Text = "recovered" })
            .Connect("bad", "recover", "Failed");

        var result = await engine.RunAsync(flow);

        Assert.Equal(WorkflowSubStatus.Finished, result.SubStatus);
        Assert.Single(result.Instance.State.Incidents);
        Assert.Contains("recover", await engine.ExecutedActivityIdsAsync(result.InstanceId));
    }

    [Fact]
    public async Task Should_Fault_With_Clear_Message_When_Activity_Type_Is_Not_Installed()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder().Activity("x", "Acme.DoesNotExist");

        var result = await engine.RunAsync(flow);

        Assert.Equal(WorkflowSubStatus.Faulted, result.SubStatus);
        Assert.Contains("'Acme.DoesNotExist' is not installed", result.Instance.State.Incidents.Single().Message);
    }

    [Fact]
    public async Task Should_Stop_With_Incident_When_Flow_Loops_Forever()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Activity("start", "Elsa.Start")
            .Activity("a", "Elsa.WriteLine", new { Text = "a" })
            .Activity("b", "Elsa.WriteLine", new { Text = "b" })
            .Connect("start", "a").Connect("a", "b").Connect("b", "a");

        var result = await engine.RunAsync(flow);

        Assert.Equal(WorkflowSubStatus.Faulted, result.SubStatus);
        Assert.Contains("loops forever", result.Instance.State.Fault!.Message);
    }

    [Fact]
    public async Task Should_Bind_Output_To_Variable_And_Workflow_Output_When_Activities_Set_Them()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Variable("greeting", "String", "Hi")
            .Activity("set", "Elsa.SetVariable", new { Variable = System.Text.Json.Nodes.JsonNode.Parse("""{"id":"greetingId","name":"greeting"}"""), Value = Expr.Liquid("{{ Variables.greeting }}, {{ Input.name }}!") })
            .Activity("out", "Elsa.WriteLine", new { Text = Expr.Js("setOutput('message', variables.greeting); return variables.greeting") })
            .Connect("set", "out");

        var result = await engine.RunAsync(flow, new Dictionary<string, object?> { ["name"] = "Ada" });

        Assert.Equal("Hi, Ada!", result.Instance.State.Variables["greeting"]);
        Assert.Equal("Hi, Ada!", result.Instance.State.Output["message"]);
    }
}
