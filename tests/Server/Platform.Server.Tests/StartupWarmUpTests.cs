using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Runtime;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>
/// The start-up warm-up compiles the message path (database queries and writes, expressions, message rendering) in the
/// background, and leaves nothing behind in the database.
/// </summary>
public sealed class StartupWarmUpTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Theory]
    [InlineData("Sqlite")]
    [InlineData("PostgreSql")]
    public async Task Should_Finish_Every_Step_And_Leave_No_Rows_When_The_Server_Starts(string provider)
    {
        // Arrange
        using var dir = new TempDirectory();
        var connectionString = provider == "PostgreSql" ? await postgres.CreateDatabaseAsync("warmup") : null;
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path, provider, connectionString));

        // Act
        var warmUp = factory.Services.GetRequiredService<StartupWarmUpService>();
        await warmUp.Completion.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        // Assert
        Assert.Empty(warmUp.FailedSteps);
        var ct = TestContext.Current.CancellationToken;
        Assert.Empty((await factory.Services.GetRequiredService<IInboxStore>().ListAsync(null, null, new PageArgs(), ct)).Items);
        Assert.Empty((await factory.Services.GetRequiredService<IOutboxStore>().ListAsync(null, null, null, new PageArgs(), ct)).Items);
        Assert.Empty((await factory.Services.GetRequiredService<IWorkflowInstanceStore>().FindManyAsync(new WorkflowInstanceFilter(), new PageArgs(), ct: ct)).Items);
        Assert.Empty((await factory.Services.GetRequiredService<IActivityExecutionStore>().FindManyAsync(new ActivityExecutionFilter(), new PageArgs(), ct)).Items);
    }

    [Fact]
    public async Task Should_Run_The_Other_Steps_And_Name_The_Failed_One_When_A_Step_Throws()
    {
        // Arrange
        using var dir = new TempDirectory();
        var after = new RecordingStep("after");
        await using var server = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path));
        await using var factory = server.WithWebHostBuilder(b => b.ConfigureServices(s =>
        {
            s.AddSingleton<IStartupWarmUp>(new FailingStep());
            s.AddSingleton<IStartupWarmUp>(after);
        }));

        // Act
        var warmUp = factory.Services.GetRequiredService<StartupWarmUpService>();
        await warmUp.Completion.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(["failing"], warmUp.FailedSteps);
        Assert.True(after.Ran);
    }

    [Fact]
    public async Task Should_Run_No_Step_When_Warm_Up_Is_Turned_Off()
    {
        // Arrange
        using var dir = new TempDirectory();
        var step = new RecordingStep("recording");
        var settings = PlatformServerFactory.WithKeys(dir.Path);
        settings["Platform:Engine:WarmUp"] = "false";
        await using var server = new PlatformServerFactory(settings);
        await using var factory = server.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupWarmUp>(step)));

        // Act
        var warmUp = factory.Services.GetRequiredService<StartupWarmUpService>();
        await warmUp.Completion.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        // Assert
        Assert.False(step.Ran);
    }

    [Fact]
    public async Task Should_Answer_WarmingUp_On_Ready_Until_The_Warm_Up_Has_Finished_When_A_Step_Is_Still_Running()
    {
        // Arrange
        using var dir = new TempDirectory();
        var step = new BlockingStep();
        await using var server = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path));
        await using var factory = server.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupWarmUp>(step)));
        using var client = factory.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        await step.Started.Task.WaitAsync(TimeSpan.FromSeconds(60), ct);

        // Act
        using var warming = await client.GetAsync("/health/ready", ct);
        using var alive = await client.GetAsync("/health", ct);
        step.Release.SetResult();
        await factory.Services.GetRequiredService<StartupWarmUpService>().Completion.WaitAsync(TimeSpan.FromSeconds(60), ct);
        using var ready = await client.GetAsync("/health/ready", ct);

        // Assert
        Assert.Equal(HttpStatusCode.ServiceUnavailable, warming.StatusCode);
        Assert.Equal("WarmingUp", (await warming.Content.ReadFromJsonAsync<JsonObject>(ct))!["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    private sealed class BlockingStep : IStartupWarmUp
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public string Name => "blocking";

        public async Task WarmUpAsync(CancellationToken ct)
        {
            Started.TrySetResult();
            await Release.Task.WaitAsync(ct);
        }
    }

    private sealed class FailingStep : IStartupWarmUp
    {
        public string Name => "failing";
        public Task WarmUpAsync(CancellationToken ct) => throw new InvalidOperationException("warm-up step failed on purpose");
    }

    private sealed class RecordingStep(string name) : IStartupWarmUp
    {
        public bool Ran { get; private set; }
        public string Name => name;

        public Task WarmUpAsync(CancellationToken ct)
        {
            Ran = true;
            return Task.CompletedTask;
        }
    }
}
