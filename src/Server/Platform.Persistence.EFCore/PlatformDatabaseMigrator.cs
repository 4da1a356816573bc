using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore;

/// <summary>
/// Applies the provider's pending migrations. Safe to call more than once; only the first successful call per process
/// does any work. Never uses EnsureCreated: the schema always comes from the committed migrations.
/// </summary>
public sealed partial class PlatformDatabaseMigrator(
    IDbContextFactory<PlatformDbContext> factory,
    PlatformDatabaseSettings settings,
    ILogger<PlatformDatabaseMigrator> logger)
{
    private readonly SemaphoreSlim _once = new(1, 1);
    private volatile bool _done;

    /// <summary>Migrates the database to the latest migration.</summary>
    public async Task MigrateAsync(CancellationToken ct = default)
    {
        if (_done) return;
        await _once.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_done) return;
            var target = settings.Describe();
            var stopwatch = Stopwatch.StartNew();
            try
            {
                PlatformDbContextOptions.EnsureSqliteDirectory(settings);
                await using var db = await factory.CreateDbContextAsync(ct).ConfigureAwait(false);
                var pending = (await db.Database.GetPendingMigrationsAsync(ct).ConfigureAwait(false)).ToList();
                if (pending.Count == 0)
                {
                    var applied = (await db.Database.GetAppliedMigrationsAsync(ct).ConfigureAwait(false)).Count();
                    LogUpToDate(logger, target, applied);
                }
                else
                {
                    await db.Database.MigrateAsync(ct).ConfigureAwait(false);
                    LogMigrated(logger, target, pending.Count, string.Join(", ", pending), stopwatch.ElapsedMilliseconds);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(logger, e, target);
                throw;
            }
            _done = true;
        }
        finally
        {
            _once.Release();
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Platform database ({Database}): applied {Count} migration(s) [{Migrations}] in {ElapsedMs} ms")]
    private static partial void LogMigrated(ILogger logger, string database, int count, string migrations, long elapsedMs);

    [LoggerMessage(2, LogLevel.Information, "Platform database ({Database}) is up to date ({Applied} migration(s) applied)")]
    private static partial void LogUpToDate(ILogger logger, string database, int applied);

    [LoggerMessage(3, LogLevel.Critical, "Platform database ({Database}): migration failed; the server cannot start without its schema")]
    private static partial void LogFailed(ILogger logger, Exception exception, string database);
}

/// <summary>
/// Migrates the platform database while the host starts, in <see cref="IHostedLifecycleService.StartingAsync"/>, which runs
/// before any hosted service's StartAsync (so the engine's timer and other workers find their tables).
/// </summary>
internal sealed class PlatformDatabaseMigrationHostedService(PlatformDatabaseMigrator migrator) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => migrator.MigrateAsync(cancellationToken);
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
