using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Xunit;

namespace Platform.Engine.Tests;

/// <summary>Workflow persistence modes (options.commitStrategyName): what a run that finishes in one burst leaves in the stores.</summary>
public class PersistenceModeTests
{
    private static IWorkflowInstanceStore Instances(EngineFixture engine) => engine.Services.GetRequiredService<IWorkflowInstanceStore>();

    private static FlowBuilder Http(string path) => new FlowBuilder()
        .Activity("http", "Elsa.HttpEndpoint", new { Path = path })
        .Activity("say", "Elsa.WriteLine", new { Text = "hi" })
        .Connect("http", "say");

    private static async Task<RunWorkflowResult> CallAsync(EngineFixture engine, string path) =>
        Assert.Single(await engine.Runtime.TriggerAsync(new TriggerRequest("Elsa.HttpEndpoint", "GET:/" + path)));

    [Fact]
    public async Task Should_Not_Store_Instance_Or_Journal_When_Http_Workflow_Without_Setting_Finishes()
    {
        await using var engine = new EngineFixture();
        await engine.PublishAsync(Http("np-default"));

        var run = await CallAsync(engine, "np-default");

        Assert.Equal(WorkflowSubStatus.Finished, run.SubStatus);
        Assert.Null(await Instances(engine).FindAsync(run.InstanceId));
        Assert.Empty(await engine.ExecutedActivityIdsAsync(run.InstanceId));
    }

    [Fact]
    public async Task Should_Store_Instance_When_Http_Workflow_Sets_Persistence_Full()
    {
        await using var engine = new EngineFixture();
        await engine.PublishAsync(Http("np-full").Option(WorkflowPersistenceModes.OptionName, "Full"));

        var run = await CallAsync(engine, "np-full");

        Assert.Equal(WorkflowSubStatus.Finished, (await Instances(engine).FindAsync(run.InstanceId))!.SubStatus);
        Assert.Equal(["http", "say"], await engine.ExecutedActivityIdsAsync(run.InstanceId));
    }

    [Fact]
    public async Task Should_Store_Faulted_Instance_When_Persistence_Is_OnFaultOnly()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder().Activity("bad", "Elsa.WriteLine", new { Text = Expr.Js("throw new Error('boom')") })
            .Option(WorkflowPersistenceModes.OptionName, "OnFaultOnly");
        var ok = new FlowBuilder().Activity("good", "Elsa.WriteLine", new { Text = "fine" }).Option(WorkflowPersistenceModes.OptionName, "OnFaultOnly");

        var faulted = await engine.RunAsync(flow);
        var finished = await engine.RunAsync(ok);

        Assert.Equal(WorkflowSubStatus.Faulted, faulted.SubStatus);
        var stored = await Instances(engine).FindAsync(faulted.InstanceId);
        Assert.Equal(WorkflowSubStatus.Faulted, stored!.SubStatus);
        Assert.NotEmpty(stored.State.Incidents);
        Assert.Contains("bad", await engine.ExecutedActivityIdsAsync(faulted.InstanceId));
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
        Assert.Null(await Instances(engine).FindAsync(finished.InstanceId));
    }

    [Fact]
    public async Task Should_Not_Store_Faulted_Instance_When_Persistence_Is_None()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder().Activity("bad", "Elsa.WriteLine", new { Text = Expr.Js("throw new Error('boom')") })
            .Option(WorkflowPersistenceModes.OptionName, "None");

        var run = await engine.RunAsync(flow);

        Assert.Equal(WorkflowSubStatus.Faulted, run.SubStatus);
        Assert.Null(await Instances(engine).FindAsync(run.InstanceId));
        Assert.Empty(await engine.ExecutedActivityIdsAsync(run.InstanceId));
    }

    [Fact]
    public async Task Should_Store_Instance_When_Workflow_With_Persistence_None_Creates_A_Bookmark()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Activity("wait", "Elsa.Delay", new { TimeSpan = "01:00:00" })
            .Activity("done", "Elsa.WriteLine", new { Text = "done" })
            .Connect("wait", "done")
            .Option(WorkflowPersistenceModes.OptionName, "None");

        var started = await engine.RunAsync(flow);
        Assert.Equal(WorkflowSubStatus.Suspended, (await Instances(engine).FindAsync(started.InstanceId))!.SubStatus);
        var resumed = await engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(started.InstanceId, started.Instance.State.Bookmarks.Single().Id));

        // A stored instance stays stored to its end, so its history is complete.
        Assert.Equal(WorkflowSubStatus.Finished, resumed.SubStatus);
        Assert.Equal(WorkflowSubStatus.Finished, (await Instances(engine).FindAsync(started.InstanceId))!.SubStatus);
        Assert.Contains("done", await engine.ExecutedActivityIdsAsync(started.InstanceId));
    }

    [Theory]
    [InlineData("full", WorkflowPersistence.Full)]
    [InlineData("OnFaultOnly", WorkflowPersistence.OnFaultOnly)]
    [InlineData("NONE", WorkflowPersistence.None)]
    [InlineData("Elsa.Unknown", null)]
    [InlineData("", null)]
    public void Should_Read_The_Mode_When_Options_Name_It(string name, WorkflowPersistence? expected)
    {
        var options = new System.Text.Json.Nodes.JsonObject { [WorkflowPersistenceModes.OptionName] = name };
        Assert.Equal(expected, WorkflowPersistenceModes.Parse(options));
    }
}
