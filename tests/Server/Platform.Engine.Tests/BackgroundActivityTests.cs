using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Models;
using Platform.Engine.Runtime;
using Platform.Engine.Stores;
using Xunit;

namespace Platform.Engine.Tests;

/// <summary>A job: reports progress, waits until the test opens its gate, then outputs a text.</summary>
[Activity("Test", "Test", "A slow background job.", Kind = ActivityKind.Job)]
public sealed class SlowJob : Activity
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Gates = new();

    /// <summary>Separates tests.</summary>
    [Input] public Input<string> Key { get; set; } = new("");
    /// <summary>The text to output.</summary>
    [Input] public Input<string> Text { get; set; } = new("");
    /// <summary>Text upper-cased.</summary>
    [Output] public Output<string> Result { get; set; } = new();

    /// <summary>The gate of a key; the job finishes once it is opened.</summary>
    public static TaskCompletionSource Gate(string key) => Gates.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        context.ReportProgress(50, "halfway");
        await Gate(Key.Get(context) ?? "").Task.WaitAsync(TimeSpan.FromSeconds(30), context.CancellationToken);
        context.ReportProgress(100, "done");
        Result.Set(context, (Text.Get(context) ?? "").ToUpperInvariant());
        context.SetVariable("fromJob", "set in the job");
    }
}

/// <summary>An ordinary (inline) activity that takes a while; signals when it has started.</summary>
[Activity("Test", "Test", "A slow inline activity.")]
public sealed class SlowInline : Activity
{
    private static readonly ConcurrentDictionary<string, TaskCompletionSource> Started = new();

    /// <summary>Separates tests.</summary>
    [Input] public Input<string> Key { get; set; } = new("");

    /// <summary>Completes when the activity for the key has started.</summary>
    public static Task StartedAsync(string key) => Started.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        Started.GetOrAdd(Key.Get(context) ?? "", _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        await Task.Delay(TimeSpan.FromMilliseconds(800), CancellationToken.None);
    }
}

public class BackgroundActivityTests
{
    private static EngineFixture NewEngine(InMemoryStore store) => new(s =>
    {
        s.AddSingleton(store);
        s.AddWorkflowEngine(e => e.AddActivity<Flaky>().AddActivity<SlowJob>().AddActivity<SlowInline>());
    });

    private static async Task<WorkflowInstance> WaitForAsync(InMemoryStore store, string instanceId, Func<WorkflowInstance, bool> condition)
    {
        WorkflowInstance? instance = null;
        for (var i = 0; i < 200; i++)
        {
            instance = await store.FindAsync(instanceId);
            if (instance is not null && condition(instance)) return instance;
            await Task.Delay(50);
        }
        Assert.Fail($"Instance {instanceId} did not reach the expected state; it is {instance?.SubStatus}.");
        return instance!;
    }

    private static object? Progress(WorkflowInstance instance, string activityId) =>
        ValueConverter.Normalize(instance.State.Properties.GetValueOrDefault(BackgroundActivities.ProgressProperty)) is IDictionary<string, object?> all && all.TryGetValue(activityId, out var p) ? p : null;

