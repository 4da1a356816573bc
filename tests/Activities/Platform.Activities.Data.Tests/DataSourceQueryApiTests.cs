using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Platform.Testing;

namespace Platform.Activities.Data.Tests;

/// <summary>POST /api/data-sources/{name}/query (the Data sources page's read-only query) through the real host on a real SQLite file.</summary>
public sealed class DataSourceQueryApiTests : IAsyncLifetime
{
    private const string AdminKey = "data-query-admin-key-0123456789abcdef";
    private const string OperatorKey = "data-query-operator-key-0123456789abcdef";
    private readonly TempDirectory _dir = new("data-query-api");
    private Factory? _factory;
    private string _file = "";

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
            builder.UseSetting("Platform:Mqtt:EmbeddedPort", "0");
            builder.ConfigureLogging(l => l.ClearProviders().SetMinimumLevel(LogLevel.Warning));
        }
    }

    public async ValueTask InitializeAsync()
    {
        _file = Path.Combine(_dir.Path, "shop.db");
        await using (var c = new SqliteConnection($"Data Source={_file};Pooling=False"))
        {
            await c.OpenAsync();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, total REAL); " +
                              "INSERT INTO orders (status, total) VALUES ('open', 10.5), ('open', 20), ('shipped', 7), ('open', 3);";
            await cmd.ExecuteNonQueryAsync();
        }
        _factory = new Factory(_dir.Path);
        var admin = _factory.Client(AdminKey);
        using var created = await admin.PostAsJsonAsync("/api/data-sources",
            new { name = "shop", provider = "Sqlite", connectionString = $"Data Source={_file}", writable = true });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        if (_factory is not null) await _factory.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return (JsonObject)JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task Should_AnswerColumnsAndRows_When_AdminRunsAQueryWithParameters()
    {
        // Arrange
        var admin = _factory!.Client(AdminKey);

        // Act
        var all = await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources/shop/query",
            new { sql = "SELECT id, status, total FROM orders WHERE status = @status ORDER BY id", parameters = new { status = "open" } }), HttpStatusCode.OK);
        var limited = await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources/shop/query",
            new { sql = "SELECT id FROM orders ORDER BY id", rowLimit = 2 }), HttpStatusCode.OK);

        // Assert
        Assert.Equal(["id", "status", "total"], all["columns"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal(3, all["rowCount"]!.GetValue<int>());
        Assert.Equal(20.0, all["rows"]![1]![2]!.GetValue<double>());
        Assert.False(all["truncated"]!.GetValue<bool>());
        Assert.Equal(2, limited["rowCount"]!.GetValue<int>());
        Assert.True(limited["truncated"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Should_RefuseTheWrite_When_TheQueryWritesToAWritableDataSource()
    {
        // Arrange: the data source is writable, yet the Studio's query is read-only.
        var admin = _factory!.Client(AdminKey);

        // Act
        var refused = await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources/shop/query",
            new { sql = "DELETE FROM orders" }), HttpStatusCode.UnprocessableEntity);
        var count = await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources/shop/query",
            new { sql = "SELECT COUNT(*) AS n FROM orders" }), HttpStatusCode.OK);

        // Assert
        Assert.Contains("read-only", refused["detail"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(4, count["rows"]![0]![0]!.GetValue<long>());
    }

    [Fact]
    public async Task Should_Answer4xx_When_TheQueryIsBadOrTheKeyMayNotRunIt()
    {
        // Arrange
        var admin = _factory!.Client(AdminKey);
        var reader = _factory!.Client(OperatorKey);

        // Act
        var empty = await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources/shop/query", new { sql = " " }), HttpStatusCode.BadRequest);
        await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources/shop/query", new { sql = "SELECT 1", rowLimit = 5000 }), HttpStatusCode.BadRequest);
        await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources/shop/query", new { sql = "SELECT @x", parameters = new { x = new { y = 1 } } }), HttpStatusCode.BadRequest);
        await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources/nope/query", new { sql = "SELECT 1" }), HttpStatusCode.NotFound);
        var unknownTable = await ReadAsync(await admin.PostAsJsonAsync("/api/data-sources/shop/query", new { sql = "SELECT * FROM nope" }), HttpStatusCode.UnprocessableEntity);
        var forbidden = await reader.PostAsJsonAsync("/api/data-sources/shop/query", new { sql = "SELECT 1" });

        // Assert
        Assert.Contains("SELECT", empty["detail"]!.GetValue<string>());
        Assert.Contains("no such table", unknownTable["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
    }
}
