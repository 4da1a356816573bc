using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// Checkpoints the SQLite WAL in the background, on its own connection, so that no commit pays for it: a PASSIVE checkpoint
/// every second copies what it can without blocking writers; when the WAL file has grown past <see cref="TruncateAboveBytes"/>
/// (readers kept it from being reused), a TRUNCATE checkpoint runs in the write turn to shrink it.
/// </summary>
internal sealed partial class SqliteCheckpointService(PlatformDatabaseSettings settings, PlatformWriteGate gate, ILogger<SqliteCheckpointService> logger)
    : BackgroundService
{
    public const long TruncateAboveBytes = 64L * 1024 * 1024;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new SqliteConnectionStringBuilder(settings.ConnectionString) { Pooling = false }.ToString();
        var walPath = new SqliteConnectionStringBuilder(settings.ConnectionString).DataSource + "-wal";
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Interval, stoppingToken).ConfigureAwait(false);
                if (!File.Exists(walPath)) continue;
                var truncate = new FileInfo(walPath).Length > TruncateAboveBytes;
                await using var connection = new SqliteConnection(connectionString);
                await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
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
            catch (Exception e) when (e is SqliteException or IOException) { LogFailed(logger, e); }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "SQLite WAL checkpoint failed; retrying in a second.")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
