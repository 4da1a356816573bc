using System.Collections;
using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Activities.Data;

/// <summary>
/// Runs a SQL query against a named data source with named parameters (<c>@name</c>) bound from workflow expressions.
/// Read-only unless the data source is marked writable. Done when rows came back (or a write ran), Empty when none did,
/// Error when the query failed or timed out (the <c>Error</c> output says why).
/// </summary>
[Activity("Platform", "Data", "Queries a database with bound parameters; read-only unless the data source is writable.", Kind = ActivityKind.Task)]
[FlowNode("Done", "Empty", "Error")]
public sealed class QueryDatabase : Activity, IValidatesConfiguration
{
    /// <summary>Save-time check: the SQL must be literal text without template placeholders (<see cref="SqlSafety.Check"/>).</summary>
    public IEnumerable<string> ValidateConfiguration(ActivityValidationContext context)
    {
        if (SqlSafety.Check(this) is { } problem) yield return problem;
    }

    /// <summary>The default row limit.</summary>
    public const int DefaultRowLimit = 100;

    /// <summary>The data source name (see /api/data-sources).</summary>
    [Input(Description = "The data source name (managed under /api/data-sources).", Order = 0)]
    public Input<string> DataSource { get; set; } = new("");

    /// <summary>The SQL text: a literal only; values go in <see cref="Parameters"/>.</summary>
    [Input(Description = "The SQL, as literal text. Never paste message text into it: write @name and bind the value in Parameters.",
        UIHint = UIHints.CodeEditor, Order = 1)]
    public Input<string> Sql { get; set; } = new("");

    /// <summary>Named parameters: an object whose values are bound as <c>@name</c>.</summary>
    [Input(Description = "Named parameters, e.g. {\"customer\": …}; each value is bound as @customer. A value may itself be an expression object {\"type\":\"JavaScript\",\"value\":\"…\"}.",
        UIHint = UIHints.JsonEditor, Order = 2)]
    public Input<IDictionary<string, object?>> Parameters { get; set; } = new((IDictionary<string, object?>)new Dictionary<string, object?>());

    /// <summary>The most rows returned.</summary>
    [Input(Description = "The most rows returned (default 100).", Order = 3)]
    public Input<int> RowLimit { get; set; } = new(DefaultRowLimit);

    /// <summary>The timeout.</summary>
    [Input(Description = "The query timeout, e.g. 00:00:05 (default 5 s).", Order = 4)]
    public Input<TimeSpan> Timeout { get; set; } = new(TimeSpan.FromSeconds(5));

    /// <summary>The rows, as a list of column → value dictionaries.</summary>
    [Output] public Output<List<Dictionary<string, object?>>> Rows { get; set; } = new();

    /// <summary>The first column of the first row, or null.</summary>
    [Output] public Output<object?> Scalar { get; set; } = new();

    /// <summary>The number of rows returned, or the rows affected by a write.</summary>
    [Output] public Output<int> RowCount { get; set; } = new();

    /// <summary>Why the query failed (Error outcome), else null.</summary>
    [Output] public Output<string?> Error { get; set; } = new();

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var name = DataSource.Get(context)?.Trim() ?? "";
        var sql = Sql.Get(context) ?? "";
        var limit = RowLimit.Get(context) is var l and > 0 ? l : DefaultRowLimit;
        var timeout = Timeout.Get(context) is var t && t > TimeSpan.Zero ? t : TimeSpan.FromSeconds(5);

        if (string.IsNullOrWhiteSpace(sql)) { Fail(context, "The SQL input is empty."); return; }
        var store = context.GetRequiredService<IDataSourceStore>();
        var providers = context.GetRequiredService<DataSourceProviders>();
        var source = name.Length == 0 ? null : await store.FindAsync(name, context.CancellationToken);
        if (source is null)
        {
            Fail(context, $"The data source '{name}' does not exist. Create it under /api/data-sources or fix the DataSource input.");
            return;
        }

