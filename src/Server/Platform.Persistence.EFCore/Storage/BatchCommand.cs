using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// One multi-statement command (inserts, upserts by primary key, deletes) built from EF's model: table and column names,
/// value converters and provider parameter types all come from the same mapping the migrations use. Both providers accept
/// <c>INSERT … ON CONFLICT (key) DO UPDATE SET c = excluded.c</c>, so one code path serves SQLite and PostgreSQL.
/// </summary>
/// <remarks>
/// The hot write path (a workflow commit) is one round trip this way, instead of a look-up per table plus EF's change
/// tracking and per-entity commands. Execute it inside the context's transaction.
/// </remarks>
internal sealed class BatchCommand : IAsyncDisposable
{
    // A statement never binds more parameters than this (SQLite allows 32766, PostgreSQL 65535).
    private const int MaxParametersPerStatement = 30_000;

    private static readonly ConditionalWeakTable<IModel, ConcurrentDictionary<Type, TableShape>> Shapes = new();

    private readonly PlatformDbContext _db;
    private readonly ISqlGenerationHelper _sqlHelper;
    private readonly DbCommand _command;
    private readonly StringBuilder _sql = new();
    private int _parameterCount;

    public BatchCommand(PlatformDbContext db)
    {
        _db = db;
        _sqlHelper = db.GetService<ISqlGenerationHelper>();
        _command = db.Database.GetDbConnection().CreateCommand();
    }

    public bool IsEmpty => _sql.Length == 0;

    /// <summary>Appends <c>INSERT</c> of the rows.</summary>
    public BatchCommand Insert<TEntity>(IReadOnlyList<TEntity> rows) where TEntity : class => AppendRows(rows, upsert: false);

    /// <summary>Appends <c>INSERT … ON CONFLICT (primary key) DO UPDATE</c> of every other column.</summary>
    public BatchCommand Upsert<TEntity>(IReadOnlyList<TEntity> rows) where TEntity : class => AppendRows(rows, upsert: true);

    /// <summary>Appends <c>DELETE FROM table WHERE column = value</c>.</summary>
    public BatchCommand DeleteWhere<TEntity>(string propertyName, object value) where TEntity : class
    {
        var shape = Shape(typeof(TEntity));
        var column = shape.Columns.Single(c => c.Property.Name == propertyName);
        _sql.Append("DELETE FROM ").Append(shape.Table).Append(" WHERE ").Append(column.Name).Append(" = ");
        AppendParameter(column, value);
        _sql.Append(_sqlHelper.StatementTerminator).AppendLine();
        return this;
    }

    /// <summary>
    /// Appends <c>UPDATE table SET column = value, … WHERE key = value</c> (values converted as the model maps them). With
    /// <paramref name="unlessIn"/>, rows whose given column holds one of the values are left alone.
    /// </summary>
    /// <remarks>Cheaper than EF's <c>ExecuteUpdate</c> on a hot path: no expression tree to build, compare and translate per call.</remarks>
    public BatchCommand Update<TEntity>(object key, IReadOnlyList<(string Property, object? Value)> sets,
        (string Property, IReadOnlyList<string> Values)? unlessIn = null) where TEntity : class
    {
        ArgumentNullException.ThrowIfNull(sets);
        if (sets.Count == 0) return this;
        var shape = Shape(typeof(TEntity));
        _sql.Append("UPDATE ").Append(shape.Table).Append(" SET ");
        for (var i = 0; i < sets.Count; i++)
        {
            if (i > 0) _sql.Append(", ");
            var column = shape.Find(sets[i].Property);
            _sql.Append(column.Name).Append(" = ");
            AppendParameter(column, sets[i].Value);
        }
        var keyColumn = shape.Columns.Single(c => c.Property.IsPrimaryKey());
        _sql.Append(" WHERE ").Append(keyColumn.Name).Append(" = ");
        AppendParameter(keyColumn, key);
        if (unlessIn is { } unless && unless.Values.Count > 0)
        {
            var column = shape.Find(unless.Property);
            _sql.Append(" AND (").Append(column.Name).Append(" IS NULL OR ").Append(column.Name).Append(" NOT IN (");
            for (var i = 0; i < unless.Values.Count; i++)
            {
                if (i > 0) _sql.Append(", ");
                AppendParameter(column, unless.Values[i]);
            }
            _sql.Append("))");
        }
        _sql.Append(_sqlHelper.StatementTerminator).AppendLine();
        return this;
    }