    [Fact]
    public async Task Should_Suspend_While_Job_Runs_And_Finish_With_Output_When_Activity_Is_A_Job()
    {
        // Arrange
        var store = new InMemoryStore();
        await using var engine = NewEngine(store);
        var key = Guid.NewGuid().ToString("N");
        var flow = new FlowBuilder()
            .Variable("fromJob", "String", "").Variable("copy", "String", "")
            .Activity("slow", "Test.SlowJob", new { Key = key, Text = "report" })
            .Activity("after", "Elsa.SetVariable", new { Variable = JsonValue.Create("copy"), Value = Expr.Js("getOutput('slow', 'Result') + '/' + variables.fromJob") })
            .Connect("slow", "after");

        // Act: the burst returns at once, suspended on the background bookmark; the job reports progress.
        var started = await engine.RunAsync(flow);
        var running = await WaitForAsync(store, started.InstanceId, i => Progress(i, "slow") is not null);
        SlowJob.Gate(key).SetResult();
        var finished = await WaitForAsync(store, started.InstanceId, i => i.Status == WorkflowStatus.Finished);

        // Assert
        Assert.Equal(WorkflowSubStatus.Suspended, started.SubStatus);
        Assert.Equal(BackgroundActivities.BookmarkName, Assert.Single(started.Instance.State.Bookmarks).Name);
        Assert.Equal(WorkflowSubStatus.Suspended, running.SubStatus);
        var progress = Assert.IsType<Dictionary<string, object?>>(Progress(running, "slow"));
        Assert.Equal("halfway", progress["message"]);
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
        Assert.Equal("REPORT/set in the job", ValueConverter.Normalize(finished.State.Variables["copy"]));
        var record = (await engine.Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = started.InstanceId, ActivityId = "slow" }, new PageArgs())).Items.Single();
        Assert.Equal(ActivityStatus.Completed, record.Status);
        Assert.Equal("REPORT", ValueConverter.Normalize(record.Outputs["Result"]));
        Assert.Equal("done", Assert.IsType<Dictionary<string, object?>>(ValueConverter.Normalize(record.Payload["progress"]))["message"]);
    }

    [Fact]
    public async Task Should_Run_In_Background_When_Designer_Sets_RunInBackground()
    {
        // Arrange
        var store = new InMemoryStore();
        await using var engine = NewEngine(store);
        var key = Guid.NewGuid().ToString("N");
        var flow = new FlowBuilder()
            .Activity("flaky", "Test.Flaky", new { Key = key, CustomProperties = new JsonObject { ["runInBackground"] = true } })
            .Activity("after", "Elsa.WriteLine", new { Text = "after" })
            .Connect("flaky", "after");

        // Act
        var started = await engine.RunAsync(flow);
        var finished = await WaitForAsync(store, started.InstanceId, i => i.Status == WorkflowStatus.Finished);

        // Assert
        Assert.Equal(BackgroundActivities.BookmarkName, Assert.Single(started.Instance.State.Bookmarks).Name);
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
        Assert.Equal(1L, Convert.ToInt64(ValueConverter.Normalize(finished.State.ActivityOutputs["flaky"]["Attempts"])));
        Assert.Contains("after", await engine.ExecutedActivityIdsAsync(started.InstanceId));
    }

    [Fact]
    public async Task Should_Retry_Background_Activity_When_Job_Fails()
    {
        // Arrange
        var store = new InMemoryStore();
        await using var engine = NewEngine(store);
        var key = Guid.NewGuid().ToString("N");
        var flow = new FlowBuilder().Activity("flaky", "Test.Flaky", new
        {
            Key = key, FailTimes = new Expr("Literal", "1"),
            CustomProperties = new JsonObject { ["runInBackground"] = true, ["retryPolicy"] = new JsonObject { ["maxAttempts"] = 2, ["delay"] = "1h" } },
        });

        // Act: the job fails; the instance waits on a retry bookmark; resuming it dispatches the job again.
        var started = await engine.RunAsync(flow);
        var waiting = await WaitForAsync(store, started.InstanceId, i => i.State.Bookmarks.Any(b => b.Name == BackgroundActivities.RetryBookmarkName));
        await engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(started.InstanceId, waiting.State.Bookmarks.Single().Id));
        var finished = await WaitForAsync(store, started.InstanceId, i => i.Status == WorkflowStatus.Finished);

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
        Assert.Equal(2, Flaky.RunsOf(key));
        var records = (await engine.Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = started.InstanceId }, new PageArgs())).Items;
        Assert.Equal([ActivityStatus.Faulted, ActivityStatus.Completed], records.Select(r => r.Status));
        Assert.Contains("flaky failure 1", records[0].Exception!.Message);
    }

    [Fact]
    public async Task Should_Fault_Instance_When_Background_Job_Fails_Without_Retry_Policy()
    {
        // Arrange
        var store = new InMemoryStore();
        await using var engine = NewEngine(store);
        var key = Guid.NewGuid().ToString("N");
        var flow = new FlowBuilder().Activity("flaky", "Test.Flaky", new
        {
            Key = key, FailTimes = new Expr("Literal", "5"), CustomProperties = new JsonObject { ["runInBackground"] = "true" },
        });

        // Act
        var started = await engine.RunAsync(flow);
        var finished = await WaitForAsync(store, started.InstanceId, i => i.Status == WorkflowStatus.Finished);

        // Assert
        Assert.Equal(WorkflowSubStatus.Faulted, finished.SubStatus);
        Assert.Contains("flaky failure 1", finished.State.Fault!.Message);
        Assert.Equal(1, finished.IncidentCount);
    }

    [Fact]
    public async Task Should_Commit_Running_Burst_Before_Stopping_When_Host_Stops()
    {
        // Arrange
        var store = new InMemoryStore();
        await using var engine = NewEngine(store);
        var hosted = engine.Services.GetServices<IHostedService>().ToList();
        foreach (var h in hosted) await h.StartAsync(CancellationToken.None);
        var key = Guid.NewGuid().ToString("N");
        var definition = await engine.PublishAsync(new FlowBuilder()
            .Activity("slow", "Test.SlowInline", new { Key = key })
            .Activity("after", "Elsa.WriteLine", new { Text = "after" })
            .Connect("slow", "after"));
        var run = Task.Run(() => engine.Runtime.StartAsync(new StartWorkflowRequest(definition.DefinitionId) { InstanceId = key[..16] }));
        await SlowInline.StartedAsync(key).WaitAsync(TimeSpan.FromSeconds(10));

        // Act: stop the host (hosted services in reverse order, as the host does) while the activity runs.
        foreach (var h in Enumerable.Reverse(hosted)) await h.StopAsync(CancellationToken.None);
        var committed = await store.FindAsync(key[..16]);

        // Assert: stopping waited for the burst to finish and commit.
        Assert.NotNull(committed);
        Assert.Equal(WorkflowSubStatus.Finished, committed.SubStatus);
        Assert.Equal(0, engine.Services.GetRequiredService<WorkflowRuntime>().InFlightRuns);
        Assert.Equal(WorkflowSubStatus.Finished, (await run).SubStatus);
    }
}