        var parameters = await EvaluateParametersAsync(context);
        var provider = providers.Get(source.Provider);
        var readOnly = !source.Writable;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        cts.CancelAfter(timeout);
        var watch = Stopwatch.StartNew();
        DbConnection? connection = null;
        try
        {
            connection = await provider.OpenAsync(source.ConnectionString, readOnly, cts.Token);
            var open = connection;
            await using var interrupt = cts.Token.Register(() => provider.Interrupt(open));
            await using var transaction = await provider.BeginAsync(connection, readOnly, cts.Token);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            command.CommandTimeout = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
            foreach (var (key, value) in parameters)
            {
                var p = command.CreateParameter();
                p.ParameterName = "@" + key.TrimStart('@', ':', '$');
                p.Value = value ?? DBNull.Value;
                command.Parameters.Add(p);
            }

            var rows = new List<Dictionary<string, object?>>();
            var truncated = false;
            int affected;
            bool isQuery;
            var reader = await command.ExecuteReaderAsync(cts.Token);
            try
            {
                isQuery = reader.FieldCount > 0;
                while (isQuery && await reader.ReadAsync(cts.Token))
                {
                    if (rows.Count >= limit) { truncated = true; break; }
                    var row = new Dictionary<string, object?>(StringComparer.Ordinal);
                    for (var i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = ToPlain(reader.GetValue(i));
                    rows.Add(row);
                }
                // A read-only transaction is rolled back anyway, so the rest of a large result is not streamed; a writable one
                // must commit, so its remaining rows are drained by the provider instead.
                if (truncated && readOnly) command.Cancel();
                affected = reader.RecordsAffected;
            }
            finally
            {
                try { await reader.DisposeAsync(); }
                catch (DbException) when (truncated && readOnly) { } // the provider reports the cancellation asked for above
            }
            if (readOnly)
            {
                try { await transaction.RollbackAsync(cts.Token); } // nothing to keep; SQL Server relies on this
                catch (DbException) when (truncated) { }
            }
            else await transaction.CommitAsync(cts.Token);

            Rows.Set(context, rows);
            Scalar.Set(context, rows.Count > 0 ? rows[0].Values.FirstOrDefault() : null);
            RowCount.Set(context, isQuery ? rows.Count : Math.Max(affected, 0));
            Error.Set(context, null);
            context.AddJournalData("elapsedMs", watch.ElapsedMilliseconds);
            if (truncated) context.AddJournalData("truncated", $"Only the first {limit} rows were returned (RowLimit).");
            context.Complete(isQuery && rows.Count == 0 ? "Empty" : "Done");
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested)
        {
            Fail(context, $"The query on '{source.Name}' did not finish within {timeout.TotalSeconds:0.###} s (Timeout). Narrow the query or raise the timeout.");
        }
        catch (Exception e) when (e is DbException or InvalidOperationException or ArgumentException or TimeoutException
                                       && !context.CancellationToken.IsCancellationRequested)
        {
            Fail(context, cts.IsCancellationRequested
                ? $"The query on '{source.Name}' did not finish within {timeout.TotalSeconds:0.###} s (Timeout). Narrow the query or raise the timeout."
                : Describe(source, readOnly, e));
        }
        finally
        {
            if (connection is not null) await connection.DisposeAsync();
        }
    }

    private void Fail(ActivityExecutionContext context, string message)
    {
        Rows.Set(context, []);
        Scalar.Set(context, null);
        RowCount.Set(context, 0);
        Error.Set(context, message);
        context.AddJournalData("error", message);
        context.Logger.LogQueryFailed(context.Activity.Id, message);
        context.Complete("Error");
    }

    private static string Describe(DataSource source, bool readOnly, Exception e)
    {
        var text = e.Message;
        var looksLikeWrite = text.Contains("read-only", StringComparison.OrdinalIgnoreCase)
            || text.Contains("readonly", StringComparison.OrdinalIgnoreCase)
            || text.Contains("read only", StringComparison.OrdinalIgnoreCase);
        return readOnly && looksLikeWrite
            ? $"The data source '{source.Name}' is read-only, so the query may not write ({text}). Mark the data source writable to allow writes."
            : $"The query on '{source.Name}' failed: {text}";
    }

    private async Task<Dictionary<string, object?>> EvaluateParametersAsync(ActivityExecutionContext context)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, raw) in Parameters.Get(context) ?? new Dictionary<string, object?>())
        {
            var value = Unwrap(raw);
            if (value is IDictionary<string, object?> d && d.Count == 2 && d.TryGetValue("type", out var type) && type is string typeName
                && d.TryGetValue("value", out var expression) && IsExpressionType(typeName))
                value = Unwrap(await context.EvaluateAsync(new Expression(typeName, expression)));
            result[key] = ToParameterValue(value);
        }
        return result;
    }

    private static bool IsExpressionType(string type) => type is ExpressionTypes.Literal or ExpressionTypes.JavaScript
        or ExpressionTypes.Liquid or ExpressionTypes.Variable or ExpressionTypes.Object;

    private static object? Unwrap(object? value) => value switch
    {
        JsonElement e => FromJson(JsonNode.Parse(e.GetRawText())),
        JsonNode n => FromJson(n),
        _ => value,
    };

    private static object? FromJson(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => FromJson(p.Value)),
        JsonArray a => a.Select(FromJson).ToList(),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<long>(out var i) => i,
        JsonValue v when v.TryGetValue<decimal>(out var m) => m,
        JsonValue v when v.TryGetValue<double>(out var f) => f,
        _ => node.ToJsonString(),
    };

    private static object? ToParameterValue(object? value) => value switch
    {
        null => null,
        string or bool or byte or short or int or long or float or double or decimal or DateTime or DateTimeOffset or Guid or byte[] => value,
        IDictionary or IEnumerable<object?> => JsonSerializer.Serialize(value), // a structured value is bound as JSON text, never spliced
        _ => Convert.ToString(value, CultureInfo.InvariantCulture),
    };

    private static object? ToPlain(object? value) => value switch
    {
        null or DBNull => null,
        string or bool or byte or short or int or long or float or double or decimal or DateTime or DateTimeOffset => value,
        byte[] bytes => Convert.ToBase64String(bytes),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}

internal static partial class DataLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning, Message = "QueryDatabase {ActivityId}: {Message}")]
    public static partial void LogQueryFailed(this Microsoft.Extensions.Logging.ILogger logger, string activityId, string message);
}
