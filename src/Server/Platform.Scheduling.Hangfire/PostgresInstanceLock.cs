using Npgsql;
using Platform.Engine.Contracts;

namespace Platform.Scheduling.Hangfire;

/// <summary>
/// Cross-node instance lock on PostgreSQL: a session-level <c>pg_advisory_lock(hashtextextended(instanceId, 0))</c> taken on a
/// dedicated pooled connection that is held for the whole burst and released on dispose. If the node dies (kill -9) the
/// server ends the session and the lock is gone, so another node can resume the instance. Waiting honours cancellation.
/// </summary>
public sealed class PostgresInstanceLock : IInstanceLock
{
    /// <summary>The application name of the lock connections (their own pool, visible in <c>pg_stat_activity</c>).</summary>
    public const string ApplicationName = "platform-instance-lock";

    private readonly string _connectionString;

    public PostgresInstanceLock(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        // Its own pool: a burst holding a lock never starves the stores of connections. Reset on close (the default) runs
        // DISCARD ALL, which also drops any advisory lock a failed unlock left behind.
        _connectionString = new NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = ApplicationName, NoResetOnClose = false }.ConnectionString;
    }

    public async ValueTask<IAsyncDisposable> AcquireAsync(string instanceId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await using (var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended(@id, 0))", connection))
            {
                command.Parameters.AddWithValue("id", instanceId);
                command.CommandTimeout = 0; // wait as long as the holder's burst; the caller's token bounds it
                await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            return new Held(connection, instanceId);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private sealed class Held(NpgsqlConnection connection, string instanceId) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended(@id, 0))", connection);
                command.Parameters.AddWithValue("id", instanceId);
                await command.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
                // The connection broke: the session (and its lock) ends with it, or DISCARD ALL drops it on return to the pool.
            }
            finally
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
