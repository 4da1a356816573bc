using System.Text.Json.Nodes;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Engine.Stores;
using Platform.Testing;
using Xunit;

namespace Platform.Scheduling.Hangfire.Tests;

[Collection("Hangfire hosts")] // hosts in one process share Hangfire's static configuration; run them one at a time
public class HangfireSchedulingTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static IHost BuildHost(InMemoryStore store, HangfireStorageKind kind = HangfireStorageKind.InMemory, string? pg = null, bool addServer = true)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(store);
        builder.Services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>());
        builder.Services.AddHangfireScheduling(kind, pg, addServer, workerCount: 2);
        return builder.Build();
    }

    private static JsonObject DelayFlow(string id, string span) => new()
    {
        ["definitionId"] = id, ["name"] = id,
        ["root"] = new JsonObject
        {
            ["id"] = "flow", ["type"] = "Elsa.Flowchart",
            ["activities"] = new JsonArray
            {
                new JsonObject { ["id"] = "wait", ["type"] = "Elsa.Delay", ["timeSpan"] = new JsonObject { ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = span } } },
                new JsonObject { ["id"] = "done", ["type"] = "Elsa.WriteLine", ["text"] = new JsonObject { ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = "done" } } },
            },
            ["connections"] = new JsonArray
            {
                new JsonObject { ["source"] = new JsonObject { ["activity"] = "wait", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "done", ["port"] = "In" } },
            },
        },
    };

    private static async Task<WorkflowInstance> WaitForFinishAsync(IWorkflowInstanceStore instances, string id, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
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
    public async Task Should_Resume_Delay_Through_Hangfire_Job_When_Timer_Is_Due(HangfireStorageKind kind)
    {
        // Arrange
        var pg = kind == HangfireStorageKind.PostgreSql ? await postgres.CreateDatabaseAsync("hangfire") : null;
        var store = new InMemoryStore();
        using var host = BuildHost(store, kind, pg);
        await host.StartAsync();
        var definitions = host.Services.GetRequiredService<IWorkflowDefinitionService>();
        await definitions.SaveAsync(DelayFlow("delay-job", "1s"), publish: true);

        // Act
        var run = await host.Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest("delay-job"));
        var finished = await WaitForFinishAsync(store, run.InstanceId, TimeSpan.FromSeconds(20));
        await host.StopAsync();

        // Assert
        Assert.Equal(WorkflowSubStatus.Suspended, run.SubStatus);
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
        Assert.True(finished.FinishedAt - run.Instance.CreatedAt >= TimeSpan.FromSeconds(1));
    }

    /// <summary>Keeps the log lines of a host.</summary>
    private sealed class LogLines : ILoggerProvider, ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception));
        public void Dispose() { }
    }

    [Fact]
    public async Task Should_Poll_PostgreSql_Queue_At_Configured_Interval_When_QueuePollInterval_Is_Set()
    {
        // Arrange
        var pg = await postgres.CreateDatabaseAsync("hangfire");
        var log = new LogLines();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.AddProvider(log);
        builder.Services.AddSingleton(new InMemoryStore());
        builder.Services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>());
        builder.Services.AddHangfireScheduling(HangfireStorageKind.PostgreSql, pg, workerCount: 1);
        builder.Services.Configure<HangfireSchedulingOptions>(o => o.QueuePollInterval = TimeSpan.FromSeconds(1));
        using var host = builder.Build();

        // Act: Hangfire.PostgreSql writes the options it runs with when its server starts.
        await host.StartAsync();
        await host.StopAsync();

        // Assert
        Assert.Contains(log.Lines, l => l.Contains("Queue poll interval: 00:00:01", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_Reschedule_Timers_From_Workflow_Store_When_In_Memory_Jobs_Were_Lost()
    {
        // Arrange: the first "process" suspends on a timer and dies with its in-memory Hangfire jobs.
        var store = new InMemoryStore();
        string instanceId;
        using (var first = BuildHost(store, addServer: false))
        {
            await first.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(DelayFlow("restart-job", "500ms"), publish: true);
            instanceId = (await first.Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest("restart-job"))).InstanceId;
        }

        // Act: a new process with a fresh in-memory job storage starts.
        using var second = BuildHost(store);
        await second.StartAsync();
        var finished = await WaitForFinishAsync(store, instanceId, TimeSpan.FromSeconds(20));
        await second.StopAsync();

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, finished.SubStatus);
    }

    [Fact]
    public async Task Should_Keep_One_Recurring_Job_Per_Cron_Trigger_And_Remove_It_When_Retracted()
    {
        var store = new InMemoryStore();
        using var host = BuildHost(store);
        await host.StartAsync();
        var definitions = host.Services.GetRequiredService<IWorkflowDefinitionService>();
        var model = new JsonObject
        {
            ["definitionId"] = "nightly", ["name"] = "nightly",
            ["root"] = new JsonObject
            {
                ["id"] = "flow", ["type"] = "Elsa.Flowchart",
                ["activities"] = new JsonArray
                {
                    new JsonObject { ["id"] = "cron", ["type"] = "Elsa.Cron", ["cronExpression"] = new JsonObject { ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = "0 3 * * *" } } },
                    new JsonObject { ["id"] = "log", ["type"] = "Elsa.WriteLine", ["text"] = new JsonObject { ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = "nightly" } } },
                },
                ["connections"] = new JsonArray
                {
                    new JsonObject { ["source"] = new JsonObject { ["activity"] = "cron", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "log", ["port"] = "In" } },
                },
            },
        };

        await definitions.SaveAsync(model, publish: true);
        await definitions.SaveAsync((JsonObject)model.DeepClone(), publish: true); // publishing again must not add a second job

        var jobStorage = host.Services.GetRequiredService<JobStorage>();
        List<RecurringJobDto> Jobs() { using var c = jobStorage.GetConnection(); return c.GetRecurringJobs().Where(j => j.Id.StartsWith("cron:nightly:")).ToList(); }
        var job = Assert.Single(Jobs());
        Assert.Equal("0 3 * * *", job.Cron);

        // Firing the recurring job starts the workflow from its cron trigger.
        host.Services.GetRequiredService<IRecurringJobManager>().Trigger(job.Id);
        Page<WorkflowInstance> started = new([], 0);
        for (var i = 0; i < 100 && started.TotalCount == 0; i++)
        {
            await Task.Delay(100);
            started = await store.FindManyAsync(new WorkflowInstanceFilter { DefinitionId = "nightly" }, new PageArgs());
        }
        Assert.Equal(WorkflowSubStatus.Finished, Assert.Single(started.Items).SubStatus);

        await definitions.RetractAsync("nightly");
        Assert.Empty(Jobs());
        await host.StopAsync();
    }
}
