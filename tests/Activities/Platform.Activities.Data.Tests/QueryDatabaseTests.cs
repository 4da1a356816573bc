using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Npgsql;
using Platform.Testing;
using static Platform.Activities.Data.Tests.DataHost;

namespace Platform.Activities.Data.Tests;

/// <summary>QueryDatabase against real SQLite (temp file) and PostgreSQL databases; every test seeds its own.</summary>
public sealed class QueryDatabaseTests(PostgresFixture postgres)
{
    private const string Type = "Platform.QueryDatabase";
    private const string Seed =
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, total NUMERIC(10,2) NOT NULL);" +
        "INSERT INTO orders (id, customer, total) VALUES (1, 'alice', 10.50), (2, 'bob', 20.00), (3, 'carol', 30.00), (4, 'alice', 5.00);";

    /// <summary>Creates a database with the orders table and registers it as data source "shop".</summary>
    private async Task SeedAsync(DataHost host, string provider, bool writable = false)
    {
        if (provider == "Sqlite")
        {
            var file = Path.Combine(host.Directory, "shop.db");
            await using (var c = new SqliteConnection($"Data Source={file};Pooling=False"))
            {
                await c.OpenAsync();
                await using var cmd = c.CreateCommand();
                cmd.CommandText = Seed;
                await cmd.ExecuteNonQueryAsync();
            }
            await host.AddSourceAsync("shop", DataSourceProviderKind.Sqlite, $"Data Source={file}", writable);
        }
        else
        {
            var cs = await postgres.CreateDatabaseAsync("data");
            await using (var c = new NpgsqlConnection(cs))
            {
                await c.OpenAsync();
                await using var cmd = c.CreateCommand();
                cmd.CommandText = Seed;
                await cmd.ExecuteNonQueryAsync();
            }
            await host.AddSourceAsync("shop", DataSourceProviderKind.PostgreSql, cs, writable);
        }
    }

    private static async Task<long> CountOrdersAsync(DataHost host)
    {
        var r = await host.RunAsync(Type, Query("shop", "SELECT COUNT(*) AS n FROM orders"));
        Assert.Equal("Done", r.Outcome());
        return Convert.ToInt64(r.Out("Scalar"), System.Globalization.CultureInfo.InvariantCulture);
    }

    [Theory, InlineData("Sqlite"), InlineData("PostgreSql")]
    public async Task Should_ReturnMatchingRows_When_ParameterIsBound(string provider)
    {
        await using var host = new DataHost();
        await SeedAsync(host, provider);
        var r = await host.RunAsync(Type, Query("shop", "SELECT id, customer FROM orders WHERE customer = @customer ORDER BY id",
            new JsonObject { ["customer"] = "alice" }));
        Assert.Equal("Done", r.Outcome());
        var rows = r.Rows();
        Assert.Equal(["1", "4"], rows.Select(x => x["id"]!.ToString()!).ToArray());
        Assert.Equal("2", r.Out("RowCount"));
        Assert.Equal("1", r.Out("Scalar"));
    }

    [Theory, InlineData("Sqlite"), InlineData("PostgreSql")]
    public async Task Should_EvaluateExpressionParameter_When_ValueIsAnExpressionObject(string provider)
    {
        await using var host = new DataHost();
        await SeedAsync(host, provider);
        var r = await host.RunAsync(Type, Query("shop", "SELECT id FROM orders WHERE customer = @customer",
            new JsonObject { ["customer"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'bo' + 'b'" } }));
        Assert.Equal("Done", r.Outcome());
        Assert.Equal("2", Assert.Single(r.Rows())["id"]!.ToString());
    }

    [Theory, InlineData("Sqlite"), InlineData("PostgreSql")]
    public async Task Should_TakeEmptyOutcome_When_NoRowMatches(string provider)
    {
        await using var host = new DataHost();
        await SeedAsync(host, provider);
        var r = await host.RunAsync(Type, Query("shop", "SELECT * FROM orders WHERE customer = @customer", new JsonObject { ["customer"] = "zed" }));
        Assert.Equal("Empty", r.Outcome());
        Assert.Empty(r.Rows());
        Assert.Equal("0", r.Out("RowCount"));
    }

    [Theory, InlineData("Sqlite"), InlineData("PostgreSql")]
    public async Task Should_StopAtRowLimit_When_MoreRowsMatch(string provider)
    {
        await using var host = new DataHost();
        await SeedAsync(host, provider);
        var r = await host.RunAsync(Type, Query("shop", "SELECT id FROM orders ORDER BY id", rowLimit: 2));
        Assert.Equal("Done", r.Outcome());
        Assert.Equal(2, r.Rows().Count);
        Assert.True(r.Payload.ContainsKey("truncated"));
    }

    [Theory, InlineData("Sqlite", false), InlineData("PostgreSql", false), InlineData("Sqlite", true), InlineData("PostgreSql", true)]
    public async Task Should_ReturnFirstRowsQuickly_When_ResultIsLargerThanRowLimit(string provider, bool writable)
    {
        await using var host = new DataHost();
        await SeedAsync(host, provider, writable);
        var sql = provider == "Sqlite"
            ? "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000) SELECT x FROM c"
            : "SELECT g AS x FROM generate_series(1, 200000) g";
        var r = await host.RunAsync(Type, Query("shop", sql, rowLimit: 5));
        Assert.True(r.Outcome() == "Done", r.Out("Error"));
        Assert.Equal(["1", "2", "3", "4", "5"], r.Rows().Select(x => x["x"]!.ToString()!).ToArray());
        Assert.Equal(4, await CountOrdersAsync(host));
    }

    [Theory, InlineData("Sqlite"), InlineData("PostgreSql")]
    public async Task Should_TakeErrorOutcome_When_QueryExceedsTimeout(string provider)
    {
        await using var host = new DataHost();
        await SeedAsync(host, provider);
        var sql = provider == "Sqlite"
            ? "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT MAX(x) FROM c"
            : "SELECT pg_sleep(10)";
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var r = await host.RunAsync(Type, Query("shop", sql, timeout: "00:00:00.5"));
        Assert.Equal("Error", r.Outcome());
        Assert.Contains("did not finish within 0.5 s", r.Out("Error"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"The timeout took {watch.Elapsed}.");
    }

    [Theory, InlineData("Sqlite"), InlineData("PostgreSql")]
    public async Task Should_RejectWrite_When_DataSourceIsReadOnly(string provider)
    {
        await using var host = new DataHost();
        await SeedAsync(host, provider);
        var r = await host.RunAsync(Type, Query("shop", "DELETE FROM orders"));
        Assert.Equal("Error", r.Outcome());
        Assert.Contains("read-only", r.Out("Error"));
        Assert.Equal(4, await CountOrdersAsync(host));
    }

    [Theory, InlineData("Sqlite"), InlineData("PostgreSql")]
    public async Task Should_Write_When_DataSourceIsWritable(string provider)
    {
        await using var host = new DataHost();
        await SeedAsync(host, provider, writable: true);
        var r = await host.RunAsync(Type, Query("shop", "DELETE FROM orders WHERE customer = @customer", new JsonObject { ["customer"] = "alice" }));
        Assert.Equal("Done", r.Outcome());
        Assert.Equal("2", r.Out("RowCount"));
        Assert.Equal(2, await CountOrdersAsync(host));
    }

    [Theory]
    [InlineData("Sqlite", "'; DROP TABLE orders; --")]
    [InlineData("Sqlite", "1 OR 1=1")]
    [InlineData("Sqlite", "alice' OR '1'='1")]
    [InlineData("PostgreSql", "'; DROP TABLE orders; --")]
    [InlineData("PostgreSql", "1 OR 1=1")]
    [InlineData("PostgreSql", "alice' OR '1'='1")]
    public async Task Should_SelectOnlyWhatParameterSelects_When_ParameterCarriesInjection(string provider, string attack)
    {
        await using var host = new DataHost();
        await SeedAsync(host, provider, writable: true); // even a writable source: the value is data, never SQL
        var r = await host.RunAsync(Type, Query("shop", "SELECT id FROM orders WHERE customer = @customer", new JsonObject { ["customer"] = attack }));
        Assert.Equal("Empty", r.Outcome());
        Assert.Empty(r.Rows());
        var byId = await host.RunAsync(Type, Query("shop", "SELECT id FROM orders WHERE CAST(id AS TEXT) = @id", new JsonObject { ["id"] = attack }));
        Assert.Equal("Empty", byId.Outcome());
        Assert.Equal(4, await CountOrdersAsync(host));
    }

    [Fact]
    public async Task Should_TakeErrorOutcome_When_DataSourceIsUnknown()
    {
        await using var host = new DataHost();
        var r = await host.RunAsync(Type, Query("nowhere", "SELECT 1"));
        Assert.Equal("Error", r.Outcome());
        Assert.Contains("'nowhere' does not exist", r.Out("Error"));
    }
}
