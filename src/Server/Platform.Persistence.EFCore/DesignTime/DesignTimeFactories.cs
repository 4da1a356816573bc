using Microsoft.EntityFrameworkCore.Design;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.DesignTime;

// Used only by `dotnet ef` (see add-migration.sh). Generating a migration does not connect to a database.

internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePlatformDbContext>
{
    public SqlitePlatformDbContext CreateDbContext(string[] args) => new(PlatformDbContextOptions.Build<SqlitePlatformDbContext>(
        new PlatformDatabaseSettings(PlatformDatabaseProvider.Sqlite, "Data Source=design-time.db")));
}

internal sealed class PostgreSqlDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlPlatformDbContext>
{
    public PostgreSqlPlatformDbContext CreateDbContext(string[] args) => new(PlatformDbContextOptions.Build<PostgreSqlPlatformDbContext>(
        new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, "Host=localhost;Database=platform_design_time")));
}
