using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Platform.Persistence.EFCore;
using Platform.Testing;

namespace Platform.Activities.AI.Tests;

/// <summary>A test's own SQLite platform database in a temporary directory; disposing clears its pool and deletes it.</summary>
internal sealed class SqliteTestDatabase(string name) : IDisposable
{
    private readonly TempDirectory _directory = new(name);
    private string? _connectionString;

    /// <summary>Registers the platform stores on this database.</summary>
    public Task AddStoresAsync(IServiceCollection services)
    {
        _connectionString = $"Data Source={_directory.File("platform.db")}";
        services.AddPlatformPersistence(new PlatformDatabaseSettings(PlatformDatabaseProvider.Sqlite, _connectionString) { MigrateOnStartup = false });
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        if (_connectionString is not null) SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        _directory.Dispose();
    }
}
