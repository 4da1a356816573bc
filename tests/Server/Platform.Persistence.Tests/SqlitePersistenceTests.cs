using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Persistence.EFCore;
using Platform.Testing;

namespace Platform.Persistence.Tests;

/// <summary>The store contract on SQLite (a temp file per test, WAL mode, as in production).</summary>
public sealed class SqlitePersistenceTests : PersistenceContractTests
{
    private readonly TempDirectory _directory = new("platform-sqlite");
    private string? _connectionString;

    protected override Task<PlatformDatabaseSettings> CreateDatabaseAsync()
    {
        _connectionString = $"Data Source={_directory.File("platform.db")}";
        return Task.FromResult(new PlatformDatabaseSettings(PlatformDatabaseProvider.Sqlite, _connectionString));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_connectionString is not null) SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        _directory.Dispose();
    }

    [Fact]
    public async Task Should_UseWalJournal_When_DatabaseIsOpened()
    {
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";

        var mode = (string?)await command.ExecuteScalarAsync(Ct);

        Assert.Equal("wal", mode);
    }

    [Fact]
    public void Should_GiveEachContextItsOwnNativeConnection_When_ManyOpenAtOnce()
    {
        // Microsoft.Data.Sqlite's pool can lend one native connection to two openers at once (dotnet/efcore#39008).
        // Without PoolSafeSqliteRelationalConnection this failed in three runs of four.
        var factory = Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>();

        var problems = ConnectionPoolStress.Run(openers: 16, rounds: 1000, open: () =>
        {
            var db = factory.CreateDbContext();
            db.Database.OpenConnection();
            return new(((SqliteConnection)db.Database.GetDbConnection()).Handle!.DangerousGetHandle(), db.Dispose);
        }, whileAllOpen: () => SqliteConnection.ClearPool(new SqliteConnection(_connectionString)));

        Assert.Empty(problems);
    }
}
