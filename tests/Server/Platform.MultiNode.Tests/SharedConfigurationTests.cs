using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Platform.Activities.AI;
using Platform.Activities.Data;
using Platform.Activities.Devices;
using Platform.Activities.Security;
using Platform.MultiNode.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.MultiNode.Tests;

/// <summary>
/// Intent sets, devices and data sources live in the platform database: what one node's API creates, changes or deletes, the
/// other node sees after its refresh interval; a node's old JSON files are imported once.
/// </summary>
public sealed class SharedConfigurationTests(PostgresFixture postgres) : IAsyncLifetime
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(15);
    private readonly TempDirectory _temp = new("multinode-config");
    private readonly List<ServerNode> _nodes = [];
    private readonly string _secretsKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        _temp.Dispose();
    }

    private Dictionary<string, string> Settings => new()
    {
        ["Platform__ConfigurationRefreshInterval"] = "0.3",
        ["Platform__Secrets__Key"] = _secretsKey, // every node needs the same key to read the data sources' connection strings
        ["Platform__AI__Embeddings__Enabled"] = "false",
    };

    private async Task<(ServerNode A, ServerNode B, string Database)> StartTwoNodesAsync()
    {
        var db = await postgres.CreateDatabaseAsync("sharedconfig");
        var a = await ServerNode.StartAsync("node-a", _temp.CreateSubdirectory("a"), db, Settings);
        _nodes.Add(a);
        var b = await ServerNode.StartAsync("node-b", _temp.CreateSubdirectory("b"), db, Settings);
        _nodes.Add(b);
        return (a, b, db);
    }

    private string Logs => string.Join('\n', _nodes.Select(n => n.Output));

    /// <summary>Polls until the condition holds (true) or the time is up (false).</summary>
    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            if (await condition()) return true;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        return await condition();
    }

    private static async Task<HttpStatusCode> StatusAsync(Task<HttpResponseMessage> request)
    {
        using var response = await request;
        return response.StatusCode;
    }

    private static async Task<JsonNode> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
            return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text)!;
        }
    }

    private static JsonObject Intent(string name, params string[] examples) =>
        new() { ["name"] = name, ["examples"] = new JsonArray(examples.Select(e => (JsonNode)JsonValue.Create(e)!).ToArray()) };

    private static JsonObject LightsSet(string id, bool withFan = false)
    {
        var intents = new JsonArray(
            Intent("lights_on", "turn on the light", "switch the lamp on", "lights on please"),
            Intent("lights_off", "turn off the light", "switch the lamp off", "lights off please"));
        if (withFan) intents.Add(Intent("fan_on", "start the fan", "switch the fan on", "fan on please"));
        return new JsonObject { ["id"] = id, ["intents"] = intents };
    }

    private static async Task<IReadOnlyList<string>?> PortsAsync(ServerNode node, string typeName)
    {
        var body = await node.Admin.GetJsonAsync($"{Api.Root}/descriptors/activities");
        var descriptor = body["items"]!.AsArray().FirstOrDefault(d => d!["typeName"]!.GetValue<string>() == typeName);
        return descriptor?["ports"]!.AsArray().Select(p => p!["name"]!.GetValue<string>()).ToList();
    }

    [Fact]
    public async Task Should_Recognise_With_An_Intent_Set_Created_On_Another_Node_When_Nodes_Share_A_Database()
    {
        // Arrange
        var (a, b, _) = await StartTwoNodesAsync();
        var id = $"lights{Guid.NewGuid():N}"[..20];
        var typeName = IntentSetRules.TypeNameOf(id);

        // Act: create on A, test on B.
        await ReadAsync(await a.Admin.PostAsJsonAsync("/api/intents", LightsSet(id)), HttpStatusCode.Created);
        var recognised = await EventuallyAsync(async () =>
            await StatusAsync(b.Operator.PostAsJsonAsync($"/api/intents/{id}/test", new { text = "please turn on the light" })) == HttpStatusCode.OK, Soon);

        // Assert
        Assert.True(recognised, $"Node B never knew the set.\n{Logs}");
        var test = await ReadAsync(await b.Operator.PostAsJsonAsync($"/api/intents/{id}/test", new { text = "please turn on the light" }), HttpStatusCode.OK);
        Assert.Equal("lights_on", test["intent"]!.GetValue<string>());
        Assert.True(await EventuallyAsync(async () => (await PortsAsync(b, typeName))?.Contains("lights_off") == true, Soon), $"No type on B.\n{Logs}");

        // Act: an update on A adds a port on B.
        await ReadAsync(await a.Admin.PutAsJsonAsync($"/api/intents/{id}", LightsSet(id, withFan: true)), HttpStatusCode.OK);
        var fanPort = await EventuallyAsync(async () => (await PortsAsync(b, typeName))?.Contains("fan_on") == true, Soon);
        var fanIntent = await EventuallyAsync(async () =>
        {
            var r = await ReadAsync(await b.Operator.PostAsJsonAsync($"/api/intents/{id}/test", new { text = "start the fan" }), HttpStatusCode.OK);
            return r["intent"]!.GetValue<string>() == "fan_on" && r["version"]!.GetValue<int>() == 2;
        }, Soon);

        // Assert
        Assert.True(fanPort, $"Node B's activity type has no fan_on port.\n{Logs}");
        Assert.True(fanIntent, $"Node B does not recognise the new intent.\n{Logs}");

        // Act: a delete on A removes the set and its type on B.
        await ReadAsync(await a.Admin.DeleteAsync($"/api/intents/{id}"), HttpStatusCode.NoContent);
        var gone = await EventuallyAsync(async () =>
            await StatusAsync(b.Operator.PostAsJsonAsync($"/api/intents/{id}/test", new { text = "turn on the light" })) == HttpStatusCode.NotFound, Soon);
        var typeGone = await EventuallyAsync(async () => await PortsAsync(b, typeName) is null, Soon);

        // Assert
        Assert.True(gone, $"Node B still answers for the deleted set.\n{Logs}");
        Assert.True(typeGone, $"Node B still lists the deleted set's activity type.\n{Logs}");
    }

    [Fact]
    public async Task Should_Find_A_Device_Created_On_Another_Node_When_Nodes_Share_A_Database()
    {
        // Arrange
        var (a, b, _) = await StartTwoNodesAsync();
        var id = $"porch-light-{Guid.NewGuid():N}"[..24];

        // Act
        await ReadAsync(await a.Admin.PostAsJsonAsync("/api/devices", new
        {
            id, name = "Porch light", room = "porch", type = "light",
            transport = new { kind = "Mqtt", commandTopic = $"test/{id}/set", stateTopic = $"test/{id}/state" },
        }), HttpStatusCode.Created);
        var known = await EventuallyAsync(async () => await StatusAsync(b.Operator.GetAsync($"/api/devices/{id.ToUpperInvariant()}")) == HttpStatusCode.OK, Soon);

        // Assert
        Assert.True(known, $"Node B never knew the device.\n{Logs}");
        var device = await ReadAsync(await b.Operator.GetAsync($"/api/devices/{id}"), HttpStatusCode.OK);
        Assert.Equal("Porch light", device["name"]!.GetValue<string>());
        Assert.Equal($"test/{id}/set", device["transport"]!["commandTopic"]!.GetValue<string>());
        var state = await ReadAsync(await b.Operator.GetAsync($"/api/devices/{id}/state"), HttpStatusCode.OK); // GetDeviceState's path on node B
        Assert.Equal(id, state["deviceId"]!.GetValue<string>());

        // Act: a replace and a delete on A.
        await ReadAsync(await a.Admin.PutAsJsonAsync($"/api/devices/{id}", new
        {
            name = "Front porch light", room = "porch", type = "light",
            transport = new { kind = "Mqtt", commandTopic = $"test/{id}/set", stateTopic = $"test/{id}/state" },
        }), HttpStatusCode.OK);
        var renamed = await EventuallyAsync(async () =>
            (await ReadAsync(await b.Operator.GetAsync($"/api/devices/{id}"), HttpStatusCode.OK))["name"]!.GetValue<string>() == "Front porch light", Soon);
        await ReadAsync(await a.Admin.DeleteAsync($"/api/devices/{id}"), HttpStatusCode.NoContent);
        var gone = await EventuallyAsync(async () => await StatusAsync(b.Operator.GetAsync($"/api/devices/{id}")) == HttpStatusCode.NotFound, Soon);

        // Assert
        Assert.True(renamed, $"Node B never saw the new name.\n{Logs}");
        Assert.True(gone, $"Node B still knows the deleted device.\n{Logs}");
        var ids = (await b.Operator.GetJsonArrayAsync("/api/devices")).Select(d => d!["id"]!.GetValue<string>()).ToList();
        Assert.Contains("kitchen-light", ids); // the demo devices were seeded once, by the first node
    }

    [Fact]
    public async Task Should_Test_A_Data_Source_Created_On_Another_Node_When_Nodes_Share_A_Database()
    {
        // Arrange: the data source points at the test's own PostgreSQL database.
        var (a, b, database) = await StartTwoNodesAsync();
        var name = $"crm-{Guid.NewGuid():N}"[..16];

        // Act
        await ReadAsync(await a.Admin.PostAsJsonAsync("/api/data-sources", new { name, provider = "PostgreSql", connectionString = database }),
            HttpStatusCode.Created);
        var known = await EventuallyAsync(async () => await StatusAsync(b.Admin.PostAsync($"/api/data-sources/{name}/test", null)) == HttpStatusCode.OK, Soon);

        // Assert: node B decrypts the connection string with the shared key and connects.
        Assert.True(known, $"Node B never could test the data source.\n{Logs}");
        var test = await ReadAsync(await b.Admin.PostAsync($"/api/data-sources/{name}/test", null), HttpStatusCode.OK);
        Assert.True(test["success"]!.GetValue<bool>());

        // Act: a delete on A.
        await ReadAsync(await a.Admin.DeleteAsync($"/api/data-sources/{name}"), HttpStatusCode.NoContent);
        var gone = await EventuallyAsync(async () => await StatusAsync(b.Operator.GetAsync($"/api/data-sources/{name}")) == HttpStatusCode.NotFound, Soon);

        // Assert
        Assert.True(gone, $"Node B still knows the deleted data source.\n{Logs}");
    }

    [Fact]
    public async Task Should_Import_The_Node_Files_Once_When_A_Server_First_Starts_On_The_Database()
    {
        // Arrange: the JSON files a node kept before (SQLite, the embedded default).
        var data = _temp.CreateSubdirectory("import");
        var now = DateTimeOffset.UtcNow;
        await new JsonFileIntentSetStore(Path.Combine(data, "intent-sets.json")).SaveAsync(new IntentSet
        {
            Id = "imported", Version = 3, CreatedAt = now, UpdatedAt = now,
            Intents =
            [
                new IntentDefinition { Name = "greet", Examples = ["hello there", "good morning", "hi assistant"] },
                new IntentDefinition { Name = "bye", Examples = ["good bye", "see you later", "bye for now"] },
            ],
        });
        await new JsonFileDeviceStore(Path.Combine(data, "devices.json")).SaveAsync(new Device
        {
            Id = "old-lamp", Name = "Old lamp", Room = "attic", Type = DeviceTypes.Light, CreatedAt = now, UpdatedAt = now,
        });
        const string secret = "Data Source=shop.db;Password=imported-secret";
        await new JsonFileDataSourceStore(Path.Combine(data, "data-sources.json"), new SecretProtector(_secretsKey)).SaveAsync(new DataSource
        {
            Name = "legacy", Provider = DataSourceProviderKind.Sqlite, ConnectionString = secret, CreatedAt = now, UpdatedAt = now,
        });

        await new JsonLinesDeviceAuditLog(Path.Combine(data, "audit", "devices.jsonl")).AppendAsync(new DeviceAuditEntry
        {
            Timestamp = now, UserId = "grandma", DeviceId = "old-lamp", Command = "on", Result = "Done",
        });

        // Act
        var first = await ServerNode.StartAsync("import-1", data, environment: Settings);
        var audit = await first.Operator.GetJsonArrayAsync("/api/devices/audit");
        _nodes.Add(first);
        var set = await ReadAsync(await first.Admin.GetAsync("/api/intents/imported"), HttpStatusCode.OK);
        var devices = (await first.Operator.GetJsonArrayAsync("/api/devices")).Select(d => d!["id"]!.GetValue<string>()).ToList();
        var source = await ReadAsync(await first.Admin.GetAsync("/api/data-sources/legacy"), HttpStatusCode.OK);
        await ReadAsync(await first.Admin.DeleteAsync("/api/devices/old-lamp"), HttpStatusCode.NoContent);
        await first.KillAsync();
        var second = await ServerNode.StartAsync("import-2", data, environment: Settings);
        _nodes.Add(second);

        // Assert: imported as they were (no demo devices: the file existed), logged, and not imported again after a delete.
        Assert.Equal(3, set["version"]!.GetValue<int>());
        Assert.Equal(["old-lamp"], devices);
        Assert.Equal("Sqlite", source["provider"]!.GetValue<string>());
        Assert.Contains("Imported 1 devices", first.Output);
        Assert.Contains("old-lamp", first.Output);
        Assert.Equal("grandma", Assert.Single(audit)!["userId"]!.GetValue<string>());
        Assert.Single(await second.Operator.GetJsonArrayAsync("/api/devices/audit")); // imported once, not again on restart
        await ReadAsync(await second.Operator.GetAsync("/api/devices/old-lamp"), HttpStatusCode.NotFound);
        await ReadAsync(await second.Admin.GetAsync("/api/intents/imported"), HttpStatusCode.OK);
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data, "platform.db")};Mode=ReadOnly");
        await db.OpenAsync();
        await using var command = db.CreateCommand();
        command.CommandText = "SELECT json FROM configuration_documents WHERE kind = 'data-sources'";
        var stored = (string)(await command.ExecuteScalarAsync())!;
        Assert.DoesNotContain("imported-secret", stored); // still encrypted at rest
        Assert.True(SecretProtector.IsProtected(JsonNode.Parse(stored)!["connectionString"]!.GetValue<string>()));
    }
}

internal static class JsonArrays
{
    public static async Task<JsonArray> GetJsonArrayAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsArray();
    }
}
