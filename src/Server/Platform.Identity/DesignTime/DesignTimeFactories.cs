using Microsoft.EntityFrameworkCore.Design;
using Platform.Persistence.EFCore;

namespace Platform.Identity.DesignTime;

// Used only by `dotnet ef` (see add-migration.sh). Generating a migration does not connect to a database.

internal sealed class SqliteIdentityDesignTimeFactory : IDesignTimeDbContextFactory<SqlitePlatformIdentityDbContext>
{
    public SqlitePlatformIdentityDbContext CreateDbContext(string[] args) => new(IdentityServiceCollectionExtensions.BuildOptions<SqlitePlatformIdentityDbContext>(
        new PlatformDatabaseSettings(PlatformDatabaseProvider.Sqlite, "Data Source=design-time.db")));
}

internal sealed class PostgreSqlIdentityDesignTimeFactory : IDesignTimeDbContextFactory<PostgreSqlPlatformIdentityDbContext>
{
    public PostgreSqlPlatformIdentityDbContext CreateDbContext(string[] args) => new(IdentityServiceCollectionExtensions.BuildOptions<PostgreSqlPlatformIdentityDbContext>(
        new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, "Host=localhost;Database=platform_design_time")));
}
