using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using Platform.Testing;
using static Platform.Activities.Devices.Tests.DevicesHost;

namespace Platform.Activities.Devices.Tests;

/// <summary>/api/devices through the real host; MQTT is the embedded broker on a free port or mosquitto.</summary>
public sealed class DevicesApiTests
{
    private const string AdminKey = "devices-tests-admin-key-0123456789abcdef";
    private const string OperatorKey = "devices-tests-operator-key-0123456789abcdef";

    private sealed class Factory(string dataDirectory, IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        public HttpClient Client(string key)
        {
            var client = CreateClient();
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key);
            return client;
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Platform:DataDirectory", dataDirectory);
            builder.UseSetting("Platform:Database:Provider", "Sqlite");
            builder.UseSetting("Platform:ApiKeys:0:Key", AdminKey);
            builder.UseSetting("Platform:ApiKeys:0:Name", "devices-admin");
            builder.UseSetting("Platform:ApiKeys:0:Role", "Admin");
            builder.UseSetting("Platform:ApiKeys:1:Key", OperatorKey);
            builder.UseSetting("Platform:ApiKeys:1:Name", "devices-operator");
            builder.UseSetting("Platform:ApiKeys:1:Role", "Operator");
            foreach (var (key, value) in settings) builder.UseSetting(key, value);
            builder.ConfigureLogging(l => l.ClearProviders().SetMinimumLevel(LogLevel.Warning));
        }
    }

    private static Dictionary<string, string?> Embedded(bool simulate = false) => new()
    {
        ["Platform:Mqtt:EmbeddedPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Platform:Devices:Simulate"] = simulate ? "true" : "false",
    };

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Should_SeedDemoDevices_When_EmbeddedDefaultStartsFirstTime()
    {
        // Arrange
        using var dir = new TempDirectory("devices-api");
        await using var factory = new Factory(dir.Path, Embedded());

        // Act
        var list = (JsonArray)await ReadAsync(await factory.Client(OperatorKey).GetAsync("/api/devices"), HttpStatusCode.OK);

        // Assert
        var ids = list.Select(d => d!["id"]!.GetValue<string>()).ToList();
        Assert.Equal(["bedroom-light", "front-door-lock", "kitchen-light", "living-room-dimmer", "temperature-sensor", "thermostat"], ids);
        var door = list.Single(d => d!["id"]!.GetValue<string>() == "front-door-lock")!;
        Assert.True(door["highRisk"]!.GetValue<bool>());
        Assert.Equal("devices/front-door-lock/set", door["transport"]!["commandTopic"]!.GetValue<string>());
        Assert.False(File.Exists(Path.Combine(dir.Path, "devices.json"))); // kept in the platform database, shared by all nodes
    }

    [Fact]
    public async Task Should_CreateReadReplaceAndDeleteDevices_When_AdminUsesTheRegistry()
    {
        // Arrange
        using var dir = new TempDirectory("devices-api");
        await using var factory = new Factory(dir.Path, Embedded());
        var admin = factory.Client(AdminKey);

        // Act + Assert: create
        var created = await ReadAsync(await admin.PostAsJsonAsync("/api/devices", new
        {
            id = "garage-door", name = "Garage door", aliases = new[] { "garage" }, room = "garage", type = "switch",
            highRisk = true, highRiskCommands = new[] { "turn on" }, permittedUsers = new[] { "alice" },
            transport = new { kind = "Mqtt", commandTopic = "home/garage/cmd", stateTopic = "home/garage/state" },
        }), HttpStatusCode.Created);
        Assert.Equal(["on_off"], created["capabilities"]!.AsArray().Select(c => c!.GetValue<string>()).ToArray());
        Assert.Equal(["on"], created["highRiskCommands"]!.AsArray().Select(c => c!.GetValue<string>()).ToArray());
        Assert.Equal("home/garage/state", created["transport"]!["stateTopic"]!.GetValue<string>());

        // read (case-insensitive id)
        var read = await ReadAsync(await factory.Client(OperatorKey).GetAsync("/api/devices/GARAGE-DOOR"), HttpStatusCode.OK);
        Assert.Equal("Garage door", read["name"]!.GetValue<string>());

        // replace
        var replaced = await ReadAsync(await admin.PutAsJsonAsync("/api/devices/garage-door", new
        {
            name = "Garage opener", type = "switch", transport = new { kind = "Http", url = "http://127.0.0.1:9/garage" },
        }), HttpStatusCode.OK);
        Assert.Equal("Http", replaced["transport"]!["kind"]!.GetValue<string>());
        Assert.False(replaced["highRisk"]!.GetValue<bool>());
        Assert.Equal(created["createdAt"]!.GetValue<DateTimeOffset>(), replaced["createdAt"]!.GetValue<DateTimeOffset>());

        // duplicate
        await ReadAsync(await admin.PostAsJsonAsync("/api/devices", new { id = "garage-door", name = "x", type = "light" }), HttpStatusCode.Conflict);

        // delete
        await ReadAsync(await admin.DeleteAsync("/api/devices/garage-door"), HttpStatusCode.NoContent);
        await ReadAsync(await admin.GetAsync("/api/devices/garage-door"), HttpStatusCode.NotFound);
        await ReadAsync(await admin.DeleteAsync("/api/devices/garage-door"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"id":"bad id","name":"x","type":"light"}""", "not a valid device id")]
    [InlineData("""{"id":"audit","name":"x","type":"light"}""", "not a valid device id")]
    [InlineData("""{"id":"x1","type":"light"}""", "Set name")]
    [InlineData("""{"id":"x1","name":"x"}""", "Set type")]
    [InlineData("""{"id":"x1","name":"x","type":"blender"}""", "no default capabilities")]
    [InlineData("""{"id":"x1","name":"x","type":"light","transport":{"kind":"Http"}}""", "transport.url")]
    [InlineData("""{"id":"x1","name":"x","type":"light","transport":{"commandTopic":"a/+/b"}}""", "not a valid MQTT topic")]
    [InlineData("""{"id":"x1","name":"x","type":"light","transport":{"commandTopic":"a/b","stateTopic":"a/b"}}""", "must differ")]
    [InlineData("""{"id":"x1","name":"x","type":"light","transport":{"kind":"Carrier pigeon"}}""", "")]
    public async Task Should_Answer400_When_DeviceIsInvalid(string body, string expected)
    {
        // Arrange
        using var dir = new TempDirectory("devices-api");
        await using var factory = new Factory(dir.Path, Embedded());

        // Act
        var response = await factory.Client(AdminKey).PostAsync("/api/devices", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        // Assert
        var problem = await ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, problem.ToJsonString().Replace("\\u0027", "'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Should_Answer403_When_OperatorChangesTheRegistry()
    {
        // Arrange
        using var dir = new TempDirectory("devices-api");
        await using var factory = new Factory(dir.Path, Embedded());

        // Act
        var response = await factory.Client(OperatorKey).PostAsJsonAsync("/api/devices", new { id = "x1", name = "x", type = "light" });

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Should_AnswerSimulatedState_When_ServerSimulatesDevices()
    {
        // Arrange: the embedded default with --simulate-devices: the simulator publishes every device's retained state.
        using var dir = new TempDirectory("devices-api");
        await using var factory = new Factory(dir.Path, Embedded(simulate: true));
        var client = factory.Client(OperatorKey);

        // Act
        JsonNode state = new JsonObject();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            state = await ReadAsync(await client.GetAsync("/api/devices/temperature-sensor/state"), HttpStatusCode.OK);
            if (state["state"] is JsonObject) break;
            await Task.Delay(100);
        }

        // Assert
        Assert.Equal(21.5, state["state"]!["temperature"]!.GetValue<double>());
        Assert.Equal("The temperature sensor reads 21.5 °C and 45 % humidity.", state["message"]!.GetValue<string>());
        await ReadAsync(await client.GetAsync("/api/devices/nope/state"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Should_ListAuditEntries_When_AuditIsRead()
    {
        // Arrange: an audit file as ControlDevice writes it.
        using var dir = new TempDirectory("devices-api");
        var log = new JsonLinesDeviceAuditLog(Path.Combine(dir.Path, "audit", "devices.jsonl"));
        for (var i = 0; i < 3; i++)
            await log.AppendAsync(new DeviceAuditEntry { Timestamp = DateTimeOffset.UtcNow, UserId = $"u{i}", DeviceId = "kitchen-light", Command = "on", Result = "Done" });
        await using var factory = new Factory(dir.Path, Embedded());
        var client = factory.Client(OperatorKey);

        // Act
        var latest = (JsonArray)await ReadAsync(await client.GetAsync("/api/devices/audit?take=2"), HttpStatusCode.OK);
        var bad = await client.GetAsync("/api/devices/audit?take=0");

        // Assert
        Assert.Equal(["u2", "u1"], latest.Select(e => e!["userId"]!.GetValue<string>()).ToArray());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public async Task Should_NotSeedDemoDevices_When_ExternalBrokerIsConfigured()
    {
        // Arrange
        using var dir = new TempDirectory("devices-api");
        await using var factory = new Factory(dir.Path, new Dictionary<string, string?>
        {
            ["Platform:Mqtt:Host"] = "127.0.0.1", ["Platform:Mqtt:Port"] = MosquittoPort().ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

        // Act
        var list = (JsonArray)await ReadAsync(await factory.Client(OperatorKey).GetAsync("/api/devices"), HttpStatusCode.OK);

        // Assert
        Assert.Empty(list);
    }

    [Fact]
    public async Task Should_DescribeTheDevicesActivities_When_StudioAsksForDescriptors()
    {
        // Arrange
        using var dir = new TempDirectory("devices-api");
        await using var factory = new Factory(dir.Path, new Dictionary<string, string?> { ["Platform:Mqtt:EmbeddedPort"] = "0" });

        // Act
        var text = await factory.Client(OperatorKey).GetStringAsync("/elsa/api/descriptors/activities");

        // Assert
        Assert.Contains("Platform.ControlDevice", text);
        Assert.Contains("Platform.GetDeviceState", text);
        Assert.Contains("ConfirmationRequired", text);
    }
}
