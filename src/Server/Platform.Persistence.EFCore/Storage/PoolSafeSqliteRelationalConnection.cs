using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Sqlite.Storage.Internal;
using Microsoft.EntityFrameworkCore.Storage;

namespace Platform.Persistence.EFCore.Storage;

#pragma warning disable EF1001 // SqliteRelationalConnection is EF's provider-internal type; we only add a lock around its open and close.

/// <summary>
/// EF Core's SQLite connection, with every physical open, close and dispose taken one at a time in this process.
/// </summary>
/// <remarks>
/// Microsoft.Data.Sqlite 10's connection pool can lend one native connection to two <c>SqliteConnection</c> objects at once
/// (dotnet/efcore#39008): while one thread opens or returns a pooled connection, another thread that finds the pool empty
/// "reclaims" it as leaked because it briefly looks active with no owner. Two contexts then share one handle: their
/// transactions mix ("cannot start a transaction within a transaction"), and when one closes it unregisters the functions
/// the other is using ("no such function: platform_fold"). The race only exists between concurrent opens and closes of one
/// pool, so serialising those (a few microseconds each; statements still run in parallel) removes it. Remove this class
/// once the fix ships in Microsoft.Data.Sqlite.
/// </remarks>
internal sealed class PoolSafeSqliteRelationalConnection(
    RelationalConnectionDependencies dependencies,
    IRawSqlCommandBuilder rawSqlCommandBuilder,
    IDiagnosticsLogger<DbLoggerCategory.Infrastructure> logger)
    : SqliteRelationalConnection(dependencies, rawSqlCommandBuilder, logger)
{
    /// <summary>Held while Microsoft.Data.Sqlite takes a connection from its pool or gives one back.</summary>
    private static readonly Lock PoolGate = new();

    protected override void OpenDbConnection(bool errorsExpected)
    {
        lock (PoolGate) base.OpenDbConnection(errorsExpected);
    }

    // Microsoft.Data.Sqlite opens, closes and disposes synchronously; its async methods are the base class's wrappers.
    protected override Task OpenDbConnectionAsync(bool errorsExpected, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        OpenDbConnection(errorsExpected);
        return Task.CompletedTask;
    }

    protected override void CloseDbConnection()
    {
        lock (PoolGate) base.CloseDbConnection();
    }

    protected override Task CloseDbConnectionAsync()
    {
        CloseDbConnection();
        return Task.CompletedTask;
    }

    protected override void DisposeDbConnection()
    {
        lock (PoolGate) base.DisposeDbConnection();
    }

    protected override ValueTask DisposeDbConnectionAsync()
    {
        DisposeDbConnection();
        return ValueTask.CompletedTask;
    }
}
