using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Platform.Activities.Data;

/// <summary>
/// The AI agent's <c>query_database</c> tool: runs one SQL query the model wrote on a named data source, always read-only
/// (a read-only connection and transaction, rolled back, whatever the data source allows), at most
/// <see cref="RowLimit"/> rows, within <see cref="Timeout"/>.
/// </summary>
public sealed class QueryDatabaseTool(IDataSourceStore store, DataSourceProviders providers) : IAgentTool
{
    /// <summary>The tool name.</summary>
    public const string ToolName = "query_database";

    /// <summary>The most rows returned to the model.</summary>
    public const int RowLimit = 50;

    /// <summary>How long one query may run.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <inheritdoc />
    public string Name => ToolName;

    /// <inheritdoc />
    public string Description =>
        "Runs one read-only SQL SELECT on a named data source (a database) and returns the rows as JSON (at most 50). Use it for figures and facts stored in a database.";

    /// <inheritdoc />
    public JsonElement ParametersSchema { get; } = AgentToolSchema.Object(
        ("dataSource", "string", "The data source name, e.g. demo.", true),
        ("sql", "string", "One SQL SELECT statement; the database is read-only.", true));

    /// <inheritdoc />
    public async Task<AgentToolResult> InvokeAsync(JsonElement arguments, ActivityExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var name = AgentToolSchema.String(arguments, "dataSource")?.Trim() ?? "";
        var sql = AgentToolSchema.String(arguments, "sql")?.Trim() ?? "";
        if (sql.Length == 0) return AgentToolResult.Error("The sql argument is empty: send one SELECT statement.");
        var source = name.Length == 0 ? null : await store.FindAsync(name, context.CancellationToken);
        if (source is null)
        {
            var names = (await store.ListAsync(context.CancellationToken)).Select(s => s.Name);
            return AgentToolResult.Error($"The data source '{name}' does not exist. Available: {string.Join(", ", names)}.");
        }
        var provider = providers.Get(source.Provider);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(Timeout);
        var watch = Stopwatch.StartNew();
        try
        {
            await using var connection = await provider.OpenAsync(source.ConnectionString, readOnly: true, cts.Token);
            await using var interrupt = cts.Token.Register(() => provider.Interrupt(connection));
            await using var transaction = await provider.BeginAsync(connection, readOnly: true, cts.Token);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            command.CommandTimeout = (int)Timeout.TotalSeconds;
            var rows = new List<Dictionary<string, object?>>();
            var truncated = false;
            await using (var reader = await command.ExecuteReaderAsync(cts.Token))
            {
                while (reader.FieldCount > 0 && await reader.ReadAsync(cts.Token))
                {
                    if (rows.Count >= RowLimit) { truncated = true; break; }
                    var row = new Dictionary<string, object?>(StringComparer.Ordinal);
                    for (var i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = Plain(reader.GetValue(i));
                    rows.Add(row);
                }
                if (truncated) command.Cancel();
            }
            try { await transaction.RollbackAsync(cts.Token); }
            catch (System.Data.Common.DbException) when (truncated) { }
            return AgentToolResult.Json(new Dictionary<string, object?>
            {
                ["rows"] = rows, ["rowCount"] = rows.Count, ["truncated"] = truncated, ["elapsedMs"] = watch.ElapsedMilliseconds,
            });
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            return AgentToolResult.Error($"The query on '{source.Name}' did not finish within {Timeout.TotalSeconds:0} s; narrow it.");
        }
        catch (Exception e) when (e is System.Data.Common.DbException or InvalidOperationException or ArgumentException && !context.CancellationToken.IsCancellationRequested)
        {
            return AgentToolResult.Error($"The query on '{source.Name}' failed (the database is read-only): {e.Message}");
        }
    }

    private static object? Plain(object? value) => value switch
    {
        null or DBNull => null,
        string or bool or byte or short or int or long or float or double or decimal => value,
        DateTime or DateTimeOffset => ((IFormattable)value).ToString("o", CultureInfo.InvariantCulture),
        byte[] bytes => Convert.ToBase64String(bytes),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
