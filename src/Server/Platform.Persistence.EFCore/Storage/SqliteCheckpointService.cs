using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// Checkpoints the SQLite WAL in the background, on its own connection, so that no commit pays for it: a PASSIVE checkpoint
/// every <see cref="Interval"/> copies what it can without blocking writers; when the WAL file has grown past
/// <see cref="TruncateAboveBytes"/> (readers kept it from being reused), a TRUNCATE checkpoint runs in the write turn to shrink it.
/// </summary>
/// <remarks>
/// A checkpoint ends with an fsync of the database file, and while the disk flushes, commits that append to the WAL wait
/// behind it. The wait grows with what the checkpoint copied: every 10 s it stalled commits for about 340 ms at 75 messages
/// per second, every second for about 80 ms, every 250 ms for about 20–60 ms (docs/benchmarks.md). So checkpoints are small
/// and frequent, on one connection kept open.
/// </remarks>
internal sealed partial class SqliteCheckpointService(PlatformDatabaseSettings settings, PlatformWriteGate gate, ILogger<SqliteCheckpointService> logger)
    : BackgroundService
{
    public const long TruncateAboveBytes = 64L * 1024 * 1024;
    /// <summary>How often a checkpoint runs.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new SqliteConnectionStringBuilder(settings.ConnectionString) { Pooling = false }.ToString();
        var walPath = new SqliteConnectionStringBuilder(settings.ConnectionString).DataSource + "-wal";
        SqliteConnection? connection = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(Interval, stoppingToken).ConfigureAwait(false);
                    if (!File.Exists(walPath)) continue;
                    var truncate = new FileInfo(walPath).Length > TruncateAboveBytes;
                    if (connection is null)
                    {
                        connection = new SqliteConnection(connectionString);
                        await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
                    }
                    await using var command = connection.CreateCommand();
                    command.CommandText = $"PRAGMA busy_timeout={SqliteConnectionInitializer.BusyTimeoutMilliseconds}; PRAGMA wal_checkpoint({(truncate ? "TRUNCATE" : "PASSIVE")});";
                    if (truncate)
                    {
                        using (await gate.EnterAsync(stoppingToken).ConfigureAwait(false))
                            await command.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                    }
                    else await command.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
                catch (Exception e) when (e is SqliteException or IOException)
                {
                    LogFailed(logger, e);
                    if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
                    connection = null;
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "SQLite WAL checkpoint failed; retrying in a second.")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
