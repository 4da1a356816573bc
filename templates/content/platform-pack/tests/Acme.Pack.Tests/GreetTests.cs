using Platform.Activities.Testing;
using Xunit;

namespace Acme.Pack.Tests;

public sealed class GreetTests
{
    [Fact]
    public async Task Should_Greet_By_Name_When_A_Name_Is_Given()
    {
        // Arrange
        await using var host = new ActivityTestHost();

        // Act
        var result = await host.RunAsync<Greet>(new Dictionary<string, object?> { ["Who"] = "Ada" });

        // Assert
        Assert.Equal("Finished", result.Status);
        Assert.Equal(["Done"], result.Outcomes);
        Assert.Equal("Hello, Ada!", result.Output<string>("Greeting"));
    }

    [Fact]
    public async Task Should_Take_The_Anonymous_Outcome_When_No_Name_Is_Given()
    {
        // Arrange
        await using var host = new ActivityTestHost();

        // Act
        var result = await host.RunAsync<Greet>();

        // Assert
        Assert.Equal(["Anonymous"], result.Outcomes);
    }
}
