using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Hangfire;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Engine.Runtime;
using Platform.Persistence.EFCore;
using Platform.Testing;
using Xunit;

namespace Platform.Scheduling.Hangfire.Tests;

/// <summary>A background activity (<c>Kind = Job</c>) that takes a while and counts its runs per instance.</summary>
[Platform.Activities.Activity("Test", "Test", "Counts its runs.", Kind = Platform.Activities.ActivityKind.Job)]
public sealed class CountedJob : Platform.Activities.Activity
{
    /// <summary>Runs per workflow instance id.</summary>
    public static readonly ConcurrentDictionary<string, int> Runs = new(StringComparer.Ordinal);

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(Platform.Activities.ActivityExecutionContext context)
    {
        Runs.AddOrUpdate(context.WorkflowInstanceId, 1, (_, n) => n + 1);
        await Task.Delay(TimeSpan.FromMilliseconds(1_500), context.CancellationToken);
        context.Complete();
    }
}

/// <summary>
/// Crash recovery on real PostgreSQL (engine tables and Hangfire storage): a node that dies after committing an instance and
/// before enqueuing its job loses nothing (<see cref="JobRecoveryService"/>), and a background job enqueued twice runs its
/// activity once (<see cref="IBackgroundActivityClaim"/>).
/// </summary>
[Collection("Hangfire hosts")]
public class JobRecoveryTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    /// <summary>The node died after the commit, before the enqueue: nothing reaches Hangfire.</summary>
    private sealed class DiesBeforeEnqueue : IBackgroundActivityDispatcher, IBookmarkScheduler
    {
        public ValueTask DispatchAsync(string instanceId, string bookmarkId, CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask ScheduleAsync(string instanceId, string bookmarkId, DateTimeOffset resumeAt, CancellationToken ct) => ValueTask.CompletedTask;
    }

    /// <summary>
    /// A node on <paramref name="pg"/>. With <paramref name="diesBeforeEnqueue"/> it has no Hangfire at all and its dispatcher and
    /// timer scheduler drop everything: it commits like any node and then "dies" before a job reaches Hangfire. (Two Hangfire
    /// hosts alive at once in one process would share Hangfire's static configuration; real two-node tests use processes.)
    /// </summary>
    private static IHost BuildHost(string pg, bool addServer = true, bool diesBeforeEnqueue = false, TimeSpan? grace = null, TimeSpan? interval = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddPlatformPersistence(new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, pg));
        builder.Services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>().AddActivity<CountedJob>());
        if (diesBeforeEnqueue)
        {
            builder.Services.RemoveAll<IBackgroundActivityDispatcher>();
            builder.Services.RemoveAll<IBookmarkScheduler>();
            builder.Services.AddSingleton<DiesBeforeEnqueue>();
            builder.Services.AddSingleton<IBackgroundActivityDispatcher>(sp => sp.GetRequiredService<DiesBeforeEnqueue>());
            builder.Services.AddSingleton<IBookmarkScheduler>(sp => sp.GetRequiredService<DiesBeforeEnqueue>());
            return builder.Build();
        }
        builder.Services.AddHangfireScheduling(HangfireStorageKind.PostgreSql, pg, addServer, workerCount: 4);
        builder.Services.Configure<HangfireSchedulingOptions>(o =>
        {
            o.RecoveryGracePeriod = grace ?? TimeSpan.FromMilliseconds(500);
            o.RecoveryInterval = interval ?? TimeSpan.FromSeconds(1);
        });
        return builder.Build();
    }

    private static JsonObject Literal(string value) => new() { ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value } };

    /// <summary>first → done, where first is <paramref name="first"/>.</summary>
    private static JsonObject Flow(string id, JsonObject first) => new()
    {
        ["definitionId"] = id, ["name"] = id,
        ["root"] = new JsonObject
        {
            ["id"] = "flow", ["type"] = "Elsa.Flowchart",
            ["activities"] = new JsonArray { first, new JsonObject { ["id"] = "done", ["type"] = "Elsa.WriteLine", ["text"] = Literal("done") } },
            ["connections"] = new JsonArray
            {
                new JsonObject { ["source"] = new JsonObject { ["activity"] = first["id"]!.GetValue<string>(), ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "done", ["port"] = "In" } },
            },
        },
    };

    private static JsonObject CountedFlow(string id) => Flow(id, new JsonObject { ["id"] = "work", ["type"] = "Test.CountedJob" });

    private static JsonObject DelayFlow(string id, string span) =>
        Flow(id, new JsonObject { ["id"] = "wait", ["type"] = "Elsa.Delay", ["timeSpan"] = Literal(span) });

    /// <summary>Saves and publishes <paramref name="model"/> and starts it on <paramref name="host"/> (migrating the database first).</summary>
    private static async Task<RunWorkflowResult> StartAsync(IHost host, JsonObject model)
    {
        await host.Services.MigratePlatformDatabaseAsync();
        await host.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(model, publish: true);
        return await host.Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest(model["definitionId"]!.GetValue<string>()));
    }

    private static async Task<WorkflowInstance> WaitForFinishAsync(IHost host, string id, TimeSpan timeout)
    {
        var instances = host.Services.GetRequiredService<IWorkflowInstanceStore>();
        var until = DateTime.UtcNow + timeout;
        var instance = await instances.FindAsync(id);
        while (instance!.Status != WorkflowStatus.Finished && DateTime.UtcNow < until)
        {
            await Task.Delay(100);
            instance = await instances.FindAsync(id);
        }
        return instance;
    }

    private static async Task<List<ActivityExecutionRecord>> JournalAsync(IHost host, string instanceId, string activityId) =>
        (await host.Services.GetRequiredService<IActivityExecutionStore>()
            .FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = instanceId, ActivityId = activityId }, new PageArgs())).Items.ToList();

    [Fact]
    public async Task Should_Run_Background_Activity_When_Node_Died_Between_Commit_And_Enqueue()
    {
        // Arrange: node A commits the instance suspended on its background activity, then dies before enqueuing the job.
        var pg = await postgres.CreateDatabaseAsync("recovery");
        string instanceId;
        using (var nodeA = BuildHost(pg, diesBeforeEnqueue: true))
        {
            var run = await StartAsync(nodeA, CountedFlow("lost-job"));
            instanceId = run.InstanceId;
            Assert.Equal(WorkflowSubStatus.Suspended, run.SubStatus);
            Assert.Equal(BackgroundActivities.BookmarkName, Assert.Single(run.Instance.State.Bookmarks).Name);
        }

        // Act: node B starts; its recovery sweep finds the bookmark without a job once the grace period has passed.
        using var nodeB = BuildHost(pg);
        Assert.Equal(0, nodeB.Services.GetRequiredService<JobStorage>().GetMonitoringApi().EnqueuedCount("default"));
        await nodeB.StartAsync();
        var finished = await WaitForFinishAsync(nodeB, instanceId, TimeSpan.FromSeconds(30));
        await nodeB.StopAsync();

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
        Assert.Equal(1, CountedJob.Runs.GetValueOrDefault(instanceId));
        Assert.Equal(ActivityStatus.Completed, Assert.Single(await JournalAsync(nodeB, instanceId, "work")).Status);
        Assert.Single(await JournalAsync(nodeB, instanceId, "done"));
    }

    [Fact]
    public async Task Should_Fire_Overdue_Timer_When_Node_Died_Between_Commit_And_Schedule_While_Other_Node_Runs()
    {
        // Arrange: node B runs; node A commits an instance suspended on a 300 ms delay, then dies before scheduling the timer job.
        var pg = await postgres.CreateDatabaseAsync("recovery");
        using var nodeB = BuildHost(pg);
        await nodeB.Services.MigratePlatformDatabaseAsync();
        await nodeB.StartAsync();
        string instanceId;
        using (var nodeA = BuildHost(pg, diesBeforeEnqueue: true))
        {
            var run = await StartAsync(nodeA, DelayFlow("lost-timer", "00:00:00.3"));
            instanceId = run.InstanceId;
            Assert.Equal(WorkflowSubStatus.Suspended, run.SubStatus);
        }

        // Act: node B's periodic sweep (every second) finds the timer overdue by more than the grace period.
        var finished = await WaitForFinishAsync(nodeB, instanceId, TimeSpan.FromSeconds(30));
        await nodeB.StopAsync();

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
        Assert.Single(await JournalAsync(nodeB, instanceId, "done"));
    }

    [Fact]
    public async Task Should_Queue_Only_Lost_Jobs_When_Sweeping()
    {
        // Arrange: a node without a Hangfire server, so the job it enqueues stays waiting.
        var pg = await postgres.CreateDatabaseAsync("recovery");
        using var host = BuildHost(pg, addServer: false, grace: TimeSpan.Zero);
        var run = await StartAsync(host, CountedFlow("waiting-job"));
        var bookmarkId = Assert.Single(run.Instance.State.Bookmarks).Id;
        var storage = host.Services.GetRequiredService<JobStorage>();
        var sweep = host.Services.GetRequiredService<JobRecoveryService>();
        string JobOf() { using var c = storage.GetConnection(); return BookmarkJobIndex.Find(c, bookmarkId)!; }
        string? StateOf(string jobId) { using var c = storage.GetConnection(); return c.GetJobData(jobId)?.State; }
        var firstJob = JobOf();
        Assert.NotNull(firstJob);

        // Act / Assert: a waiting job is left alone…
        Assert.Equal(new RecoverySweepResult(0, 0), await sweep.SweepAsync());
        // …a job that is gone (deleted in the dashboard, lost with a storage) is queued again, once.
        host.Services.GetRequiredService<IBackgroundJobClient>().Delete(firstJob);
        Assert.Equal(new RecoverySweepResult(1, 0), await sweep.SweepAsync());
        var secondJob = JobOf();
        Assert.NotEqual(firstJob, secondJob);
        Assert.Equal("Enqueued", StateOf(secondJob));
        Assert.Equal("Deleted", StateOf(firstJob));
        Assert.Equal(new RecoverySweepResult(0, 0), await sweep.SweepAsync());
        // …and a bookmark whose activity runs now (its claim is held) is left alone too.
        host.Services.GetRequiredService<IBackgroundJobClient>().Delete(secondJob);
        await using (await host.Services.GetRequiredService<IBackgroundActivityClaim>().TryClaimAsync(bookmarkId, CancellationToken.None))
            Assert.Equal(new RecoverySweepResult(0, 0), await sweep.SweepAsync());
        Assert.Equal(0, CountedJob.Runs.GetValueOrDefault(run.InstanceId));
    }

    [Fact]
    public async Task Should_Run_Activity_Once_When_Its_Job_Runs_Twice_At_Once()
    {
        // Arrange: the instance waits on its background activity; its job is enqueued but no server runs it.
        var pg = await postgres.CreateDatabaseAsync("recovery");
        using var host = BuildHost(pg, addServer: false);
        var run = await StartAsync(host, CountedFlow("twice-at-once"));
        var bookmarkId = Assert.Single(run.Instance.State.Bookmarks).Id;

        // Act: two workers (two nodes) pick up a job for the same bookmark at the same moment.
        var first = host.Services.GetRequiredService<RunActivityJob>();
        var second = host.Services.GetRequiredService<RunActivityJob>();
        await Task.WhenAll(
            Task.Run(() => first.RunAsync(run.InstanceId, bookmarkId, CancellationToken.None)),
            Task.Run(() => second.RunAsync(run.InstanceId, bookmarkId, CancellationToken.None)));

        // Assert
        var finished = await host.Services.GetRequiredService<IWorkflowInstanceStore>().FindAsync(run.InstanceId);
        Assert.Equal(WorkflowSubStatus.Finished, finished!.SubStatus);
        Assert.Equal(1, CountedJob.Runs.GetValueOrDefault(run.InstanceId));
        Assert.Single(await JournalAsync(host, run.InstanceId, "work"));
        Assert.Single(await JournalAsync(host, run.InstanceId, "done"));
    }

    [Fact]
    public async Task Should_Run_Activity_Once_When_Hangfire_Runs_Two_Jobs_For_One_Bookmark()
    {
        // Arrange
        var pg = await postgres.CreateDatabaseAsync("recovery");
        using var host = BuildHost(pg);
        await host.StartAsync();
        var run = await StartAsync(host, CountedFlow("enqueued-twice"));
        var bookmarkId = Assert.Single(run.Instance.State.Bookmarks).Id;

        // Act: a second job for the same bookmark, as a recovery sweep on another node could queue it.
        var jobs = host.Services.GetRequiredService<IBackgroundJobClient>();
        var duplicate = jobs.Enqueue<RunActivityJob>(j => j.RunAsync(run.InstanceId, bookmarkId, CancellationToken.None));
        var finished = await WaitForFinishAsync(host, run.InstanceId, TimeSpan.FromSeconds(30));
        var storage = host.Services.GetRequiredService<JobStorage>();
        string? StateOf(string jobId) { using var c = storage.GetConnection(); return c.GetJobData(jobId)?.State; }
        for (var i = 0; i < 100 && StateOf(duplicate) != "Succeeded"; i++) await Task.Delay(100);
        var duplicateState = StateOf(duplicate);
        await host.StopAsync();

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
        Assert.Equal("Succeeded", duplicateState);
        Assert.Equal(1, CountedJob.Runs.GetValueOrDefault(run.InstanceId));
        Assert.Single(await JournalAsync(host, run.InstanceId, "work"));
    }
}
