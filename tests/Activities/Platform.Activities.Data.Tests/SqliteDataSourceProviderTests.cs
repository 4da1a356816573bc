using Microsoft.Data.Sqlite;
using Platform.Testing;

namespace Platform.Activities.Data.Tests;

/// <summary>The SQLite provider's connections against a real database file.</summary>
public sealed class SqliteDataSourceProviderTests
{
    [Fact]
    public void Should_GiveEachQueryItsOwnNativeConnection_When_ManyOpenAtOnce()
    {
        // Microsoft.Data.Sqlite's pool can lend one native connection to two openers at once (dotnet/efcore#39008);
        // PoolSafeSqliteConnection takes opens and closes one at a time.
        using var directory = new TempDirectory("platform-data-pool");
        var file = directory.File("shop.db");
        using (var create = new SqliteConnection($"Data Source={file};Pooling=False")) create.Open();
        var provider = new SqliteDataSourceProvider();
        var pooled = "";

        var problems = ConnectionPoolStress.Run(openers: 16, rounds: 1000, open: () =>
        {
            var connection = (SqliteConnection)provider.OpenAsync($"Data Source={file}", readOnly: true, CancellationToken.None).GetAwaiter().GetResult();
            pooled = connection.ConnectionString;
            return new(connection.Handle!.DangerousGetHandle(), connection.Dispose);
        }, whileAllOpen: () => SqliteConnection.ClearPool(new SqliteConnection(pooled)));

        SqliteConnection.ClearPool(new SqliteConnection(pooled));
        Assert.Empty(problems);
    }
}
