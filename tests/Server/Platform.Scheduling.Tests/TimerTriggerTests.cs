using System.Text.Json.Nodes;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore;
using Platform.Testing;
using Xunit;

namespace Platform.Scheduling.Hangfire.Tests;

/// <summary>The <c>Timer</c> activity (trigger and in-workflow wait) and one start per cron/Timer occurrence.</summary>
[Collection("Hangfire hosts")]
public class TimerTriggerTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    /// <summary>A host on the embedded default (in-memory engine store, Hangfire.InMemory) or on PostgreSQL (EF Core stores, Hangfire.PostgreSql).</summary>
    private static IHost BuildHost(string? pg)
    {
        var builder = Host.CreateApplicationBuilder();
        if (pg is null) builder.Services.AddSingleton(new Platform.Engine.Stores.InMemoryStore());
        else builder.Services.AddPlatformPersistence(new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, pg));
        builder.Services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>());
        builder.Services.AddHangfireScheduling(pg is null ? HangfireStorageKind.InMemory : HangfireStorageKind.PostgreSql, pg, workerCount: 2);
        return builder.Build();
    }

    private static JsonObject Literal(string value) => new() { ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value } };

    /// <summary>first → log.</summary>
    private static JsonObject Flow(string id, JsonObject first) => new()
    {
        ["definitionId"] = id, ["name"] = id,
        ["root"] = new JsonObject
        {
            ["id"] = "flow", ["type"] = "Elsa.Flowchart",
            ["activities"] = new JsonArray
            {
                first,
                new JsonObject { ["id"] = "log", ["type"] = "Elsa.WriteLine", ["text"] = Literal("tick") },
            },
            ["connections"] = new JsonArray
            {
                new JsonObject { ["source"] = new JsonObject { ["activity"] = first["id"]!.GetValue<string>(), ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "log", ["port"] = "In" } },
            },
        },
    };

    private static JsonObject TimerFlow(string id, string interval) =>
        Flow(id, new JsonObject { ["id"] = "timer", ["type"] = "Elsa.Timer", ["interval"] = Literal(interval) });

    private static async Task<long> CountAsync(IServiceProvider services, string definitionId)
    {
        using var scope = services.CreateScope();
        var instances = scope.ServiceProvider.GetRequiredService<IWorkflowInstanceStore>();
        return (await instances.FindManyAsync(new WorkflowInstanceFilter { DefinitionId = definitionId }, new PageArgs())).TotalCount;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Should_Start_Workflow_Every_Interval_When_Timer_Trigger_Is_Published(bool onPostgres)
    {
        // Arrange
        var pg = onPostgres ? await postgres.CreateDatabaseAsync("timer") : null;
        using var host = BuildHost(pg);
        await host.StartAsync();
        var definitionId = "every-second-" + Guid.NewGuid().ToString("N")[..8];

        // Act
        await host.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(TimerFlow(definitionId, "00:00:01"), publish: true);
        var count = 0L;
        for (var i = 0; i < 100 && count < 2; i++)
        {
            await Task.Delay(100);
            count = await CountAsync(host.Services, definitionId);
        }
        await host.Services.GetRequiredService<IWorkflowDefinitionService>().RetractAsync(definitionId);
        await host.StopAsync();

        // Assert: at least two starts within 10 s of publishing.
        Assert.True(count >= 2, $"Expected at least two instances, got {count}.");
    }

    [Fact]
    public async Task Should_Remove_Recurring_Job_When_Timer_Workflow_Is_Retracted()
    {
        // Arrange
        using var host = BuildHost(null);
        await host.StartAsync();
        var definitions = host.Services.GetRequiredService<IWorkflowDefinitionService>();
        await definitions.SaveAsync(TimerFlow("every-five-minutes", "5m"), publish: true);
        var storage = host.Services.GetRequiredService<JobStorage>();
        List<RecurringJobDto> Jobs() { using var c = storage.GetConnection(); return c.GetRecurringJobs().Where(j => j.Id.StartsWith("timer:every-five-minutes:")).ToList(); }
        var job = Assert.Single(Jobs());

        // Act
        await definitions.RetractAsync("every-five-minutes");
        var after = Jobs();
        await host.StopAsync();

        // Assert
        Assert.Equal("0 */5 * * * *", job.Cron);
        Assert.Empty(after);
    }

    [Theory]
    [InlineData("500ms")]
    [InlineData("00:00:00")]
    public async Task Should_Reject_Timer_Trigger_When_Interval_Is_Below_One_Second(string interval)
    {
        // Arrange
        using var host = BuildHost(null);
        var definitions = host.Services.GetRequiredService<IWorkflowDefinitionService>();

        // Act
        var e = await Assert.ThrowsAsync<WorkflowValidationException>(() => definitions.SaveAsync(TimerFlow("too-fast", interval), publish: true));

        // Assert
        Assert.Contains("minimum of 1 second", e.Message);
    }

    [Fact]
    public async Task Should_Suspend_And_Resume_When_Timer_Is_Inside_Workflow()
    {
        // Arrange: start → timer (1 s) → log.
        using var host = BuildHost(null);
        await host.StartAsync();
        var model = Flow("timer-inside", new JsonObject { ["id"] = "start", ["type"] = "Elsa.Start" });
        var activities = model["root"]!["activities"]!.AsArray();
        activities.Add(new JsonObject { ["id"] = "timer", ["type"] = "Elsa.Timer", ["interval"] = Literal("1s") });
        var connections = model["root"]!["connections"]!.AsArray();
        connections.Clear();
        connections.Add(new JsonObject { ["source"] = new JsonObject { ["activity"] = "start", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "timer", ["port"] = "In" } });
        connections.Add(new JsonObject { ["source"] = new JsonObject { ["activity"] = "timer", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "log", ["port"] = "In" } });
        await host.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(model, publish: true);

        // Act
        var run = await host.Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest("timer-inside"));
        var instances = host.Services.GetRequiredService<IWorkflowInstanceStore>();
        var instance = await instances.FindAsync(run.InstanceId);
        for (var i = 0; i < 100 && instance!.Status != WorkflowStatus.Finished; i++)
        {
            await Task.Delay(100);
            instance = await instances.FindAsync(run.InstanceId);
        }
        await host.StopAsync();

        // Assert
        Assert.Equal(WorkflowSubStatus.Suspended, run.SubStatus);
        Assert.Equal(WorkflowSubStatus.Finished, instance!.SubStatus);
        Assert.True(instance.FinishedAt - run.Instance.CreatedAt >= TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Should_Start_One_Instance_When_Cron_Job_Runs_Twice_For_Same_Occurrence()
    {
        // Arrange: a published cron workflow on PostgreSQL (engine tables and Hangfire).
        var pg = await postgres.CreateDatabaseAsync("occurrence");
        using var host = BuildHost(pg);
        await host.StartAsync();
        await host.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(
            Flow("nightly-once", new JsonObject { ["id"] = "cron", ["type"] = "Elsa.Cron", ["cronExpression"] = Literal("0 3 * * *") }), publish: true);
        var occurrence = new DateTimeOffset(2026, 3, 1, 3, 0, 0, TimeSpan.Zero);

        // Act: the job runs for the occurrence, its node "dies" before Hangfire marks it done, and Hangfire runs it again.
        bool first, second;
        using (var scope = host.Services.CreateScope()) first = await scope.ServiceProvider.GetRequiredService<CronTriggerJob>().StartOccurrenceAsync("nightly-once", "cron", occurrence);
        using (var scope = host.Services.CreateScope()) second = await scope.ServiceProvider.GetRequiredService<CronTriggerJob>().StartOccurrenceAsync("nightly-once", "cron", occurrence);
        var count = await CountAsync(host.Services, "nightly-once");
        await host.StopAsync();

        // Assert
        Assert.True(first);
        Assert.False(second);
        Assert.Equal(1L, count);
    }

    [Fact]
    public async Task Should_Start_Once_When_Hangfire_Runs_Same_Cron_Job_Again()
    {
        // Arrange
        var pg = await postgres.CreateDatabaseAsync("occurrence");
        using var host = BuildHost(pg);
        await host.StartAsync();
        await host.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(
            Flow("requeued-once", new JsonObject { ["id"] = "cron", ["type"] = "Elsa.Cron", ["cronExpression"] = Literal("0 3 * * *") }), publish: true);
        var manager = host.Services.GetRequiredService<IRecurringJobManager>();
        var storage = host.Services.GetRequiredService<JobStorage>();
        var jobId = CronPublicationHandler.JobId("requeued-once", "cron");

        // Act: trigger the occurrence, then run the very same Hangfire job again (as after a crash before it was marked done).
        manager.Trigger(jobId);
        string? backgroundJobId = null;
        for (var i = 0; i < 100 && (backgroundJobId is null || await CountAsync(host.Services, "requeued-once") == 0); i++)
        {
            await Task.Delay(100);
            using var c = storage.GetConnection();
            backgroundJobId = c.GetRecurringJobs().Single(j => j.Id == jobId).LastJobId;
        }
        Assert.NotNull(backgroundJobId);
        host.Services.GetRequiredService<IBackgroundJobClient>().Requeue(backgroundJobId);
        for (var i = 0; i < 100; i++)
        {
            await Task.Delay(100);
            using var c = storage.GetConnection();
            if (c.GetJobData(backgroundJobId)?.State == "Succeeded" && c.GetStateData(backgroundJobId)?.Reason is null) break;
        }
        await Task.Delay(500);
        var count = await CountAsync(host.Services, "requeued-once");
        await host.StopAsync();

        // Assert
        Assert.Equal(1L, count);
    }
}
