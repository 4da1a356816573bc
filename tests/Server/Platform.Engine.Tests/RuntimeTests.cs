using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Models;
using Platform.Engine.Stores;
using Xunit;

namespace Platform.Engine.Tests;

public class RuntimeTests
{
    [Fact]
    public async Task Should_Suspend_On_Bookmark_And_Resume_With_State_When_Delay_Is_Resumed()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Variable("n", "Int32", 41)
            .Activity("wait", "Elsa.Delay", new { TimeSpan = "01:00:00" })
            .Activity("inc", "Elsa.SetVariable", new { Variable = System.Text.Json.Nodes.JsonValue.Create("n"), Value = Expr.Js("variables.n + 1") })
            .Connect("wait", "inc");

        var started = await engine.RunAsync(flow);
        Assert.Equal(WorkflowSubStatus.Suspended, started.SubStatus);
        var bookmark = Assert.Single(started.Instance.State.Bookmarks);
        Assert.Equal("Elsa.Delay", bookmark.Name);
        Assert.NotNull(bookmark.ResumeAt);

        var resumed = await engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(started.InstanceId, bookmark.Id));

        Assert.Equal(WorkflowSubStatus.Finished, resumed.SubStatus);
        Assert.Equal(42, Assert.IsType<int>(resumed.Instance.State.Variables["n"]));
        await Assert.ThrowsAsync<WorkflowRequestException>(() => engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(started.InstanceId, bookmark.Id)));
    }

    [Fact]
    public async Task Should_Fire_Due_Timer_After_Restart_When_Process_Was_Down()
    {
        // Arrange: one store outlives two "processes" (service providers).
        var store = new InMemoryStore();
        string instanceId;
        await using (var first = new EngineFixture(s => s.AddSingleton(store)))
        {
            var flow = new FlowBuilder().Activity("wait", "Elsa.Delay", new { TimeSpan = "200ms" }).Activity("done", "Elsa.WriteLine", new { Text = "done" }).Connect("wait", "done");
            instanceId = (await first.RunAsync(flow)).InstanceId; // no hosted services run: the "process" dies before the timer fires
        }
        await Task.Delay(300);

        // Act: the second process starts its timer loop.
        await using var second = new EngineFixture(s => s.AddSingleton(store));
        var hosted = second.Services.GetServices<IHostedService>().ToList();
        foreach (var h in hosted) await h.StartAsync(CancellationToken.None);
        WorkflowInstance? instance = null;
        for (var i = 0; i < 50 && instance?.SubStatus != WorkflowSubStatus.Finished; i++)
        {
            await Task.Delay(100);
            instance = await store.FindAsync(instanceId);
        }
        foreach (var h in hosted) await h.StopAsync(CancellationToken.None);

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, instance!.SubStatus);
        Assert.Contains("done", await second.ExecutedActivityIdsAsync(instanceId));
    }

    [Fact]
    public async Task Should_Start_Published_Workflow_When_Http_Trigger_Matches()
    {
        await using var engine = new EngineFixture();
        var flow = new FlowBuilder()
            .Activity("http", "Elsa.HttpEndpoint", new { Path = "orders", SupportedMethods = new Expr("Object", "[\"POST\"]") })
            .Activity("echo", "Elsa.WriteLine", new { Text = Expr.Js("getOutput('http', 'Body').item") })
            .Connect("http", "echo")
            .Option(WorkflowPersistenceModes.OptionName, "Full"); // keep the journal to look at (HTTP workflows default to OnFaultOnly)
        await engine.PublishAsync(flow);

        var results = await engine.Runtime.TriggerAsync(new TriggerRequest("Elsa.HttpEndpoint", "POST:/orders")
        {
            Input = new Dictionary<string, object?> { ["body"] = new Dictionary<string, object?> { ["item"] = "tea" } },
        });

        var run = Assert.Single(results);
        Assert.Equal(WorkflowSubStatus.Finished, run.SubStatus);
        var journal = await engine.Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = run.InstanceId, ActivityId = "echo" }, new PageArgs());
        Assert.Equal("tea", journal.Items.Single().ActivityState["text"]?.ToString());
        Assert.Empty(await engine.Runtime.TriggerAsync(new TriggerRequest("Elsa.HttpEndpoint", "GET:/orders")));
    }

    [Fact]
    public async Task Should_Not_Start_Workflow_When_Trigger_Was_Retracted()
    {
        await using var engine = new EngineFixture();
        var d = await engine.PublishAsync(new FlowBuilder().Activity("http", "Elsa.HttpEndpoint", new { Path = "gone" }));

        await engine.Definitions.RetractAsync(d.DefinitionId);

        Assert.Empty(await engine.Runtime.TriggerAsync(new TriggerRequest("Elsa.HttpEndpoint", "GET:/gone")));
    }

    [Fact]
    public async Task Should_Return_Child_Output_When_RunWorkflow_Calls_Sub_Workflow()
    {
        await using var engine = new EngineFixture();
        await engine.PublishAsync(new FlowBuilder("child").Activity("out", "Elsa.WriteLine", new { Text = Expr.Js("setOutput('answer', getInput('q') * 2); 'ok'") }));
        var parent = new FlowBuilder()
            .Activity("call", "Elsa.RunWorkflow", new { WorkflowDefinitionId = "child", Input = Expr.Js("({ q: 21 })") })
            .Activity("show", "Elsa.WriteLine", new { Text = Expr.Js("String(getOutput('call', 'Result').answer)") })
            .Connect("call", "show");

        var result = await engine.RunAsync(parent);

        Assert.Equal(WorkflowSubStatus.Finished, result.SubStatus);
        var show = await engine.Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = result.InstanceId, ActivityId = "show" }, new PageArgs());
        Assert.Equal("42", show.Items.Single().ActivityState["text"]?.ToString());
    }

    [Fact]
    public async Task Should_Resume_Parent_When_Suspended_Child_Finishes()
    {
        await using var engine = new EngineFixture();
        await engine.PublishAsync(new FlowBuilder("slowchild").Activity("wait", "Elsa.Delay", new { TimeSpan = "1h" }));
        var parent = await engine.RunAsync(new FlowBuilder().Activity("call", "Elsa.RunWorkflow", new { WorkflowDefinitionId = "slowchild" }));
        Assert.Equal(WorkflowSubStatus.Suspended, parent.SubStatus);
        var childId = parent.Instance.State.Bookmarks.Single().Key!;
        var childBookmark = (await engine.Services.GetRequiredService<IBookmarkStore>().FindByInstanceAsync(childId)).Single();

        await engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(childId, childBookmark.Id));

        var after = await engine.Services.GetRequiredService<IWorkflowInstanceStore>().FindAsync(parent.InstanceId);
        Assert.Equal(WorkflowSubStatus.Finished, after!.SubStatus);
    }

    [Fact]
    public async Task Should_Cancel_Suspended_Instance_And_Drop_Bookmarks_When_Cancelled()
    {
        await using var engine = new EngineFixture();
        var run = await engine.RunAsync(new FlowBuilder().Activity("wait", "Elsa.Delay", new { TimeSpan = "1h" }));

        Assert.True(await engine.Runtime.CancelAsync(run.InstanceId));

        var instance = await engine.Services.GetRequiredService<IWorkflowInstanceStore>().FindAsync(run.InstanceId);
        Assert.Equal(WorkflowSubStatus.Cancelled, instance!.SubStatus);
        Assert.Empty(await engine.Services.GetRequiredService<IBookmarkStore>().FindByInstanceAsync(run.InstanceId));
        Assert.False(await engine.Runtime.CancelAsync(run.InstanceId));
    }

    [Fact]
    public async Task Should_Parse_Script_Once_When_Same_Expression_Runs_Many_Times()
    {
        await using var engine = new EngineFixture();
        var js = engine.Services.GetServices<IExpressionEvaluator>().OfType<JavaScriptEvaluator>().Single();
        var flow = new FlowBuilder().Activity("w", "Elsa.WriteLine", new { Text = Expr.Js("'cached-' + (1 + 1)") });
        var d = await engine.PublishAsync(flow);
        var before = js.CachedScriptCount;

        for (var i = 0; i < 20; i++) await engine.Runtime.StartAsync(new StartWorkflowRequest(d.DefinitionId));

        Assert.Equal(before + 1, js.CachedScriptCount);
    }

    [Fact]
    public async Task Should_Keep_One_Published_Version_And_Create_Draft_When_Saving_Over_Published()
    {
        await using var engine = new EngineFixture();
        var v1 = await engine.PublishAsync(new FlowBuilder("versioned").Activity("a", "Elsa.WriteLine", new { Text = "v1" }));

        var v2 = (await engine.Definitions.SaveAsync(new FlowBuilder("versioned").Activity("a", "Elsa.WriteLine", new { Text = "v2" }).Build(), publish: false)).Definition;

        Assert.Equal(2, v2.Version);
        Assert.False(v2.IsPublished);
        var published = await engine.Definitions.GetAsync("versioned", VersionOptions.Published);
        Assert.Equal(v1.Id, published!.Id);
        Assert.False(published.IsLatest);
        var republished = await engine.Definitions.PublishAsync("versioned");
        Assert.Equal(v2.Id, republished.Definition.Id);
        Assert.False((await engine.Definitions.GetByIdAsync(v1.Id))!.IsPublished);
    }

    [Fact]
    public async Task Should_Reject_Unknown_Expression_Type_With_Clear_Incident()
    {
        await using var engine = new EngineFixture();
        var result = await engine.RunAsync(new FlowBuilder().Activity("w", "Elsa.WriteLine", new { Text = new Expr("Python", "1+1") }));

        Assert.Equal(WorkflowSubStatus.Faulted, result.SubStatus);
        Assert.Contains("'Python' is not supported", result.Instance.State.Incidents.Single().Message);
        Assert.Equal(FaultCodes.Expression, result.Instance.State.Incidents.Single().Code);
    }
}
