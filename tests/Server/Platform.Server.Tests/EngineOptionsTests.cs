using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Engine.Runtime;
using Platform.Scheduling.Hangfire;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary><c>Platform:Engine</c> and <c>Platform:Scheduling</c> reach the engine's and the scheduler's options, and bad values stop the start.</summary>
public sealed class EngineOptionsTests
{
    private static PlatformServerFactory Server(TempDirectory data, params (string Key, string Value)[] settings)
    {
        var all = PlatformServerFactory.WithKeys(data.Path);
        foreach (var (key, value) in settings) all[key] = value;
        return new PlatformServerFactory(all);
    }

    [Fact]
    public async Task Should_BindEngineAndSchedulingOptions_When_TheirKeysAreConfigured()
    {
        // Arrange
        using var data = new TempDirectory("engine-options");
        await using var server = Server(data,
            ("Platform:Engine:DefaultRetryPolicy:MaxAttempts", "4"),
            ("Platform:Engine:DefaultRetryPolicy:Backoff", "exponential"),
            ("Platform:Engine:DefaultRetryPolicy:Delay", "2s"),
            ("Platform:Engine:DefaultRetryPolicy:MaxDelay", "00:01:00"),
            ("Platform:Engine:ShutdownTimeout", "00:00:45"),
            ("Platform:Scheduling:WorkerCount", "3"),
            ("Platform:Scheduling:QueuePollInterval", "00:00:02"),
            ("Platform:Scheduling:RecoveryInterval", "00:00:10"),
            ("Platform:Scheduling:RecoveryGracePeriod", "00:00:20"));

        // Act
        using var client = server.CreateClient(PlatformServerFactory.AdminKey);
        var engine = server.Services.GetRequiredService<IOptions<EngineRuntimeOptions>>().Value;
        var scheduling = server.Services.GetRequiredService<IOptions<HangfireSchedulingOptions>>().Value;

        // Assert
        Assert.Equal(new RetryPolicy { MaxAttempts = 4, Backoff = RetryBackoff.Exponential, Delay = TimeSpan.FromSeconds(2), MaxDelay = TimeSpan.FromMinutes(1) },
            engine.DefaultRetryPolicy!.ToPolicy());
        Assert.Equal(TimeSpan.FromSeconds(45), engine.ShutdownTimeout);
        Assert.Equal(3, scheduling.WorkerCount);
        Assert.Equal(TimeSpan.FromSeconds(2), scheduling.QueuePollInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), scheduling.RecoveryInterval);
        Assert.Equal(TimeSpan.FromSeconds(20), scheduling.RecoveryGracePeriod);
    }

    [Fact]
    public async Task Should_KeepTheDefaults_When_NoKeysAreConfigured()
    {
        using var data = new TempDirectory("engine-options");
        await using var server = Server(data);
        using var client = server.CreateClient(PlatformServerFactory.AdminKey);

        var engine = server.Services.GetRequiredService<IOptions<EngineRuntimeOptions>>().Value;
        var scheduling = server.Services.GetRequiredService<IOptions<HangfireSchedulingOptions>>().Value;

        Assert.Null(engine.DefaultRetryPolicy);
        Assert.Equal(TimeSpan.FromSeconds(30), engine.ShutdownTimeout);
        Assert.Equal(4, scheduling.WorkerCount);
        Assert.Null(scheduling.QueuePollInterval);
        Assert.Equal(TimeSpan.FromSeconds(5), scheduling.RecoveryInterval);
        Assert.Equal(TimeSpan.FromSeconds(10), scheduling.RecoveryGracePeriod);
    }

    [Fact]
    public async Task Should_NotStartAndNameTheKey_When_TheDefaultRetryPolicyIsInvalid()
    {
        using var data = new TempDirectory("engine-options");
        await using var server = Server(data, ("Platform:Engine:DefaultRetryPolicy:MaxAttempts", "3"), ("Platform:Engine:DefaultRetryPolicy:Backoff", "sometimes"));

        var e = Assert.Throws<OptionsValidationException>(() => server.CreateClient(PlatformServerFactory.AdminKey));

        Assert.Contains("Platform:Engine:DefaultRetryPolicy", e.Message);
        Assert.Contains("\"fixed\" or \"exponential\"", e.Message);
    }

    [Fact]
    public async Task Should_NotStartAndNameTheKey_When_WorkerCountIsZero()
    {
        using var data = new TempDirectory("engine-options");
        await using var server = Server(data, ("Platform:Scheduling:WorkerCount", "0"));

        var e = Assert.Throws<InvalidOperationException>(() => server.CreateClient(PlatformServerFactory.AdminKey));

        Assert.Contains("Platform:Scheduling:WorkerCount", e.Message);
    }
}
