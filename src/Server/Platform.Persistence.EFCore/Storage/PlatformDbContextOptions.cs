using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal;
using Microsoft.Extensions.Logging;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>Builds the context options for each provider (used at run time and, without services, at design time).</summary>
internal static class PlatformDbContextOptions
{
    /// <summary>Options for a context created outside DI (design time, tools).</summary>
    public static DbContextOptions<TContext> Build<TContext>(PlatformDatabaseSettings settings) where TContext : PlatformDbContext
    {
        var builder = new DbContextOptionsBuilder<TContext>();
        Configure(builder, settings);
        return builder.Options;
    }

    /// <summary>Configures the provider, the SQLite connection set-up, no-tracking queries and quieter command logging.</summary>
    public static void Configure(DbContextOptionsBuilder builder, PlatformDatabaseSettings settings)
    {
        switch (settings.Provider)
        {
            case PlatformDatabaseProvider.Sqlite:
                builder.UseSqlite(settings.ConnectionString, o => o.MigrationsHistoryTable("__ef_migrations_history"));
                builder.AddInterceptors(SqliteConnectionInitializer.Instance);
#pragma warning disable EF1001 // see PoolSafeSqliteRelationalConnection
                builder.ReplaceService<ISqliteRelationalConnection, PoolSafeSqliteRelationalConnection>();
#pragma warning restore EF1001
                break;
            case PlatformDatabaseProvider.PostgreSql:
                builder.UseNpgsql(settings.ConnectionString, o => o.MigrationsHistoryTable("__ef_migrations_history"));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.Provider, "Unknown database provider.");
        }

        builder.UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking);
        // Every command is logged at Information by default: far too chatty (and costly) for a hot engine. Keep it at Debug.
        builder.ConfigureWarnings(w => w.Log(
            (RelationalEventId.CommandExecuted, LogLevel.Debug),
            (CoreEventId.ContextInitialized, LogLevel.Debug)));
    }

    /// <summary>Creates the directory of a SQLite database file so that SQLite can create the file.</summary>
    public static void EnsureSqliteDirectory(PlatformDatabaseSettings settings)
    {
        if (settings.Provider != PlatformDatabaseProvider.Sqlite) return;
        var builder = new SqliteConnectionStringBuilder(settings.ConnectionString);
        var source = builder.DataSource;
        if (source.Length == 0 || source == ":memory:" || builder.Mode == SqliteOpenMode.Memory || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase)) return;
        if (Path.GetDirectoryName(Path.GetFullPath(source)) is { Length: > 0 } directory) Directory.CreateDirectory(directory);
    }
}
