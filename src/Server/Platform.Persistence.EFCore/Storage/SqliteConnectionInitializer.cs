using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// Prepares each physical SQLite connection once: WAL journal (readers do not block the writer), <c>synchronous=NORMAL</c>
/// (safe against process crashes in WAL mode; a power cut may lose the last commits but never corrupts), a busy timeout so a
/// writer from another process waits instead of failing with "database is locked", and a Unicode-aware <c>lower()</c> so
/// case-insensitive search works beyond ASCII (SQLite's built-in one only folds A–Z).
/// </summary>
internal sealed class SqliteConnectionInitializer : DbConnectionInterceptor
{
    /// <summary>How long a statement waits for another process's write lock.</summary>
    public const int BusyTimeoutMilliseconds = 30_000;

    public static SqliteConnectionInitializer Instance { get; } = new();

    // Keyed by the native handle: pooled physical connections keep their settings across logical opens.
    private readonly ConditionalWeakTable<object, object> _initialized = new();

    private SqliteConnectionInitializer()
    {
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Initialize(connection);

    public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Initialize(connection);
        return Task.CompletedTask;
    }

    /// <summary>Applies the settings to an open connection (also used by the migrator before migrating).</summary>
    public void Initialize(DbConnection connection)
    {
        if (connection is not SqliteConnection sqlite || sqlite.Handle is not { } handle) return;
        if (_initialized.TryGetValue(handle, out _)) return;

        using (var command = sqlite.CreateCommand())
        {
            command.CommandText = string.Create(CultureInfo.InvariantCulture,
                $"PRAGMA busy_timeout={BusyTimeoutMilliseconds}; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
            command.ExecuteNonQuery();
        }
        sqlite.CreateFunction<string?, string?>("lower", static s => s?.ToLowerInvariant(), isDeterministic: true);
        _initialized.AddOrUpdate(handle, handle);
    }
}
