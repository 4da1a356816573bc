using Platform.Mqtt;

namespace Platform.Activities.Devices.Tests;

/// <summary>Pure logic: topic matching, device resolution, sentences.</summary>
public sealed class UnitTests
{
    [Theory]
    [InlineData("devices/+/state", "devices/lamp/state", true)]
    [InlineData("devices/#", "devices/lamp/state", true)]
    [InlineData("devices/#", "devices", true)]
    [InlineData("devices/+", "devices/lamp/state", false)]
    [InlineData("#", "$SYS/broker", false)]
    [InlineData("a/b", "a/b", true)]
    [InlineData("a/b", "a/c", false)]
    public void Should_MatchTopics_When_FilterHasWildcards(string filter, string topic, bool expected) =>
        Assert.Equal(expected, MqttTopics.Matches(filter, topic));

    private static readonly Device[] Home =
    [
        new() { Id = "kitchen-light", Name = "Kitchen light", Room = "kitchen", Type = "light", Aliases = ["ceiling lamp"] },
        new() { Id = "hall-light", Name = "Hall light", Room = "hall", Type = "light" },
        new() { Id = "thermostat", Name = "Thermostat", Room = "living room", Type = "thermostat", Aliases = ["heating"] },
    ];

    [Theory]
    [InlineData("kitchen-light", null, "kitchen-light")]
    [InlineData("Kitchen Light", null, "kitchen-light")]
    [InlineData("the ceiling lamp", null, "kitchen-light")]
    [InlineData("light", "kitchen", "kitchen-light")]
    [InlineData("lights", "hall", "hall-light")]
    [InlineData("light in the kitchen", null, "kitchen-light")]
    [InlineData("heating", null, "thermostat")]
    [InlineData(null, "living room", "thermostat")]
    [InlineData("light", null, null)]
    [InlineData("toaster", null, null)]
    public void Should_ResolveDevice_When_TextNamesIt(string? text, string? room, string? expected) =>
        Assert.Equal(expected, DeviceResolver.Resolve(Home, text, room).Device?.Id);

    [Fact]
    public void Should_ListCandidates_When_TextIsAmbiguous()
    {
        var match = DeviceResolver.Resolve(Home, "light", null);
        Assert.True(match.IsAmbiguous);
        Assert.Equal(2, match.Candidates.Count);
    }

    [Fact]
    public void Should_NormalizeCommandAliases_When_CommandIsSpoken()
    {
        Assert.Equal("on", DeviceCommands.Normalize(" Turn On "));
        Assert.Equal("set_level", DeviceCommands.Normalize("brightness"));
        Assert.Equal("set_temperature", DeviceCommands.Normalize("set-temperature"));
    }
}