    /// <summary>Runs the statements in the context's current transaction.</summary>
    /// <exception cref="DbUpdateException">The database rejected a statement (as EF's SaveChanges would report it).</exception>
    public async Task ExecuteAsync(CancellationToken ct)
    {
        if (IsEmpty) return;
        _command.CommandText = _sql.ToString();
        _command.Transaction = _db.Database.CurrentTransaction?.GetDbTransaction();
        if (_db.Database.GetCommandTimeout() is { } timeout) _command.CommandTimeout = timeout;
        try
        {
            await _command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (DbException e)
        {
            throw new DbUpdateException($"Saving to the platform database failed: {e.Message}", e);
        }
    }

    public ValueTask DisposeAsync() => _command.DisposeAsync();

    private BatchCommand AppendRows<TEntity>(IReadOnlyList<TEntity> rows, bool upsert) where TEntity : class
    {
        if (rows.Count == 0) return this;
        var shape = Shape(typeof(TEntity));
        var rowsPerStatement = Math.Max(1, MaxParametersPerStatement / shape.Columns.Length);
        for (var start = 0; start < rows.Count; start += rowsPerStatement)
        {
            _sql.Append(shape.InsertHead);
            var end = Math.Min(rows.Count, start + rowsPerStatement);
            for (var i = start; i < end; i++)
            {
                _sql.Append(i == start ? "(" : ", (");
                var row = rows[i];
                for (var c = 0; c < shape.Columns.Length; c++)
                {
                    if (c > 0) _sql.Append(", ");
                    var column = shape.Columns[c];
                    AppendParameter(column, column.Getter.GetClrValueUsingContainingEntity(row));
                }
                _sql.Append(')');
            }
            if (upsert) _sql.Append(shape.UpsertTail);
            _sql.Append(_sqlHelper.StatementTerminator).AppendLine();
        }
        return this;
    }

    private void AppendParameter(Column column, object? value)
    {
        var name = "p" + _parameterCount++.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // The type mapping applies the value converter (enum → name, DateTimeOffset → UTC/ISO text) and the provider type (json).
        _command.Parameters.Add(column.Mapping.CreateParameter(_command, _sqlHelper.GenerateParameterName(name), value, column.Property.IsNullable));
        _sqlHelper.GenerateParameterNamePlaceholder(_sql, name);
    }

    private TableShape Shape(Type clrType) =>
        Shapes.GetValue(_db.Model, static _ => new ConcurrentDictionary<Type, TableShape>())
            .GetOrAdd(clrType, static (type, state) => TableShape.Create(state.Model, state.Helper, type), (_db.Model, Helper: _sqlHelper));

    private sealed record Column(IProperty Property, string Name, RelationalTypeMapping Mapping, IClrPropertyGetter Getter);

    private sealed record TableShape(string Table, Column[] Columns, string InsertHead, string UpsertTail)
    {
        public Column Find(string propertyName) => Columns.FirstOrDefault(c => c.Property.Name == propertyName)
            ?? throw new InvalidOperationException($"{Table} has no column for property {propertyName}.");

        public static TableShape Create(IModel model, ISqlGenerationHelper sql, Type clrType)
        {
            var entity = model.FindEntityType(clrType) ?? throw new InvalidOperationException($"{clrType.Name} is not mapped by the platform database.");
            var table = entity.GetTableName() ?? throw new InvalidOperationException($"{clrType.Name} has no table.");
            var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
            var columns = entity.GetProperties()
                .Select(p => new Column(p, sql.DelimitIdentifier(p.GetColumnName(store)!), p.GetRelationalTypeMapping(), p.GetGetter()))
                .ToArray();
            var key = entity.FindPrimaryKey() ?? throw new InvalidOperationException($"{clrType.Name} has no primary key.");
            var keyNames = key.Properties.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            var delimitedTable = sql.DelimitIdentifier(table, entity.GetSchema());

            var insertHead = $"INSERT INTO {delimitedTable} ({string.Join(", ", columns.Select(c => c.Name))}) VALUES ";
            var updates = columns.Where(c => !keyNames.Contains(c.Property.Name)).Select(c => $"{c.Name} = excluded.{c.Name}");
            var upsertTail = $" ON CONFLICT ({string.Join(", ", columns.Where(c => keyNames.Contains(c.Property.Name)).Select(c => c.Name))}) DO UPDATE SET {string.Join(", ", updates)}";
            return new TableShape(delimitedTable, columns, insertHead, upsertTail);
        }
    }
}
