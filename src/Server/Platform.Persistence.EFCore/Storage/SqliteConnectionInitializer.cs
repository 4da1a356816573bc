using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// Prepares each physical SQLite connection once: WAL journal (readers do not block the writer), <c>synchronous=NORMAL</c>
/// (safe against process crashes in WAL mode; a power cut may lose the last commits but never corrupts), a busy timeout so a
/// writer from another process waits instead of failing with "database is locked", and no automatic WAL checkpoint: the commit
/// that crosses the checkpoint threshold would copy the WAL back and sync while every other writer waits behind it (hundreds
/// of milliseconds); <see cref="SqliteCheckpointService"/> checkpoints in the background instead. A new database gets
/// <see cref="NewDatabasePageSize"/>-byte pages. Also registers <c>platform_fold()</c> (see <see cref="PlatformDbFunctions.Fold"/>)
/// on every connection object.
/// </summary>
/// <remarks>
/// Functions must be registered per <see cref="SqliteConnection"/> object, not per native handle: Microsoft.Data.Sqlite
/// re-registers a connection's functions on each open and removes them when the handle goes back to its pool. (Overriding a
/// built-in such as <c>lower</c> this way breaks: the removal leaves "wrong number of arguments to function lower()".)
/// </remarks>
internal sealed class SqliteConnectionInitializer : DbConnectionInterceptor
{
    /// <summary>How long a statement waits for another process's write lock.</summary>
    public const int BusyTimeoutMilliseconds = 30_000;

    /// <summary>
    /// The page size of a database this creates (existing files keep theirs). A message's commits change about 30 pages (a
    /// table and its indexes each), and WAL mode writes each changed page whole: 1 KB pages write 50 KB to the WAL per
    /// message instead of 135 KB with SQLite's default 4 KB, so checkpoints copy and sync less and the WAL needs starting
    /// over a quarter as often, at the same CPU per message (docs/benchmarks.md, 2026-11-24).
    /// </summary>
    public const int NewDatabasePageSize = 1024;

    public static SqliteConnectionInitializer Instance { get; } = new();

    // Keyed by the native handle: pooled physical connections keep their settings across logical opens.
    private readonly ConditionalWeakTable<object, object> _initialized = new();

    private SqliteConnectionInitializer()
    {
    }

    public override DbConnection ConnectionCreated(ConnectionCreatedEventData eventData, DbConnection result)
    {
        if (result is SqliteConnection sqlite)
            sqlite.CreateFunction<string?, string?>(PlatformDbFunctions.SqliteFoldFunction, static s => s?.ToLowerInvariant(), isDeterministic: true);
        return result;
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Initialize(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Initialize(connection);
        return Task.CompletedTask;
    }

    /// <summary>Applies the pragmas to an open connection, once per native handle.</summary>
    public void Initialize(DbConnection connection)
    {
        if (connection is not SqliteConnection sqlite || sqlite.Handle is not { } handle) return;
        if (_initialized.TryGetValue(handle, out _)) return;

        using (var command = sqlite.CreateCommand())
        {
            command.CommandText = string.Create(CultureInfo.InvariantCulture,
                $"PRAGMA busy_timeout={BusyTimeoutMilliseconds}; PRAGMA page_size={NewDatabasePageSize}; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA wal_autocheckpoint=0;");
            command.ExecuteNonQuery();
        }
        _initialized.AddOrUpdate(handle, handle);
    }
}
