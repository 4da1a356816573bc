using Microsoft.Data.Sqlite;

namespace Platform.Activities.Data;

/// <summary>
/// A <see cref="SqliteConnection"/> whose opens and closes (disposal included) are taken one at a time in this process.
/// </summary>
/// <remarks>
/// Microsoft.Data.Sqlite 10's pool can lend one native connection to two connection objects at once (dotnet/efcore#39008):
/// a thread that finds the pool empty "reclaims" a connection another thread is opening or returning, because it briefly
/// looks active with no owner. Two queries then share one handle and one transaction. Serialising opens and closes (a few
/// microseconds each; statements still run in parallel) removes the race. Remove this class once the fix ships.
/// </remarks>
internal sealed class PoolSafeSqliteConnection(string connectionString) : SqliteConnection(connectionString)
{
    private static readonly Lock PoolGate = new();

    /// <inheritdoc />
    public override void Open()
    {
        lock (PoolGate) base.Open();
    }

    /// <inheritdoc />
    public override void Close()
    {
        lock (PoolGate) base.Close();
    }
}
