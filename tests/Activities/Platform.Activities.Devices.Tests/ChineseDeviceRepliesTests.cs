using System.Text.Json.Nodes;
using Platform.Engine.Models;
using static Platform.Activities.Devices.Tests.DevicesHost;

namespace Platform.Activities.Devices.Tests;

/// <summary>
/// Control Device and Get Device State write their sentences in Chinese when the language is <c>zh</c> (the Language input,
/// or the conversation's language): on, off, the dimmer, the thermostat, states, timeouts, unknown and ambiguous devices,
/// against the embedded MQTT broker and the device simulator.
/// </summary>
public sealed class ChineseDeviceRepliesTests
{
    private const string Control = "Platform.ControlDevice";
    private const string GetState = "Platform.GetDeviceState";

    private static Device Light(string room) =>
        new() { Id = $"{room}-{UniqueId("light")}", Name = $"{char.ToUpperInvariant(room[0])}{room[1..]} light", Room = room, Type = DeviceTypes.Light };

    [Fact]
    public async Task Should_Acknowledge_On_And_Off_And_Tell_The_State_In_Chinese_When_The_Language_Is_Zh()
    {
        // Arrange
        await using var host = await StartAsync(Embedded);
        await host.AddAsync(Light("kitchen"));
        await host.StartSimulatorAsync();

        // Act
        var on = await host.RunActivityAsync(Control, new { DeviceName = "light", Room = "kitchen", Command = "on", Language = "zh" });
        var stateOn = await host.RunActivityAsync(GetState, new { DeviceName = "light", Room = "kitchen", Language = "zh" });
        var off = await host.RunActivityAsync(Control, new { DeviceName = "light", Room = "kitchen", Command = "off", Language = "zh-CN" });
        var stateOff = await host.RunActivityAsync(GetState, new { DeviceName = "light", Room = "kitchen", Language = "zh" });
        var english = await host.RunActivityAsync(Control, new { DeviceName = "light", Room = "kitchen", Command = "on" });

        // Assert
        Assert.Equal("好的，厨房的灯已打开。", on.Out("Message"));
        Assert.Equal("厨房的灯开着。", stateOn.Out("Message"));
        Assert.Equal("好的，厨房的灯已关闭。", off.Out("Message"));
        Assert.Equal("厨房的灯关着。", stateOff.Out("Message"));
        Assert.Equal("The kitchen light is on.", english.Out("Message")); // auto without a conversation: English
    }

    [Fact]
    public async Task Should_Tell_The_Dimmer_Level_And_The_Thermostat_In_Chinese_When_They_Are_Set()
    {
        // Arrange
        await using var host = await StartAsync(Embedded);
        await host.AddAsync(new Device { Id = UniqueId("dimmer"), Name = "Living room dimmer", Room = "living room", Type = DeviceTypes.Dimmer });
        await host.AddAsync(new Device { Id = UniqueId("thermostat"), Name = "Thermostat", Room = "living room", Type = DeviceTypes.Thermostat });
        await host.StartSimulatorAsync();

        // Act
        var dim = await host.RunActivityAsync(Control, new { DeviceName = "living room dimmer", Command = "set_level", Value = "30", Language = "zh" });
        var dimState = await host.RunActivityAsync(GetState, new { DeviceName = "dimmer", Language = "zh" });
        var heat = await host.RunActivityAsync(Control, new { DeviceName = "thermostat", Command = "set_temperature", Value = "22", Language = "zh" });
        var tooHot = await host.RunActivityAsync(Control, new { DeviceName = "thermostat", Command = "set_temperature", Value = "90", Language = "zh" });

        // Assert
        Assert.Equal("Done", dim.Outcome());
        Assert.Equal("好的，客厅的调光灯已打开，亮度 30%。", dim.Out("Message"));
        Assert.Equal("客厅的调光灯开着，亮度 30%。", dimState.Out("Message"));
        Assert.Equal("Done", heat.Outcome());
        Assert.StartsWith("好的，温控器设定为 22 °C", heat.Out("Message"));
        Assert.Equal("Rejected", tooHot.Outcome());
        Assert.Equal("温控器要设定为多少度？请给出 5 到 35 之间的数（°C），而不是“90”。", tooHot.Out("Message"));
    }

    [Fact]
    public async Task Should_Read_A_Sensor_In_Chinese_When_Its_State_Is_Asked_In_Chinese()
    {
        // Arrange
        await using var host = await StartAsync(Embedded);
        await host.AddAsync(new Device { Id = UniqueId("sensor"), Name = "Temperature sensor", Room = "bedroom", Type = DeviceTypes.Sensor });
        await host.StartSimulatorAsync();

        // Act
        var state = await host.RunActivityAsync(GetState, new { DeviceName = "temperature sensor", Room = "bedroom", Language = "zh" });

        // Assert
        Assert.Equal("Done", state.Outcome());
        Assert.Equal("温度传感器显示 21.5 °C，湿度 45%。", state.Out("Message"));
    }

