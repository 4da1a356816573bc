using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.Data.SqlClient;
using MySqlConnector;
using Npgsql;

namespace Platform.Activities.Data;

/// <summary>
/// Opens connections of one database engine. Connections are pooled by the ADO.NET providers themselves
/// (the pool is keyed by connection string), so opening one per query is cheap.
/// </summary>
public interface IDataSourceProvider
{
    /// <summary>The engine.</summary>
    DataSourceProviderKind Kind { get; }

    /// <summary>Checks a connection string; throws <see cref="ArgumentException"/> with a clear message when it does not parse.</summary>
    void Validate(string connectionString);

    /// <summary>Opens a connection; <paramref name="readOnly"/> asks the engine itself for a read-only connection where it can.</summary>
    Task<DbConnection> OpenAsync(string connectionString, bool readOnly, CancellationToken ct);

    /// <summary>Begins the transaction a query runs in; read-only ones refuse writes where the engine supports it.</summary>
    Task<DbTransaction> BeginAsync(DbConnection connection, bool readOnly, CancellationToken ct);

    /// <summary>Aborts a running statement on this connection (called when the query times out).</summary>
    void Interrupt(DbConnection connection) { }
}

/// <summary>The registered providers by kind.</summary>
public sealed class DataSourceProviders(IEnumerable<IDataSourceProvider> providers)
{
    private readonly Dictionary<DataSourceProviderKind, IDataSourceProvider> _byKind = providers.ToDictionary(p => p.Kind);

    /// <summary>The provider of an engine.</summary>
    /// <exception cref="InvalidOperationException">None is registered.</exception>
    public IDataSourceProvider Get(DataSourceProviderKind kind) => _byKind.TryGetValue(kind, out var p) ? p
        : throw new InvalidOperationException($"No provider is registered for {kind} data sources.");

    /// <summary>The default four: PostgreSQL, SQLite, MySQL and SQL Server.</summary>
    public static IReadOnlyList<IDataSourceProvider> Defaults() =>
        [new PostgreSqlDataSourceProvider(), new SqliteDataSourceProvider(), new MySqlDataSourceProvider(), new SqlServerDataSourceProvider()];
}

/// <summary>Shared plumbing of the providers.</summary>
public abstract class DataSourceProviderBase<TBuilder> : IDataSourceProvider where TBuilder : DbConnectionStringBuilder, new()
{
    /// <inheritdoc />
    public abstract DataSourceProviderKind Kind { get; }

    /// <inheritdoc />
    public void Validate(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString)) throw new ArgumentException("The connection string is empty.");
        try { _ = new TBuilder { ConnectionString = connectionString }; }
        catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ArgumentException($"The {Kind} connection string does not parse: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public async Task<DbConnection> OpenAsync(string connectionString, bool readOnly, CancellationToken ct)
    {
        var connection = Create(connectionString, readOnly);
        try
        {
            await connection.OpenAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates an unopened connection.</summary>
    protected abstract DbConnection Create(string connectionString, bool readOnly);

    /// <inheritdoc />
    public virtual async Task<DbTransaction> BeginAsync(DbConnection connection, bool readOnly, CancellationToken ct) =>
        await connection.BeginTransactionAsync(ct);

    /// <inheritdoc />
    public virtual void Interrupt(DbConnection connection) { }

    /// <summary>Runs a statement in the transaction.</summary>
    protected static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>PostgreSQL: read-only queries run in <c>BEGIN … ; SET TRANSACTION READ ONLY</c>.</summary>
public sealed class PostgreSqlDataSourceProvider : DataSourceProviderBase<NpgsqlConnectionStringBuilder>
{
    /// <inheritdoc />
    public override DataSourceProviderKind Kind => DataSourceProviderKind.PostgreSql;

    /// <inheritdoc />
    protected override DbConnection Create(string connectionString, bool readOnly) => new NpgsqlConnection(connectionString);

    /// <inheritdoc />
    public override async Task<DbTransaction> BeginAsync(DbConnection connection, bool readOnly, CancellationToken ct)
    {
        var transaction = await connection.BeginTransactionAsync(ct);
        if (readOnly) await ExecuteAsync(connection, transaction, "SET TRANSACTION READ ONLY", ct);
        return transaction;
    }
}

/// <summary>SQLite: read-only data sources open the file with <c>Mode=ReadOnly</c>.</summary>
public sealed class SqliteDataSourceProvider : DataSourceProviderBase<SqliteConnectionStringBuilder>
{
    /// <inheritdoc />
    public override DataSourceProviderKind Kind => DataSourceProviderKind.Sqlite;

    /// <inheritdoc />
    protected override DbConnection Create(string connectionString, bool readOnly)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        if (readOnly) builder.Mode = SqliteOpenMode.ReadOnly;
        else if (builder.Mode == SqliteOpenMode.ReadWriteCreate) builder.Mode = SqliteOpenMode.ReadWrite; // never create an empty file by mistake
        return new PoolSafeSqliteConnection(builder.ToString());
    }

    /// <inheritdoc />
    public override void Interrupt(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle }) SQLitePCL.raw.sqlite3_interrupt(handle);
    }
}

/// <summary>MySQL: read-only queries run in <c>START TRANSACTION READ ONLY</c>.</summary>
public sealed class MySqlDataSourceProvider : DataSourceProviderBase<MySqlConnectionStringBuilder>
{
    /// <inheritdoc />
    public override DataSourceProviderKind Kind => DataSourceProviderKind.MySql;

    /// <inheritdoc />
    protected override DbConnection Create(string connectionString, bool readOnly) => new MySqlConnection(connectionString);

    /// <inheritdoc />
    public override async Task<DbTransaction> BeginAsync(DbConnection connection, bool readOnly, CancellationToken ct)
    {
        if (!readOnly) return await connection.BeginTransactionAsync(ct);
        // MySqlConnector 2.x: BeginTransactionAsync(IsolationLevel, isReadOnly) issues START TRANSACTION READ ONLY.
        return await ((MySqlConnection)connection).BeginTransactionAsync(IsolationLevel.Unspecified, isReadOnly: true, ct);
    }
}

/// <summary>
/// SQL Server. SQL Server has no read-only transaction: a read-only data source's queries run in a transaction that is
/// always rolled back, and <c>ApplicationIntent=ReadOnly</c> is set (it routes to a readable secondary where one exists).
/// A statement that commits on its own can still write, so point read-only SQL Server data sources at a login that only
/// has read permissions (for example the <c>db_datareader</c> role).
/// </summary>
public sealed class SqlServerDataSourceProvider : DataSourceProviderBase<SqlConnectionStringBuilder>
{
    /// <inheritdoc />
    public override DataSourceProviderKind Kind => DataSourceProviderKind.SqlServer;

    /// <inheritdoc />
    protected override DbConnection Create(string connectionString, bool readOnly)
    {
        var builder = new SqlConnectionStringBuilder(connectionString);
        if (readOnly) builder.ApplicationIntent = ApplicationIntent.ReadOnly;
        return new SqlConnection(builder.ConnectionString);
    }
}
