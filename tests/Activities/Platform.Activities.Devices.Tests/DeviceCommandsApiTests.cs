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

/// <summary>POST /api/devices/{id}/commands (the Devices page's test command) through the real host, the embedded broker and the simulator.</summary>
public sealed class DeviceCommandsApiTests : IAsyncLifetime
{
    private const string AdminKey = "device-commands-admin-key-0123456789abcdef";
    private const string OperatorKey = "device-commands-operator-key-0123456789abcdef";
    private readonly TempDirectory _dir = new("device-commands-api");
    private Factory? _factory;

    private sealed class Factory(string dataDirectory) : WebApplicationFactory<Program>
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
            builder.UseSetting("Platform:ApiKeys:0:Role", "Admin");
            builder.UseSetting("Platform:ApiKeys:1:Key", OperatorKey);
            builder.UseSetting("Platform:ApiKeys:1:Role", "Operator");
            builder.UseSetting("Platform:Mqtt:EmbeddedPort", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture));
            builder.UseSetting("Platform:Devices:Simulate", "true");
            builder.ConfigureLogging(l => l.ClearProviders().SetMinimumLevel(LogLevel.Warning));
        }
    }

    public ValueTask InitializeAsync()
    {
        _factory = new Factory(_dir.Path);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        _dir.Dispose();
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Should_SwitchTheDeviceAndAuditIt_When_AdminSendsATestCommand()
    {
        // Arrange: the simulated demo devices.
        var admin = _factory!.Client(AdminKey);

        // Act
        var done = await ReadAsync(await admin.PostAsJsonAsync("/api/devices/kitchen-light/commands", new { command = "on" }), HttpStatusCode.OK);
        var level = await ReadAsync(await admin.PostAsJsonAsync("/api/devices/living-room-dimmer/commands", new { command = "set_level", value = 40 }), HttpStatusCode.OK);
        var audit = (JsonArray)await ReadAsync(await admin.GetAsync("/api/devices/audit?take=5"), HttpStatusCode.OK);

        // Assert
        Assert.Equal("Done", done["outcome"]!.GetValue<string>());
        Assert.True(done["state"]!["on"]!.GetValue<bool>());
        Assert.Equal("Done", level["outcome"]!.GetValue<string>());
        Assert.Contains(audit, e => (string?)e?["deviceId"] == "kitchen-light" && (string?)e?["channel"] == "studio"
                                    && (string?)e?["userId"] == "studio" && (string?)e?["result"] == "Done");
    }

    [Fact]
    public async Task Should_AskForConfirmationThenUnlock_When_TheCommandIsHighRisk()
    {
        // Arrange: the front door lock is high risk; permit the Studio's user.
        var admin = _factory!.Client(AdminKey);
        var door = await ReadAsync(await admin.GetAsync("/api/devices/front-door-lock"), HttpStatusCode.OK);
        door["permittedUsers"] = new JsonArray("studio");
        await ReadAsync(await admin.PutAsJsonAsync("/api/devices/front-door-lock", door), HttpStatusCode.OK);

        // Act
        var ask = await ReadAsync(await admin.PostAsJsonAsync("/api/devices/front-door-lock/commands", new { command = "unlock" }), HttpStatusCode.OK);
        var confirmed = await ReadAsync(await admin.PostAsJsonAsync("/api/devices/front-door-lock/commands", new { command = "unlock", confirmed = true }), HttpStatusCode.OK);

        // Assert
        Assert.Equal("ConfirmationRequired", ask["outcome"]!.GetValue<string>());
        Assert.Equal("Done", confirmed["outcome"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_Answer4xx_When_TheTestCommandIsBadOrNotAllowed()
    {
        // Arrange
        var admin = _factory!.Client(AdminKey);
        var reader = _factory!.Client(OperatorKey);

        // Act
        var missing = await ReadAsync(await admin.PostAsJsonAsync("/api/devices/kitchen-light/commands", new { command = "" }), HttpStatusCode.BadRequest);
        await ReadAsync(await admin.PostAsJsonAsync("/api/devices/kitchen-light/commands", new { command = "on", timeoutSeconds = 600 }), HttpStatusCode.BadRequest);
        await ReadAsync(await admin.PostAsJsonAsync("/api/devices/nope/commands", new { command = "on" }), HttpStatusCode.NotFound);
        var badValue = await ReadAsync(await admin.PostAsJsonAsync("/api/devices/living-room-dimmer/commands", new { command = "set_level", value = 400 }), HttpStatusCode.OK);
        var forbidden = await reader.PostAsJsonAsync("/api/devices/kitchen-light/commands", new { command = "on" });

        // Assert
        Assert.Contains("on, off, toggle", missing["detail"]!.GetValue<string>());
        Assert.Equal("Rejected", badValue["outcome"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }
}
