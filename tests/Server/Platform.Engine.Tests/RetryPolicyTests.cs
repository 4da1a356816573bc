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

/// <summary>Fails the first <c>FailTimes</c> runs for its <c>Key</c>, then succeeds; counts runs per key.</summary>
[Activity("Test", "Test", "Fails a given number of times, then succeeds.")]
[FlowNode("Done")]
public sealed class Flaky : Activity
{
    private static readonly ConcurrentDictionary<string, int> Runs = new();

    /// <summary>Separates tests.</summary>
    [Input] public Input<string> Key { get; set; } = new("");
    /// <summary>How many runs fail.</summary>
    [Input] public Input<int> FailTimes { get; set; } = new(0);
    /// <summary>Fail with a non-retryable fault.</summary>
    [Input] public Input<bool> NonRetryable { get; set; } = new(false);
    /// <summary>The run that succeeded.</summary>
    [Output] public Output<int> Attempts { get; set; } = new();

    /// <summary>How often the key ran.</summary>
    public static int RunsOf(string key) => Runs.GetValueOrDefault(key);

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var n = Runs.AddOrUpdate(Key.Get(context) ?? "", 1, (_, v) => v + 1);
        if (NonRetryable.Get(context)) throw new ActivityFaultException("test", "Bad configuration; retrying cannot help.", nonRetryable: true);
        if (n <= FailTimes.Get(context)) throw new InvalidOperationException($"flaky failure {n}");
        Attempts.Set(context, n);
        return ValueTask.CompletedTask;
    }
}

public class RetryPolicyTests
{
    private static EngineFixture NewEngine(Action<IServiceCollection>? configure = null) => new(s =>
    {
        s.AddWorkflowEngine(e => e.AddActivity<Flaky>().AddActivity<SlowJob>().AddActivity<SlowInline>());
        configure?.Invoke(s);
    });

    private static JsonObject Policy(int maxAttempts, string delay, string backoff = "fixed", string? maxDelay = null) => new()
    {
        ["retryPolicy"] = new JsonObject { ["maxAttempts"] = maxAttempts, ["backoff"] = backoff, ["delay"] = delay, ["maxDelay"] = maxDelay },
    };

    private static FlowBuilder FlakyFlow(string key, int failTimes, JsonObject? customProperties, bool nonRetryable = false) => new FlowBuilder()
        .Activity("flaky", "Test.Flaky", new
        {
            Key = key, FailTimes = new Expr("Literal", failTimes.ToString()), NonRetryable = new Expr("Literal", nonRetryable ? "true" : "false"),
            CustomProperties = (JsonNode?)customProperties ?? new JsonObject(),
        })
        .Activity("after", "Elsa.WriteLine", new { Text = Expr.Js("'attempts: ' + getOutput('flaky', 'Attempts')") })
        .Connect("flaky", "after");

