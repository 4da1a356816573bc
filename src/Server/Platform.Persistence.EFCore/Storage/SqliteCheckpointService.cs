using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// Checkpoints the SQLite WAL in the background, on its own connection, so that no commit pays for it: a PASSIVE checkpoint
/// every <see cref="Interval"/> copies what it can without blocking writers. Once the WAL holds more than
/// <see cref="RestartAboveBytes"/>, a RESTART checkpoint in the write turn lets the next commit start the WAL over from its
/// beginning; a WAL file grown past <see cref="TruncateAboveBytes"/> is truncated instead.
/// </summary>
/// <remarks>
/// <para>A checkpoint ends with an fsync of the database file, and while the disk flushes, commits that append to the WAL wait
/// behind it. The wait grows with what the checkpoint copied: every 10 s it stalled commits for about 340 ms at 75 messages
/// per second, every second for about 80 ms, every 250 ms for about 20–60 ms (docs/benchmarks.md). So checkpoints are small
/// and frequent, on one connection kept open.</para>
/// <para>Copying is not enough to keep the WAL small: a commit only starts the WAL over when the whole WAL had been copied
/// when its transaction began and no reader is still reading from the WAL. Under steady load that moment rarely comes, and
/// the WAL grew by 10–15 MB a second until the 64 MB truncation, which held the write turn for tens of milliseconds each time.
/// The RESTART checkpoint makes that moment: it runs in the write turn, right after a PASSIVE one has copied nearly
/// everything, copies the last few frames, and waits (at most <see cref="RestartWaitMilliseconds"/>) for the readers that
/// started before; new readers then read the database file only, and the next commit overwrites the WAL from its start.
/// Measured: the write turn is held 0–30 ms about once a second at 100 messages a second. A reader that outlasts the wait
/// (a long report) makes the RESTART give up. The first time, it is tried again in the next round: a short reader that was only
/// descheduled mid-read (a busy machine) is gone by then, and waiting longer let the WAL grow by tens of megabytes. When it
/// gives up again, the reader is a long one, and the next try waits <see cref="RetryAfterBusy"/> instead of holding the write
/// turn every round.</para>
/// </remarks>
internal sealed partial class SqliteCheckpointService(PlatformDatabaseSettings settings, PlatformWriteGate gate, ILogger<SqliteCheckpointService> logger)
    : BackgroundService
{
    /// <summary>How much the WAL may hold (its frames, not its file size) before it is started over.</summary>
    public const long RestartAboveBytes = 16L * 1024 * 1024;
    /// <summary>A WAL file larger than this (grown while readers kept it from being restarted) is truncated.</summary>
    public const long TruncateAboveBytes = 64L * 1024 * 1024;
    /// <summary>How long a RESTART or TRUNCATE checkpoint waits for older readers before it gives up until the next round.</summary>
    public const int RestartWaitMilliseconds = 20;
    /// <summary>How often a checkpoint runs.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);
    /// <summary>After a RESTART or TRUNCATE that readers kept from finishing twice in a row, how long until the next try (each
    /// try holds the write turn).</summary>
    public static readonly TimeSpan RetryAfterBusy = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new SqliteConnectionStringBuilder(settings.ConnectionString) { Pooling = false }.ToString();
        var walPath = new SqliteConnectionStringBuilder(settings.ConnectionString).DataSource + "-wal";
        SqliteConnection? connection = null;
        var frameBytes = 0L;
        var nextRestart = 0L; // Stopwatch timestamp before which no RESTART or TRUNCATE is tried
        var busyInARow = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(Interval, stoppingToken).ConfigureAwait(false);
                    if (!File.Exists(walPath)) continue;
                    if (connection is null)
                    {
                        connection = new SqliteConnection(connectionString);
                        await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
                        // A PASSIVE checkpoint never waits; RESTART and TRUNCATE wait this long for readers, in the write turn.
                        await ScalarAsync(connection, $"PRAGMA busy_timeout={RestartWaitMilliseconds}", stoppingToken).ConfigureAwait(false);
                        frameBytes = 24 + Convert.ToInt64(await ScalarAsync(connection, "PRAGMA page_size", stoppingToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                    }
                    var (_, frames, _) = await CheckpointAsync(connection, "PASSIVE", stoppingToken).ConfigureAwait(false);
                    var fileBytes = new FileInfo(walPath).Length;
                    var mode = fileBytes > TruncateAboveBytes ? "TRUNCATE" : frames * frameBytes > RestartAboveBytes ? "RESTART" : null;
                    if (mode is null || Stopwatch.GetTimestamp() < nextRestart) continue;

                    var started = Stopwatch.GetTimestamp();
                    (int Busy, long Frames, long Copied) result;
                    using (await gate.EnterAsync(stoppingToken).ConfigureAwait(false))
                        result = await CheckpointAsync(connection, mode, stoppingToken).ConfigureAwait(false);
                    busyInARow = result.Busy != 0 ? busyInARow + 1 : 0;
                    if (busyInARow > 1) nextRestart = Stopwatch.GetTimestamp() + (long)(RetryAfterBusy.TotalSeconds * Stopwatch.Frequency);
                    LogRestart(logger, mode, frames, fileBytes / (1024 * 1024), result.Busy == 0, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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

    /// <summary>Runs a checkpoint: whether readers kept it from finishing, the frames in the WAL, and how many are copied.</summary>
    private static async Task<(int Busy, long Frames, long Copied)> CheckpointAsync(SqliteConnection connection, string mode, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode});";
        await using var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
        return await reader.ReadAsync(ct).ConfigureAwait(false) ? (reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2)) : (0, 0, 0);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
    }

    [LoggerMessage(1, LogLevel.Warning, "SQLite WAL checkpoint failed; retrying in a second.")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(2, LogLevel.Debug, "SQLite WAL {Mode} checkpoint ({Frames} frames, file {FileMegabytes} MB): done {Done}, write turn held {Milliseconds} ms.")]
    private static partial void LogRestart(ILogger logger, string mode, long frames, long fileMegabytes, bool done, long milliseconds);
}
