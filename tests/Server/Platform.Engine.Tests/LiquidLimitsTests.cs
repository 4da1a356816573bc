using Xunit;
using System.Diagnostics;
using Platform.Activities;
using Platform.Engine.Expressions;

namespace Platform.Engine.Tests;

/// <summary>Liquid rendering is bounded in iterations, time and output (issue 16, M2).</summary>
public sealed class LiquidLimitsTests
{
    private static readonly Dictionary<string, object?> Model = new() { ["name"] = "Ada" };

    [Fact]
    public async Task Should_Fault_Fast_When_A_For_Loop_Runs_A_Hundred_Million_Times()
    {
        var liquid = new LiquidEvaluator();
        var watch = Stopwatch.StartNew();

        var fault = await Assert.ThrowsAsync<ActivityFaultException>(async () =>
            await liquid.RenderAsync("{% for i in (1..100000000) %}x{% endfor %}", Model));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"Stopping took {watch.Elapsed.TotalMilliseconds:F0} ms.");
        Assert.Contains("for loop passed 100,000 iterations", fault.Message);
    }

    [Fact]
    public async Task Should_Fault_When_The_Output_Passes_The_Limit()
    {
        var liquid = new LiquidEvaluator();

        var fault = await Assert.ThrowsAsync<ActivityFaultException>(async () =>
            await liquid.RenderAsync("{% for i in (1..90000) %}0123456789012345678901234567890123456789{% endfor %}", Model));

        Assert.Contains("output passed 1,000,000 characters", fault.Message);
    }

    [Fact]
    public async Task Should_Render_Normally_When_Within_The_Limits()
    {
        var liquid = new LiquidEvaluator();
        Assert.Equal("Hi Ada: 123", await liquid.RenderAsync("Hi {{ name }}: {% for i in (1..3) %}{{ i }}{% endfor %}", Model));
    }
}
