using Microsoft.Extensions.DependencyInjection;
using Platform.Activities;
using Platform.Activities.Testing;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>A service a pack activity takes from the context; tests register a fake.</summary>
public interface IThermometer
{
    /// <summary>The temperature in a city.</summary>
    double Read(string city);
}

/// <summary>A pack-style activity used to exercise the testing host.</summary>
[Activity("Tests.Weather", "Weather", "Reads a temperature.")]
[FlowNode("Done", "Freezing")]
public class ReadTemperature : Activity
{
    /// <summary>The city.</summary>
    [Input] public Input<string> City { get; set; } = new("");

    /// <summary>The temperature.</summary>
    [Output] public Output<double> Celsius { get; set; } = new();

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var value = context.GetRequiredService<IThermometer>().Read(City.Get(context) ?? "");
        Celsius.Set(context, value);
        context.Complete(value < 0 ? "Freezing" : "Done");
        return ValueTask.CompletedTask;
    }
}

/// <summary>Waits for a reading, then completes.</summary>
[Activity("Tests.Weather", "Weather", "Waits for a reading.")]
public class WaitForReading : Activity
{
    /// <summary>The reading.</summary>
    [Output] public Output<string> Reading { get; set; } = new();

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        context.CreateBookmark(new BookmarkRequest("Tests.Reading"));
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        Reading.Set(context, context.ResumeInput["value"]?.ToString());
        context.Complete(DoneOutcome);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Platform.Activities.Testing: running pack activities in memory.</summary>
public sealed class ActivityTestHostTests
{
    private sealed class FakeThermometer(double value) : IThermometer
    {
        public double Read(string city) => city == "Oslo" ? value : double.NaN;
    }

    [Fact]
    public async Task Should_Run_One_Activity_With_Fake_Services_When_Given_Literal_Inputs()
    {
        // Arrange
        await using var host = new ActivityTestHost(s => s.AddSingleton<IThermometer>(new FakeThermometer(-3.5)));

        // Act
        var result = await host.RunAsync<ReadTemperature>(new Dictionary<string, object?> { ["City"] = "Oslo" });

        // Assert
        Assert.Equal("Finished", result.Status);
        Assert.Equal(["Freezing"], result.Outcomes);
        Assert.Equal(-3.5, result.Output<double>("Celsius"));
    }

    [Fact]
    public async Task Should_Fault_With_An_Incident_When_A_Service_Is_Missing()
    {
        // Arrange
        await using var host = new ActivityTestHost();

        // Act
        var result = await host.RunAsync<ReadTemperature>(new Dictionary<string, object?> { ["City"] = ActivityTestHost.JavaScript("'Os' + 'lo'") });

        // Assert
        Assert.Equal("Faulted", result.Status);
        Assert.Contains(nameof(IThermometer), Assert.Single(result.Incidents));
    }

    [Fact]
    public async Task Should_Resume_A_Suspended_Activity_When_Given_Input()
    {
        // Arrange
        await using var host = new ActivityTestHost();
        var suspended = await host.RunAsync<WaitForReading>();

        // Act
        var resumed = await host.ResumeAsync(suspended, new Dictionary<string, object?> { ["value"] = "12" });

        // Assert
        Assert.Equal("Suspended", suspended.Status);
        Assert.Equal("Finished", resumed.Status);
        Assert.Equal("12", resumed.Output<string>("Reading"));
    }
}