    [Fact]
    public async Task Should_Say_In_Chinese_That_The_Device_Did_Not_Answer_When_It_Times_Out()
    {
        // Arrange: the broker is up; no simulator answers.
        await using var host = await StartAsync(Embedded);
        var light = await host.AddAsync(Light("kitchen"));
        await host.Connection.ConnectAsync();

        // Act
        var r = await host.RunActivityAsync(Control, new { DeviceName = light.Id, Command = "off", Timeout = "00:00:00.500", Language = "zh" });

        // Assert
        Assert.Equal("Timeout", r.Outcome());
        Assert.Equal("厨房的灯在 0.5 秒内没有回应，可能离线了。", r.Out("Message"));
    }

    [Fact]
    public async Task Should_List_What_Can_Be_Controlled_In_Chinese_When_The_Device_Is_Unknown()
    {
        // Arrange
        await using var host = await StartAsync(Embedded);
        await host.AddAsync(Light("kitchen"));
        await host.AddAsync(new Device { Id = UniqueId("lamp"), Name = "Reading lamp", Room = "study", Type = DeviceTypes.Light, Aliases = ["书房的台灯"] });

        // Act
        var control = await host.RunActivityAsync(Control, new { DeviceName = "garage door", Room = "garden", Command = "open", Language = "zh" });
        var state = await host.RunActivityAsync(GetState, new { DeviceName = "garage door", Language = "zh" });

        // Assert: a Chinese alias names the device; rooms not in the name are added.
        Assert.Equal("UnknownDevice", control.Outcome());
        Assert.StartsWith("花园里没有叫“garage door”的设备。我可以控制：", control.Out("Message"));
        Assert.Contains("厨房的灯", control.Out("Message"));
        Assert.Contains("书房的台灯", control.Out("Message"));
        Assert.StartsWith("我不知道叫“garage door”的设备。我可以控制：", state.Out("Message"));
        Assert.Empty(List(control, "Choices"));
    }

    [Fact]
    public async Task Should_Ask_Which_One_In_Chinese_With_Chinese_Choices_When_The_Device_Is_Ambiguous()
    {
        // Arrange: ids in this order, so the registry lists the bedroom light first.
        await using var host = await StartAsync(Embedded);
        await host.AddAsync(Light("bedroom"));
        await host.AddAsync(Light("kitchen"));

        // Act
        var control = await host.RunActivityAsync(Control, new { DeviceName = "light", Command = "on", Language = "zh" });
        var state = await host.RunActivityAsync(GetState, new { DeviceName = "light", Language = "zh" });
        var english = await host.RunActivityAsync(Control, new { DeviceName = "light", Command = "on", Language = "en" });

        // Assert
        Assert.Equal("UnknownDevice", control.Outcome());
        Assert.Equal("你指的是哪一个：卧室的灯还是厨房的灯？", control.Out("Message"));
        Assert.Equal(["卧室的灯", "厨房的灯"], List(control, "Choices"));
        Assert.Equal(["Bedroom light", "Kitchen light"], List(control, "Candidates"));
        Assert.Equal(control.Out("Message"), state.Out("Message"));
        Assert.Equal(["卧室的灯", "厨房的灯"], List(state, "Choices"));
        Assert.Equal(["Bedroom light", "Kitchen light"], List(english, "Choices"));
    }

    [Fact]
    public async Task Should_Ask_For_Confirmation_In_Chinese_When_Unlocking_The_Door()
    {
        // Arrange
        await using var host = await StartAsync(Embedded);
        await host.AddAsync(new Device
        {
            Id = UniqueId("lock"), Name = "Front door lock", Room = "hall", Type = DeviceTypes.Lock, HighRisk = true,
            HighRiskCommands = [DeviceCommands.Unlock], PermittedUsers = ["owner"],
        });
        await host.StartSimulatorAsync();

        // Act
        var ask = await host.RunActivityAsync(Control, new { DeviceName = "front door lock", Command = "unlock", UserId = "owner", Language = "zh" });
        var done = await host.RunActivityAsync(Control, new { DeviceName = "front door lock", Command = "unlock", UserId = "owner", Confirmed = true, Language = "zh" });
        var refused = await host.RunActivityAsync(Control, new { DeviceName = "front door lock", Command = "unlock", UserId = "mallory", Confirmed = true, Language = "zh" });

        // Assert
        Assert.Equal("你确定要解锁前门的门锁吗？请确认。", ask.Out("Message"));
        Assert.Equal("好的，前门的门锁已解锁。", done.Out("Message"));
        Assert.Equal("你没有权限解锁前门的门锁。", refused.Out("Message"));
    }

    private static List<string> List(ActivityExecutionRecord r, string output) =>
        JsonNode.Parse(r.Out(output) ?? "null")?.AsArray().Select(n => n!.GetValue<string>()).ToList()
        ?? throw new Xunit.Sdk.XunitException($"The activity set no {output} output.");
}
