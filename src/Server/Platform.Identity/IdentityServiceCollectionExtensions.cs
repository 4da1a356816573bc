using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Persistence.EFCore;

namespace Platform.Identity;

/// <summary>Registers the identity database (the context for the configured provider and its start-up migration).</summary>
public static class IdentityServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="PlatformIdentityDbContext"/> on the platform database described by <paramref name="settings"/>
    /// and migrates it while the host starts (after the platform's own migration). Call <c>AddIdentityCore</c>
    /// with <c>AddEntityFrameworkStores&lt;PlatformIdentityDbContext&gt;()</c> yourself.
    /// </summary>
    public static IServiceCollection AddPlatformIdentityDatabase(this IServiceCollection services, PlatformDatabaseSettings settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);
        switch (settings.Provider)
        {
            case PlatformDatabaseProvider.Sqlite:
                services.AddDbContext<PlatformIdentityDbContext, SqlitePlatformIdentityDbContext>(o => Configure(o, settings));
                break;
            case PlatformDatabaseProvider.PostgreSql:
                services.AddDbContext<PlatformIdentityDbContext, PostgreSqlPlatformIdentityDbContext>(o => Configure(o, settings));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.Provider, "Unknown database provider.");
        }
        services.AddHostedService<IdentityDatabaseMigrationHostedService>();
        return services;
    }

    /// <summary>Options for a context created outside DI (design time, tools).</summary>
    public static DbContextOptions<TContext> BuildOptions<TContext>(PlatformDatabaseSettings settings) where TContext : PlatformIdentityDbContext
    {
        var builder = new DbContextOptionsBuilder<TContext>();
        Configure(builder, settings);
        return builder.Options;
    }

    private static void Configure(DbContextOptionsBuilder builder, PlatformDatabaseSettings settings)
    {
        if (settings.Provider == PlatformDatabaseProvider.Sqlite)
            builder.UseSqlite(settings.ConnectionString, o => o.MigrationsHistoryTable(PlatformIdentityDbContext.MigrationsHistoryTable));
        else
            builder.UseNpgsql(settings.ConnectionString, o => o.MigrationsHistoryTable(PlatformIdentityDbContext.MigrationsHistoryTable));
        builder.ConfigureWarnings(w => w.Log(
            (Microsoft.EntityFrameworkCore.Diagnostics.RelationalEventId.CommandExecuted, LogLevel.Debug),
            (Microsoft.EntityFrameworkCore.Diagnostics.CoreEventId.ContextInitialized, LogLevel.Debug)));
    }
}

/// <summary>
/// Applies the identity migrations while the host starts (in StartingAsync, after the platform database's migration, which
/// is registered before it and creates the SQLite file), before any service's StartAsync.
/// </summary>
internal sealed partial class IdentityDatabaseMigrationHostedService(IServiceProvider services, PlatformDatabaseSettings settings,
    ILogger<IdentityDatabaseMigrationHostedService> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!settings.MigrateOnStartup) return;
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformIdentityDbContext>();
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count == 0) return;
            await db.Database.MigrateAsync(cancellationToken);
            LogMigrated(logger, settings.Describe(), pending.Count);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(logger, e, settings.Describe());
            throw;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Information, "Identity tables ({Database}): applied {Count} migration(s)")]
    private static partial void LogMigrated(ILogger logger, string database, int count);

    [LoggerMessage(2, LogLevel.Critical, "Identity tables ({Database}): migration failed; the server cannot start without them")]
    private static partial void LogFailed(ILogger logger, Exception exception, string database);
}
