using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Engine.Runtime;
using Platform.Engine.Stores;
using Platform.Testing;
using Xunit;

namespace Platform.Scheduling.Hangfire.Tests;

/// <summary>Always fails with an ordinary (retryable) exception.</summary>
[Platform.Activities.Activity("Test", "Test", "Always fails.")]
public sealed class AlwaysFails : Platform.Activities.Activity
{
    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(Platform.Activities.ActivityExecutionContext context) => throw new InvalidOperationException("always fails");
}

/// <summary>Background activities and retries on Hangfire: <see cref="RunActivityJob"/> and timed retry bookmarks.</summary>
[Collection("Hangfire hosts")]
public class BackgroundJobTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static IHost BuildHost(InMemoryStore store, HangfireStorageKind kind, string? pg)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(store);
        builder.Services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>().AddActivity<AlwaysFails>());
        builder.Services.AddHangfireScheduling(kind, pg, workerCount: 2);
        return builder.Build();
    }

    private static JsonObject Literal(string value) => new() { ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value } };

    /// <summary>write (in the background) → set variable from the write's journal.</summary>
    private static JsonObject Flow(string id, JsonObject writeCustomProperties, string writeType = "Elsa.WriteLine") => new()
    {
        ["definitionId"] = id, ["name"] = id,
        ["root"] = new JsonObject
        {
            ["id"] = "flow", ["type"] = "Elsa.Flowchart",
            ["activities"] = new JsonArray
            {
                new JsonObject
                {
                    ["id"] = "write", ["type"] = writeType, ["customProperties"] = writeCustomProperties, ["text"] = Literal("from a job"),
                },
                new JsonObject { ["id"] = "done", ["type"] = "Elsa.WriteLine", ["text"] = Literal("done") },
            },
            ["connections"] = new JsonArray
            {
                new JsonObject { ["source"] = new JsonObject { ["activity"] = "write", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "done", ["port"] = "In" } },
            },
        },
    };

    private static async Task<WorkflowInstance> WaitForFinishAsync(IWorkflowInstanceStore instances, string id)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var instance = await instances.FindAsync(id);
        while (instance!.Status != WorkflowStatus.Finished && DateTime.UtcNow < until)
        {
            await Task.Delay(100);
            instance = await instances.FindAsync(id);
        }
        return instance;
    }

    [Theory]
    [InlineData(HangfireStorageKind.InMemory)]
    [InlineData(HangfireStorageKind.PostgreSql)]
    public async Task Should_Run_Activity_As_Hangfire_Job_When_It_Runs_In_Background(HangfireStorageKind kind)
    {
        // Arrange
        var pg = kind == HangfireStorageKind.PostgreSql ? await postgres.CreateDatabaseAsync("bgjob") : null;
        var store = new InMemoryStore();
        using var host = BuildHost(store, kind, pg);
        await host.StartAsync();
        await host.Services.GetRequiredService<IWorkflowDefinitionService>()
            .SaveAsync(Flow("bg-job", new JsonObject { [BackgroundActivities.CustomPropertyName] = true }), publish: true);

        // Act
        var run = await host.Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest("bg-job"));
        var finished = await WaitForFinishAsync(store, run.InstanceId);
        // The job is marked succeeded just after its resume commits.
        var monitoring = host.Services.GetRequiredService<JobStorage>().GetMonitoringApi();
        var succeeded = monitoring.SucceededJobs(0, 100);
        for (var i = 0; i < 100 && succeeded.Count == 0; i++)
        {
            await Task.Delay(100);
            succeeded = monitoring.SucceededJobs(0, 100);
        }
        await host.StopAsync();

        // Assert
        Assert.Equal(WorkflowSubStatus.Suspended, run.SubStatus);
        Assert.Equal(BackgroundActivities.BookmarkName, Assert.Single(run.Instance.State.Bookmarks).Name);
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
        Assert.Contains(succeeded, j => j.Value.Job?.Type == typeof(RunActivityJob) && (string)j.Value.Job.Args[0] == run.InstanceId);
        var journal = (await store.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = run.InstanceId }, new PageArgs())).Items;
        Assert.Equal(["write", "done"], journal.Select(r => r.ActivityId));
        Assert.All(journal, r => Assert.Equal(ActivityStatus.Completed, r.Status));
    }

    [Fact]
    public async Task Should_Retry_Faulted_Activity_Through_Hangfire_Timer_When_Policy_Allows()
    {
        // Arrange
        var store = new InMemoryStore();
        using var host = BuildHost(store, HangfireStorageKind.InMemory, null);
        await host.StartAsync();
        var policy = new JsonObject { [RetryPolicy.CustomPropertyName] = new JsonObject { ["maxAttempts"] = 3, ["delay"] = "200ms" } };
        await host.Services.GetRequiredService<IWorkflowDefinitionService>()
            .SaveAsync(Flow("retry-job", policy, "Test.AlwaysFails"), publish: true);

        // Act
        var run = await host.Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest("retry-job"));
        var finished = await WaitForFinishAsync(store, run.InstanceId);
        await host.StopAsync();

        // Assert: three attempts, each journalled, then the fault stands.
        Assert.Equal(WorkflowSubStatus.Suspended, run.SubStatus);
        Assert.Equal(WorkflowSubStatus.Faulted, finished.SubStatus);
        var attempts = (await store.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = run.InstanceId, ActivityId = "write" }, new PageArgs())).Items;
        Assert.Equal(3, attempts.Count);
        Assert.All(attempts, r => Assert.Equal(ActivityStatus.Faulted, r.Status));
    }
}
