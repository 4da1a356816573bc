using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Platform.Server.Extensions;
using Platform.Testing;

namespace Platform.Activities.Data.Tests;

/// <summary>/api/data-sources through the real host (SQLite platform database in a temp data directory).</summary>
public sealed class DataSourcesApiTests
{
    private const string AdminKey = "data-tests-admin-key-0123456789abcdef";
    private const string OperatorKey = "data-tests-operator-key-0123456789abcdef";

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
            builder.UseSetting("Platform:ApiKeys:0:Name", "data-admin");
            builder.UseSetting("Platform:ApiKeys:0:Role", "Admin");
            builder.UseSetting("Platform:ApiKeys:1:Key", OperatorKey);
            builder.UseSetting("Platform:ApiKeys:1:Name", "data-operator");
            builder.UseSetting("Platform:ApiKeys:1:Role", "Operator");
            builder.ConfigureLogging(l => l.ClearProviders().SetMinimumLevel(LogLevel.Warning));
        }
    }

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) is JsonObject o ? o : new JsonObject { ["items"] = JsonNode.Parse(text) };
    }

    [Fact]
    public async Task Should_MaskConnectionStrings_When_DataSourcesAreCreatedReadAndUpdated()
    {
        using var dir = new TempDirectory("data-api");
        await using var factory = new Factory(dir.Path);
        var admin = factory.Client(AdminKey);
        const string secret = "S3cr3t-pa55word";
        var created = await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources", new
        {
            name = "crm", provider = "PostgreSql", connectionString = $"Host=db.example;Database=crm;Username=reader;Password={secret}",
        }), HttpStatusCode.Created);
        Assert.Equal("crm", created["name"]!.GetValue<string>());
        Assert.False(created["writable"]!.GetValue<bool>());
        var masked = created["connectionString"]!.GetValue<string>();
        Assert.DoesNotContain(secret, masked);
        Assert.Contains("*****", masked);
        Assert.Contains("db.example", masked);

        var list = await admin.GetStringAsync("/api/data-sources");
        Assert.Contains("crm", list);
        Assert.DoesNotContain(secret, list);
        Assert.DoesNotContain(secret, await factory.Client(OperatorKey).GetStringAsync("/api/data-sources/CRM"));

        // The platform database holds the connection string encrypted, and the generated key is private to the owner.
        await using (var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dir.Path, "platform.db")};Mode=ReadOnly"))
        {
            await db.OpenAsync();
            await using var command = db.CreateCommand();
            command.CommandText = "SELECT json FROM configuration_documents WHERE kind = 'data-sources' AND key = 'crm'";
            var stored = (string?)await command.ExecuteScalarAsync();
            Assert.NotNull(stored);
            Assert.DoesNotContain(secret, stored);
        }
        Assert.False(File.Exists(Path.Combine(dir.Path, "data-sources.json")));
        var keyFile = Path.Combine(dir.Path, DataHostExtensions.SecretsKeyFile);
        Assert.True(File.Exists(keyFile));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));

        // Update without a connection string keeps the stored one.
        var updated = await ReadAsync(await admin.PutAsJsonAsync("/api/data-sources/crm", new { writable = true, description = "CRM" }), HttpStatusCode.OK);
        Assert.True(updated["writable"]!.GetValue<bool>());
        Assert.Equal(masked, updated["connectionString"]!.GetValue<string>());

        await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources", new { name = "crm", provider = "Sqlite", connectionString = "Data Source=x.db" }), HttpStatusCode.Conflict);
        await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources", new { name = "bad name!", provider = "Sqlite", connectionString = "Data Source=x.db" }), HttpStatusCode.BadRequest);
        await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources", new { name = "broken", provider = "Sqlite", connectionString = "Nonsense Key=1" }), HttpStatusCode.BadRequest);
        await ReadAsync(await factory.Client(OperatorKey).DeleteAsync("/api/data-sources/crm"), HttpStatusCode.Forbidden);
        await ReadAsync(await admin.DeleteAsync("/api/data-sources/crm"), HttpStatusCode.NoContent);
        await ReadAsync(await admin.GetAsync("/api/data-sources/crm"), HttpStatusCode.NotFound);
        var anonymous = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/data-sources")).StatusCode);
    }

    [Fact]
    public async Task Should_Answer400_When_SavedWorkflowInterpolatesSql()
    {
        using var dir = new TempDirectory("data-api");
        await using var factory = new Factory(dir.Path);
        var admin = factory.Client(AdminKey);
        var activity = new JsonObject
        {
            ["id"] = "q1", ["type"] = "Platform.QueryDatabase", ["version"] = 1, ["name"] = "Orders",
            ["dataSource"] = DataHost.Literal("shop"),
            ["sql"] = DataHost.Expr("JavaScript", "`SELECT * FROM orders WHERE customer = '${getInput('text')}'`"),
        };
        using var response = await admin.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = DataHost.Model(activity), ["publish"] = false });
        var problem = await ReadAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("@name placeholders", problem.ToJsonString());
    }

    [Fact]
    public async Task Should_Answer422WithReason_When_TestedConnectionFails()
    {
        using var dir = new TempDirectory("data-api");
        await using var factory = new Factory(dir.Path);
        var admin = factory.Client(AdminKey);
        await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources", new
        {
            name = "nowhere", provider = "PostgreSql", connectionString = "Host=127.0.0.1;Port=1;Database=x;Username=u;Password=p;Timeout=2",
        }), HttpStatusCode.Created);
        var problem = await ReadAsync(await admin.PostAsync("/api/data-sources/nowhere/test", null), HttpStatusCode.UnprocessableEntity);
        Assert.Contains("Cannot connect", problem["title"]!.GetValue<string>());
        Assert.Contains("PostgreSql connection failed", problem["detail"]!.GetValue<string>());

        await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources", new
        {
            name = "missing-file", provider = "Sqlite", connectionString = $"Data Source={Path.Combine(dir.Path, "absent.db")}",
        }), HttpStatusCode.Created);
        await ReadAsync(await admin.PostAsync("/api/data-sources/missing-file/test", null), HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task Should_Answer200_When_TestedConnectionWorks()
    {
        using var dir = new TempDirectory("data-api");
        var file = Path.Combine(dir.Path, "shop.db");
        await using (var c = new SqliteConnection($"Data Source={file};Pooling=False"))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE t (x INTEGER)";
            await cmd.ExecuteNonQueryAsync();
        }
        await using var factory = new Factory(dir.Path);
        var admin = factory.Client(AdminKey);
        await ReadAsync(await admin.PutAsJsonAsync("/api/data-sources/shop", new { provider = "Sqlite", connectionString = $"Data Source={file}" }), HttpStatusCode.Created);
        var ok = await ReadAsync(await admin.PostAsync("/api/data-sources/shop/test", null), HttpStatusCode.OK);
        Assert.True(ok["success"]!.GetValue<bool>());
        SqliteConnection.ClearAllPools();
    }

    [Fact]
    public async Task Should_Answer_409_With_Recovery_Steps_When_Secrets_Key_Was_Replaced()
    {
        // Arrange: a data source saved under one key, then the key file is replaced (lost key).
        using var dir = new TempDirectory("data-api-key");
        await using (var first = new Factory(dir.Path))
        {
            await ReadAsync(await first.Client(AdminKey).PostAsJsonAsync("/api/data-sources", new
            {
                name = "crm", provider = "Sqlite", connectionString = "Data Source=crm.db",
            }), HttpStatusCode.Created);
        }
        await File.WriteAllTextAsync(Path.Combine(dir.Path, DataHostExtensions.SecretsKeyFile), Platform.Activities.Security.SecretProtector.GenerateKey());

        // Act
        await using var second = new Factory(dir.Path);
        var response = await second.Client(AdminKey).GetAsync("/api/data-sources/crm");

        // Assert: a clear 4xx that says how to recover, not a 500.
        var problem = await ReadAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("Restore the original key", problem["detail"]!.GetValue<string>());
    }
}
