using System.Text.Json.Nodes;
using Platform.Engine.Models;
using Platform.Mqtt;
using static Platform.Activities.Devices.Tests.DevicesHost;

namespace Platform.Activities.Devices.Tests;

/// <summary>ControlDevice and GetDeviceState against real brokers: mosquitto and the embedded broker.</summary>
public sealed class ControlDeviceTests
{
    private const string Control = "Platform.ControlDevice";
    private const string GetState = "Platform.GetDeviceState";

    private static Device Light(string room = "kitchen", string? id = null) =>
        new() { Id = id ?? UniqueId("light"), Name = $"{char.ToUpperInvariant(room[0])}{room[1..]} light", Room = room, Type = DeviceTypes.Light };

    private static Device Lock(params string[] permitted) => new()
    {
        Id = UniqueId("lock"), Name = "Front door lock", Room = "hall", Type = DeviceTypes.Lock, HighRisk = true,
        HighRiskCommands = [DeviceCommands.Unlock], PermittedUsers = permitted,
    };

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_TakeDone_When_SimulatorAcknowledgesCommand(string broker)
    {
        // Arrange
        await using var host = await StartAsync(broker);
        var light = await host.AddAsync(Light());
        var simulator = await host.StartSimulatorAsync();

        // Act
        var r = await host.RunActivityAsync(Control, new { DeviceName = light.Id, Command = "on", UserId = "alice", Channel = "telegram" });

        // Assert
        Assert.Equal("Done", r.Outcome());
        Assert.Equal("The kitchen light is on.", r.Out("Message"));
        Assert.Equal("true", r.Field("State", "on"));
        Assert.Equal(light.Id, r.Field("Device", "id")?.Trim('"'));
        Assert.Equal(true, simulator.GetState(light.Id)?["on"]);
        Assert.Equal(true, host.Cache.Get(light.Id)?.Values["on"]);
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_FindDeviceByTypeAndRoom_When_EntitiesNameNoId(string broker)
    {
        // Arrange
        await using var host = await StartAsync(broker);
        var kitchen = await host.AddAsync(Light("kitchen"));
        await host.AddAsync(Light("hall"));
        var dimmer = await host.AddAsync(new Device { Id = UniqueId("dimmer"), Name = "Living room dimmer", Room = "living room", Type = DeviceTypes.Dimmer });
        var simulator = await host.StartSimulatorAsync();

        // Act
        var on = await host.RunActivityAsync(Control, new { DeviceName = "light", Room = "Kitchen", Command = "turn on" });
        var dim = await host.RunActivityAsync(Control, new { DeviceName = "living room dimmer", Command = "set_level", Value = "40" });
        var ambiguous = await host.RunActivityAsync(Control, new { DeviceName = "light", Command = "on" });

        // Assert
        Assert.Equal("Done", on.Outcome());
        Assert.Equal(true, simulator.GetState(kitchen.Id)?["on"]);
        Assert.Equal("Done", dim.Outcome());
        Assert.Equal("The living room dimmer is on at 40 %.", dim.Out("Message"));
        Assert.Equal(40d, simulator.GetState(dimmer.Id)?["level"]);
        Assert.Equal("UnknownDevice", ambiguous.Outcome());
        Assert.StartsWith("Which one do you mean", ambiguous.Out("Message"));
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_ListTheCandidates_When_SeveralDevicesMatchEquallyWell(string broker)
    {
        // Arrange: two lights, so "light" alone is ambiguous; a sensor shares the bedroom.
        await using var host = await StartAsync(broker);
        var kitchen = await host.AddAsync(Light("kitchen"));
        var bedroom = await host.AddAsync(Light("bedroom"));
        await host.AddAsync(new Device { Id = UniqueId("sensor"), Name = "Temperature sensor", Room = "bedroom", Type = DeviceTypes.Sensor });
        var simulator = await host.StartSimulatorAsync();

        // Act
        var control = await host.RunActivityAsync(Control, new { DeviceName = "light", Command = "on" });
        var state = await host.RunActivityAsync(GetState, new { DeviceName = "light" });
        var unknown = await host.RunActivityAsync(Control, new { DeviceName = "garage door", Command = "on" });
        var unknownState = await host.RunActivityAsync(GetState, new { DeviceName = "garage door" });
        var chosen = await host.RunActivityAsync(Control, new { DeviceName = "light", Room = "bedroom", Command = "on" });

        // Assert: the names without the rooms they already say, in registry (id) order; empty when simply unknown or found.
        var names = new[] { kitchen, bedroom }.OrderBy(d => d.Id, StringComparer.OrdinalIgnoreCase).Select(d => d.Name).ToList();
        Assert.Equal("UnknownDevice", control.Outcome());
        Assert.Equal($"Which one do you mean: the {names[0].ToLowerInvariant()} or the {names[1].ToLowerInvariant()}?", control.Out("Message"));
        Assert.Equal(names, Candidates(control));
        Assert.Equal("UnknownDevice", state.Outcome());
        Assert.Equal(control.Out("Message"), state.Out("Message"));
        Assert.Equal(names, Candidates(state));
        Assert.Equal("UnknownDevice", unknown.Outcome());
        Assert.Empty(Candidates(unknown));
        Assert.Equal("UnknownDevice", unknownState.Outcome());
        Assert.Empty(Candidates(unknownState));
        Assert.Equal("Done", chosen.Outcome());
        Assert.Empty(Candidates(chosen));
        Assert.Equal(true, simulator.GetState(bedroom.Id)?["on"]);
        Assert.NotEqual(true, simulator.GetState(kitchen.Id)?["on"]);
    }

    private static List<string> Candidates(ActivityExecutionRecord r) =>
        JsonNode.Parse(r.Out("Candidates") ?? "null")?.AsArray().Select(n => n!.GetValue<string>()).ToList()
        ?? throw new Xunit.Sdk.XunitException("The activity set no Candidates output.");

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_TakeTimeout_When_NoDeviceAnswers(string broker)
    {
        // Arrange
        await using var host = await StartAsync(broker);
        var light = await host.AddAsync(Light());
        await host.Connection.ConnectAsync(); // the broker is up; only the device is silent

        // Act
        var r = await host.RunActivityAsync(Control, new { DeviceName = light.Id, Command = "off", Timeout = "00:00:00.500" });

        // Assert
        Assert.Equal("Timeout", r.Outcome());
        Assert.Equal("The kitchen light did not answer within 0.5 s. It may be offline.", r.Out("Message"));
    }

    [Fact]
    public async Task Should_TakeTimeout_When_BrokerIsUnreachable()
    {
        // Arrange: an external broker on a port nobody listens on.
        await using var host = await StartAsync(Embedded);
        var options = new MqttOptions { Host = "127.0.0.1", Port = FreePort() };
        await using var connection = new MqttConnection(options);
        var light = await host.AddAsync(Light());
        var service = new DeviceCommandService(host.Store, host.Cache, host.Audit, connection);

        // Act
        var result = await service.ExecuteAsync(new DeviceCommandRequest { Device = light.Id, Command = "on", Timeout = TimeSpan.FromMilliseconds(500) });

        // Assert
        Assert.Equal(DeviceCommandOutcome.Timeout, result.Outcome);
        Assert.Contains("MQTT broker", result.Message);
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_TakeUnknownDevice_When_NoDeviceMatches(string broker)
    {
        // Arrange
        await using var host = await StartAsync(broker);
        await host.AddAsync(Light());

        // Act
        var r = await host.RunActivityAsync(Control, new { DeviceName = "garage door", Room = "garden", Command = "open", UserId = "bob" });

        // Assert
        Assert.Equal("UnknownDevice", r.Outcome());
        Assert.StartsWith("I don't know a device called 'garage door' in the garden. I can control: ", r.Out("Message"));
        Assert.Contains("Kitchen light (kitchen)", r.Out("Message"));
        var entry = Assert.Single(await host.Audit.ReadLatestAsync(10));
        Assert.Equal("UnknownDevice", entry.Result);
        Assert.Equal("bob", entry.UserId);
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_TakeRejected_When_DeviceLacksTheCapability(string broker)
    {
        // Arrange
        await using var host = await StartAsync(broker);
        var sensor = await host.AddAsync(new Device { Id = UniqueId("sensor"), Name = "Temperature sensor", Room = "bedroom", Type = DeviceTypes.Sensor });
        var light = await host.AddAsync(Light());
        var simulator = await host.StartSimulatorAsync();

        // Act
        var on = await host.RunActivityAsync(Control, new { DeviceName = sensor.Id, Command = "on" });
        var level = await host.RunActivityAsync(Control, new { DeviceName = light.Id, Command = "set_level", Value = "50" });

        // Assert
        Assert.Equal("Rejected", on.Outcome());
        Assert.Equal("The temperature sensor cannot do 'on'. It accepts no commands; it only reports its state.", on.Out("Message"));
        Assert.Equal("Rejected", level.Outcome());
        Assert.Contains("It supports: on, off, toggle.", level.Out("Message"));
        Assert.Equal(0, simulator.CommandsHandled);
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_RequireConfirmation_When_HighRiskCommandIsNotConfirmed_And_RunIt_When_PermittedUserConfirms(string broker)
    {
        // Arrange
        await using var host = await StartAsync(broker);
        var door = await host.AddAsync(Lock("owner"));
        var simulator = await host.StartSimulatorAsync();

        // Act
        var unconfirmed = await host.RunActivityAsync(Control, new { DeviceName = "front door lock", Command = "unlock", UserId = "owner", Channel = "telegram" });
        var confirmed = await host.RunActivityAsync(Control, new { DeviceName = "front door lock", Command = "unlock", UserId = "owner", Channel = "telegram", Confirmed = true });
        var locking = await host.RunActivityAsync(Control, new { DeviceName = door.Id, Command = "lock", UserId = "guest" });

        // Assert
        Assert.Equal("ConfirmationRequired", unconfirmed.Outcome());
        Assert.Equal("Do you really want to unlock the front door lock? Please confirm.", unconfirmed.Out("Message"));
        Assert.Equal("Done", confirmed.Outcome());
        Assert.Equal("The front door lock is unlocked.", confirmed.Out("Message"));
        Assert.Equal("Done", locking.Outcome()); // locking is not one of the lock's high-risk commands
        Assert.Equal(true, simulator.GetState(door.Id)?["locked"]);
        Assert.Equal(2, simulator.CommandsHandled);
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_TakeRejected_When_UserIsNotPermitted(string broker)
    {
        // Arrange
        await using var host = await StartAsync(broker);
        var door = await host.AddAsync(Lock("owner"));
        var simulator = await host.StartSimulatorAsync();

        // Act
        var stranger = await host.RunActivityAsync(Control, new { DeviceName = door.Id, Command = "unlock", UserId = "mallory", Confirmed = true });
        var anonymous = await host.RunActivityAsync(Control, new { DeviceName = door.Id, Command = "unlock", Confirmed = true });

        // Assert
        Assert.Equal("Rejected", stranger.Outcome());
        Assert.Equal("You are not allowed to unlock the front door lock.", stranger.Out("Message"));
        Assert.Equal("Rejected", anonymous.Outcome());
        Assert.Equal(0, simulator.CommandsHandled);
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_AppendAuditEntries_When_CommandsRun(string broker)
    {
        // Arrange
        await using var host = await StartAsync(broker);
        var light = await host.AddAsync(Light());
        var door = await host.AddAsync(Lock("owner"));
        await host.StartSimulatorAsync();

        // Act
        await host.RunActivityAsync(Control, new { DeviceName = light.Id, Command = "on", UserId = "alice", Channel = "telegram" });
        await host.RunActivityAsync(Control, new { DeviceName = door.Id, Command = "unlock", UserId = "alice", Channel = "mail", Confirmed = true });

        // Assert
        var lines = await File.ReadAllLinesAsync(Path.Combine(host.Directory, "audit", "devices.jsonl"));
        Assert.Equal(2, lines.Length);
        var latest = await host.Audit.ReadLatestAsync(10);
        Assert.Equal(["Rejected", "Done"], latest.Select(e => e.Result).ToArray());
        var done = latest[1];
        Assert.Equal(("alice", "telegram", light.Id, "on"), (done.UserId, done.Channel, done.DeviceId, done.Command));
        Assert.NotNull(done.CorrelationId);
        Assert.NotNull(done.WorkflowInstanceId);
        Assert.True(done.Timestamp > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.Equal(("mail", door.Id, "unlock", true), (latest[0].Channel, latest[0].DeviceId, latest[0].Command, latest[0].Confirmed));
        Assert.Single(await host.Audit.ReadLatestAsync(1));
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_CacheState_When_DevicePublishedRetainedState(string broker)
    {
        // Arrange: the device reported before the platform started.
        await using var host = await StartAsync(broker);
        var sensor = await host.AddAsync(new Device { Id = UniqueId("sensor"), Name = "Temperature sensor", Room = "bedroom", Type = DeviceTypes.Sensor });
        await using (var device = new MqttConnection(host.Mqtt))
            await device.PublishAsync(sensor.StateTopic, """{"temperature": 22.5, "humidity": 40}""", MqttQos.AtLeastOnce, retain: true);

        // Act
        await host.StartListenerAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (host.Cache.Get(sensor.Id) is null && DateTime.UtcNow < deadline) await Task.Delay(50);
        var r = await host.RunActivityAsync(GetState, new { DeviceName = "thermometer sensor", Room = "bedroom" });
        var byType = await host.RunActivityAsync(GetState, new { DeviceName = "sensor" });

        // Assert
        var cached = host.Cache.Get(sensor.Id);
        Assert.NotNull(cached);
        Assert.True(cached.Retained);
        Assert.Equal(22.5, cached.Values["temperature"]);
        Assert.Equal("UnknownDevice", r.Outcome());
        Assert.Equal("Done", byType.Outcome());
        Assert.Equal("The temperature sensor reads 22.5 °C and 40 % humidity.", byType.Out("Message"));
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_UpdateCachedState_When_DeviceReportsLive(string broker)
    {
        // Arrange
        await using var host = await StartAsync(broker);
        var light = await host.AddAsync(Light());
        await host.StartListenerAsync();
        await using var device = new MqttConnection(host.Mqtt);

        // Act: someone pressed the wall switch. The listener subscribes in the background; a report that crosses its
        // subscription can miss it on the embedded broker (MQTTnet 5 did not hand over the retained copy in some runs), so
        // the device reports again after a second, as a real one does on its next change. This test is about live reports.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (host.Cache.Get(light.Id) is null && DateTime.UtcNow < deadline)
        {
            await device.PublishAsync(light.StateTopic, """{"on": true}""", MqttQos.AtLeastOnce, retain: true);
            var next = DateTime.UtcNow.AddSeconds(1);
            while (host.Cache.Get(light.Id) is null && DateTime.UtcNow < next) await Task.Delay(50);
        }
        var r = await host.RunActivityAsync(GetState, new { DeviceName = "kitchen light" });

        // Assert
        Assert.Equal("Done", r.Outcome());
        Assert.Equal("The kitchen light is on.", r.Out("Message"));
        await device.PublishAsync(light.StateTopic, "", MqttQos.AtLeastOnce, retain: true); // clears the retained message
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_ReadRetainedState_When_NothingIsCachedYet(string broker)
    {
        // Arrange: no listener; GetDeviceState falls back to the retained message.
        await using var host = await StartAsync(broker);
        var thermostat = await host.AddAsync(new Device { Id = UniqueId("thermostat"), Name = "Thermostat", Room = "living room", Type = DeviceTypes.Thermostat });
        await using (var device = new MqttConnection(host.Mqtt))
            await device.PublishAsync(thermostat.StateTopic, """{"target": 21, "temperature": 19.5}""", MqttQos.AtLeastOnce, retain: true);
        var unknown = await host.AddAsync(Light());

        // Act
        var r = await host.RunActivityAsync(GetState, new { DeviceName = thermostat.Id, Timeout = "00:00:05" });
        var none = await host.RunActivityAsync(GetState, new { DeviceName = unknown.Id, Timeout = "00:00:00.200" });

        // Assert
        Assert.Equal("Done", r.Outcome());
        Assert.Equal("The thermostat is set to 21 °C; it is 19.5 °C now.", r.Out("Message"));
        Assert.Equal("Done", none.Outcome());
        Assert.Equal("I have no state for the kitchen light yet.", none.Out("Message"));
        Assert.Null(none.Out("State"));
    }

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_FollowOutcomePorts_When_FlowchartUsesControlDevice(string broker)
    {
        // Arrange: set the thermostat, then reply with the device's sentence; a second branch handles refusals.
        await using var host = await StartAsync(broker);
        var thermostat = await host.AddAsync(new Device { Id = UniqueId("thermostat"), Name = "Thermostat", Room = "living room", Type = DeviceTypes.Thermostat });
        await host.StartSimulatorAsync();
        var flow = new Flow()
            .Activity("start", "Elsa.Start")
            .Activity("heat", Control, new { DeviceName = "thermostat", Room = "living room", Command = "set_temperature", Value = Flow.JavaScript("20 + 1.5"), UserId = "alice" })
            .Activity("reply", "Elsa.WriteLine", new { Text = Flow.JavaScript("getOutput('heat', 'Message')") })
            .Activity("refused", "Elsa.WriteLine", new { Text = "refused" })
            .Connect("start", "heat").Connect("heat", "reply", "Done").Connect("heat", "refused", "Rejected")
            .Build();

        // Act
        var run = await host.RunAsync(flow);

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, run.SubStatus);
        var journal = await host.JournalAsync(run.InstanceId);
        Assert.Equal(["start", "heat", "reply"], journal.Select(r => r.ActivityId).ToArray());
        Assert.Equal("The thermostat is set to 21.5 °C; it is 19.5 °C now.", journal[2].ActivityState["text"]?.ToString());
        Assert.Equal(thermostat.Id, (await host.Audit.ReadLatestAsync(1))[0].DeviceId);
    }
}

/// <summary>Devices reached over HTTP instead of MQTT.</summary>
public sealed class HttpDeviceTests
{
    [Fact]
    public async Task Should_TakeDone_When_HttpDeviceAnswersWithState_And_Rejected_When_ItRefuses()
    {
        // Arrange: a loopback device that accepts "on" and refuses everything else.
        var port = FreePort();
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var commands = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var serving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception e) when (e is System.Net.HttpListenerException or ObjectDisposedException) { return; }
                using var reader = new StreamReader(context.Request.InputStream);
                var body = await reader.ReadToEndAsync();
                commands.Enqueue(body);
                var on = body.Contains("\"command\":\"on\"", StringComparison.Ordinal);
                context.Response.StatusCode = on ? 200 : 422;
                var answer = System.Text.Encoding.UTF8.GetBytes(on ? """{"on": true}""" : "only on is supported");
                await context.Response.OutputStream.WriteAsync(answer);
                context.Response.Close();
            }
        });
        await using var host = await StartAsync(Embedded);
        var plug = await host.AddAsync(new Device
        {
            Id = UniqueId("plug"), Name = "Coffee machine", Room = "kitchen", Type = DeviceTypes.Switch,
            Transport = new DeviceTransport { Kind = DeviceTransportKind.Http, Url = $"http://127.0.0.1:{port}/plug" },
        });

        // Act
        var on = await host.RunActivityAsync("Platform.ControlDevice", new { DeviceName = "coffee machine", Command = "on", UserId = "alice" });
        var off = await host.RunActivityAsync("Platform.ControlDevice", new { DeviceName = plug.Id, Command = "off" });
        listener.Stop();
        await serving;

        // Assert
        Assert.Equal("Done", on.Outcome());
        Assert.Equal("The coffee machine is on.", on.Out("Message"));
        Assert.Equal("Rejected", off.Outcome());
        Assert.Equal("The coffee machine refused 'off' (HTTP 422): only on is supported.", off.Out("Message"));
        Assert.Contains("\"userId\":\"alice\"", commands.First());
    }
}
