using Microsoft.Extensions.Configuration;
using Platform.Server.Extensions;

namespace Platform.Server.Tests;

/// <summary><c>Platform:ConfigurationRefreshInterval</c>: how often a node looks for intent sets, devices and data sources changed by other nodes.</summary>
public sealed class ConfigurationRefreshIntervalTests
{
    private static IConfiguration Settings(string? value) => new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?> { [ConfigurationDocumentsHostExtensions.RefreshIntervalSetting] = value }).Build();

    [Theory]
    [InlineData(null, 2000)]
    [InlineData("", 2000)]
    [InlineData("0.5", 500)]
    [InlineData("5", 5000)]
    [InlineData("00:00:01.5", 1500)]
    public void Should_Read_The_Interval_When_It_Is_Seconds_Or_A_Time_Span(string? value, int expectedMilliseconds)
    {
        // Arrange
        var configuration = Settings(value);

        // Act
        var interval = ConfigurationDocumentsHostExtensions.RefreshInterval(configuration);

        // Assert
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), interval);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("02:00:00")]
    public void Should_Say_How_To_Fix_It_When_The_Interval_Is_Not_Valid(string value)
    {
        // Arrange
        var configuration = Settings(value);

        // Act
        var error = Assert.Throws<InvalidOperationException>(() => ConfigurationDocumentsHostExtensions.RefreshInterval(configuration));

        // Assert
        Assert.Contains(ConfigurationDocumentsHostExtensions.RefreshIntervalSetting, error.Message);
        Assert.Contains("00:00:02", error.Message);
    }
}
