using Platform.Persistence.EFCore;
using Platform.Testing;

namespace Platform.Persistence.Tests;

/// <summary>The store contract on a real PostgreSQL server (a new database per test).</summary>
public sealed class PostgreSqlPersistenceTests(PostgresFixture postgres) : PersistenceContractTests
{
    protected override async Task<PlatformDatabaseSettings> CreateDatabaseAsync() =>
        new(PlatformDatabaseProvider.PostgreSql, await postgres.CreateDatabaseAsync("persistence", Ct));
}