    [Fact]
    public async Task Should_Retry_And_Finish_When_Activity_Fails_Fewer_Times_Than_MaxAttempts()
    {
        // Arrange
        await using var engine = NewEngine();
        var key = Guid.NewGuid().ToString("N");

        // Act: the first run fails and waits for a retry on a timed bookmark.
        var first = await engine.RunAsync(FlakyFlow(key, failTimes: 2, Policy(3, "00:01:00")));
        var retry1 = Assert.Single(first.Instance.State.Bookmarks);
        var second = await engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(first.InstanceId, retry1.Id));
        var retry2 = Assert.Single(second.Instance.State.Bookmarks);
        var third = await engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(first.InstanceId, retry2.Id));

        // Assert
        Assert.Equal(WorkflowSubStatus.Suspended, first.SubStatus);
        Assert.Equal(BackgroundActivities.RetryBookmarkName, retry1.Name);
        Assert.InRange(retry1.ResumeAt!.Value - retry1.CreatedAt, TimeSpan.FromSeconds(59), TimeSpan.FromSeconds(61));
        Assert.Equal(WorkflowSubStatus.Finished, third.SubStatus);
        Assert.Equal(0, third.Instance.IncidentCount);
        Assert.Equal(3, Flaky.RunsOf(key));
        var records = (await engine.Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = first.InstanceId }, new PageArgs())).Items
            .Where(r => r.ActivityId == "flaky").ToList();
        Assert.Equal([ActivityStatus.Faulted, ActivityStatus.Faulted, ActivityStatus.Completed], records.Select(r => r.Status));
        Assert.Equal([1L, 2L, 3L], records.Select(r => Convert.ToInt64(ValueConverter.Normalize(r.Payload["attempt"]))));
        Assert.Contains("flaky failure 1", records[0].Exception!.Message);
        Assert.True(records[0].Payload.ContainsKey("nextRetryAt"));
        Assert.Contains("after", await engine.ExecutedActivityIdsAsync(first.InstanceId));
    }

    [Fact]
    public async Task Should_Fault_With_Incident_When_Attempts_Are_Used_Up()
    {
        // Arrange
        await using var engine = NewEngine();
        var key = Guid.NewGuid().ToString("N");

        // Act
        var first = await engine.RunAsync(FlakyFlow(key, failTimes: 10, Policy(2, "1h")));
        var last = await engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(first.InstanceId, first.Instance.State.Bookmarks.Single().Id));

        // Assert
        Assert.Equal(WorkflowSubStatus.Faulted, last.SubStatus);
        Assert.Equal(1, last.Instance.IncidentCount);
        Assert.Equal("flaky", last.Instance.State.Fault!.ActivityId);
        Assert.Contains("flaky failure 2", last.Instance.State.Fault.Message);
        Assert.Empty(last.Instance.State.Bookmarks);
        Assert.Equal(2, Flaky.RunsOf(key));
    }

    [Fact]
    public async Task Should_Continue_Through_Failed_Port_When_Retries_Are_Used_Up()
    {
        // Arrange
        await using var engine = NewEngine();
        var key = Guid.NewGuid().ToString("N");
        var flow = FlakyFlow(key, failTimes: 10, Policy(2, "1s"))
            .Activity("handler", "Elsa.WriteLine", new { Text = "handled" })
            .Connect("flaky", "handler", "Failed");

        // Act
        var first = await engine.RunAsync(flow);
        var beforeRetry = await engine.ExecutedActivityIdsAsync(first.InstanceId);
        var last = await engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(first.InstanceId, first.Instance.State.Bookmarks.Single().Id));

        // Assert: the first failure was retried, not routed; the last one went through "Failed".
        Assert.Equal(WorkflowSubStatus.Suspended, first.SubStatus);
        Assert.DoesNotContain("handler", beforeRetry);
        Assert.Equal(WorkflowSubStatus.Finished, last.SubStatus);
        Assert.Contains("handler", await engine.ExecutedActivityIdsAsync(first.InstanceId));
    }

    [Fact]
    public async Task Should_Not_Retry_When_Fault_Is_NonRetryable()
    {
        // Arrange
        await using var engine = NewEngine();
        var key = Guid.NewGuid().ToString("N");

        // Act
        var result = await engine.RunAsync(FlakyFlow(key, failTimes: 0, Policy(5, "1s"), nonRetryable: true));

        // Assert
        Assert.Equal(WorkflowSubStatus.Faulted, result.SubStatus);
        Assert.Equal(1, Flaky.RunsOf(key));
    }

    [Fact]
    public async Task Should_Fault_And_Explain_When_Retry_Policy_Is_Invalid()
    {
        // Arrange
        await using var engine = NewEngine();
        var key = Guid.NewGuid().ToString("N");

        // Act
        var result = await engine.RunAsync(FlakyFlow(key, failTimes: 1, Policy(3, "1s", backoff: "linear")));

        // Assert
        Assert.Equal(WorkflowSubStatus.Faulted, result.SubStatus);
        var record = (await engine.Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = result.InstanceId }, new PageArgs())).Items.Single();
        Assert.Contains("\"fixed\" or \"exponential\"", Assert.IsType<string>(ValueConverter.Normalize(record.Payload["retryPolicyError"])));
    }

    [Fact]
    public async Task Should_Use_Default_Policy_When_Activity_Sets_None()
    {
        // Arrange
        await using var engine = NewEngine(s => s.Configure<EngineRuntimeOptions>(o =>
            o.DefaultRetryPolicy = new RetryPolicySettings { MaxAttempts = 2, Delay = "00:00:30" }));
        var key = Guid.NewGuid().ToString("N");

        // Act
        var first = await engine.RunAsync(FlakyFlow(key, failTimes: 1, null));
        var last = await engine.Runtime.ResumeAsync(new ResumeWorkflowRequest(first.InstanceId, first.Instance.State.Bookmarks.Single().Id));

        // Assert
        Assert.Equal(WorkflowSubStatus.Suspended, first.SubStatus);
        Assert.Equal(WorkflowSubStatus.Finished, last.SubStatus);
        Assert.Equal(2, Flaky.RunsOf(key));
    }

    [Fact]
    public async Task Should_Retry_Through_In_Process_Timer_When_Delay_Elapses()
    {
        // Arrange: the in-process timer fires the retry bookmark like a Delay.
        var store = new InMemoryStore();
        await using var engine = NewEngine(s => s.AddSingleton(store));
        var hosted = engine.Services.GetServices<IHostedService>().ToList();
        foreach (var h in hosted) await h.StartAsync(CancellationToken.None);
        var key = Guid.NewGuid().ToString("N");

        // Act
        var first = await engine.RunAsync(FlakyFlow(key, failTimes: 2, Policy(3, "50ms", "exponential")));
        WorkflowInstance? instance = null;
        for (var i = 0; i < 100 && instance?.SubStatus != WorkflowSubStatus.Finished; i++)
        {
            await Task.Delay(100);
            instance = await store.FindAsync(first.InstanceId);
        }
        foreach (var h in Enumerable.Reverse(hosted)) await h.StopAsync(CancellationToken.None);

        // Assert
        Assert.Equal(WorkflowSubStatus.Suspended, first.SubStatus);
        Assert.Equal(WorkflowSubStatus.Finished, instance!.SubStatus);
        Assert.Equal(3, Flaky.RunsOf(key));
    }

    [Theory]
    [InlineData("fixed", "2s", null, 2, 2.0)]
    [InlineData("fixed", "00:00:02", null, 4, 2.0)]
    [InlineData("exponential", "2s", null, 2, 2.0)]
    [InlineData("exponential", "2s", null, 3, 4.0)]
    [InlineData("exponential", "2s", null, 4, 8.0)]
    [InlineData("exponential", "2s", "5s", 4, 5.0)]
    [InlineData("exponential", "500ms", "1m", 3, 1.0)]
    public void Should_Compute_Backoff_When_Policy_Is_Parsed(string backoff, string delay, string? maxDelay, int nextAttempt, double expectedSeconds)
    {
        // Arrange
        var policy = RetryPolicy.Parse(new Dictionary<string, object?> { ["maxAttempts"] = 5L, ["backoff"] = backoff, ["delay"] = delay, ["maxDelay"] = maxDelay })!;

        // Act
        var wait = policy.DelayBefore(nextAttempt);

        // Assert
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), wait);
    }

    [Theory]
    [InlineData(0L, "fixed", "1s", "maxAttempts")]
    [InlineData(3L, "sometimes", "1s", "backoff")]
    [InlineData(3L, "fixed", "soon", "delay")]
    public void Should_Reject_Policy_With_Clear_Message_When_Value_Is_Invalid(long maxAttempts, string backoff, string delay, string field)
    {
        // Act
        var e = Assert.Throws<FormatException>(() =>
            RetryPolicy.Parse(new Dictionary<string, object?> { ["maxAttempts"] = maxAttempts, ["backoff"] = backoff, ["delay"] = delay }));

        // Assert
        Assert.Contains($"retryPolicy.{field}", e.Message);
    }
}
