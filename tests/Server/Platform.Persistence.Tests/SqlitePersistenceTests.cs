using Microsoft.Data.Sqlite;
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
}
