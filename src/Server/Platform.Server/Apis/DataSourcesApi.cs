using System.Data.Common;
using System.Diagnostics;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Activities.Data;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Named data sources under <c>/api/data-sources</c>. Connection strings are write-only: answers carry a masked form.
/// Reading needs any role; testing and querying need Designer; changing needs Admin (connection strings are secrets).
/// </summary>
public static class DataSourcesApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/data-sources";

    /// <summary>A data source as answered (the connection string masked).</summary>
    public sealed record DataSourceResponse(string Name, DataSourceProviderKind Provider, string ConnectionString, bool Writable,
        string? Description, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    /// <summary>A create or update request. On update a missing connection string keeps the stored one.</summary>
    public sealed record DataSourceRequest(string? Name, DataSourceProviderKind? Provider, string? ConnectionString, bool? Writable, string? Description);

    /// <summary>A successful connection test.</summary>
    public sealed record TestResponse(bool Success, string Name, DataSourceProviderKind Provider, string? ServerVersion, long ElapsedMs);

    /// <summary>The most rows one query request returns.</summary>
    public const int MaxQueryRows = 1000;

    /// <summary>A read-only query from the Studio's Data sources page.</summary>
    /// <param name="Sql">The SQL, with <c>@name</c> placeholders for the parameters.</param>
    /// <param name="Parameters">Values of the placeholders (strings, numbers, booleans or null).</param>
    /// <param name="RowLimit">The most rows answered: 1-1000, default 100.</param>
    public sealed record QueryRequest(string? Sql, Dictionary<string, System.Text.Json.JsonElement>? Parameters, int? RowLimit);

    /// <summary>A query's result: the columns, the rows (at most the limit) and whether more rows were left out.</summary>
    public sealed record QueryResponse(IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<object?>> Rows, int RowCount, bool Truncated, long ElapsedMs);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapDataSourcesApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Data sources");
        group.MapGet("/", ListAsync);
        group.MapGet("/{name}", GetAsync);
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiPolicies.Admin);
        group.MapPut("/{name}", UpdateAsync).RequireAuthorization(ApiPolicies.Admin);
        group.MapDelete("/{name}", DeleteAsync).RequireAuthorization(ApiPolicies.Admin);
        group.MapPost("/{name}/test", TestAsync).RequireAuthorization(ApiPolicies.Design);
        group.MapPost("/{name}/query", QueryAsync).RequireAuthorization(ApiPolicies.Design);
        return app;
    }

    private static DataSourceResponse ToResponse(DataSource d) =>
        new(d.Name, d.Provider, SqlSafety.Mask(d.ConnectionString), d.Writable, d.Description, d.CreatedAt, d.UpdatedAt);

    /// <summary>GET /api/data-sources.</summary>
    public static async Task<Ok<List<DataSourceResponse>>> ListAsync(IDataSourceStore store, CancellationToken ct) =>
        TypedResults.Ok((await store.ListAsync(ct)).Select(ToResponse).ToList());

    /// <summary>GET /api/data-sources/{name}.</summary>
    public static async Task<Results<Ok<DataSourceResponse>, ProblemHttpResult>> GetAsync(string name, IDataSourceStore store, CancellationToken ct) =>
        await store.FindAsync(name, ct) is { } d ? TypedResults.Ok(ToResponse(d)) : NotFound(name);

    /// <summary>POST /api/data-sources: 201, 400 on bad input, 409 when the name is taken.</summary>
    public static async Task<Results<Created<DataSourceResponse>, ProblemHttpResult>> CreateAsync(DataSourceRequest request,
        IDataSourceStore store, DataSourceProviders providers, TimeProvider clock, CancellationToken ct)
    {
        if (!DataSource.IsValidName(request.Name))
            return Problems.BadRequest("The data source name is not valid.", "Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        if (await store.FindAsync(request.Name!, ct) is not null)
            return Problems.Conflict($"The data source '{request.Name}' already exists.", $"Update it with PUT {Prefix}/{request.Name} or pick another name.");
        if (Check(request, providers, requireConnectionString: true) is { } problem) return problem;
        var now = clock.GetUtcNow();
        var d = new DataSource
        {
            Name = request.Name!, Provider = request.Provider!.Value, ConnectionString = request.ConnectionString!.Trim(),
            Writable = request.Writable ?? false, Description = request.Description, CreatedAt = now, UpdatedAt = now,
        };
        await store.SaveAsync(d, ct);
        return TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(d.Name)}", ToResponse(d));
    }

    /// <summary>PUT /api/data-sources/{name}: creates or updates; omitted fields keep their values.</summary>
    public static async Task<Results<Ok<DataSourceResponse>, Created<DataSourceResponse>, ProblemHttpResult>> UpdateAsync(string name,
        DataSourceRequest request, IDataSourceStore store, DataSourceProviders providers, TimeProvider clock, CancellationToken ct)
    {
        if (!DataSource.IsValidName(name))
            return Problems.BadRequest("The data source name is not valid.", "Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        if (request.Name is not null && !string.Equals(request.Name, name, StringComparison.OrdinalIgnoreCase))
            return Problems.BadRequest("The name in the body differs from the name in the URL.", "Renaming is not supported: create a new data source and delete the old one.");
        var existing = await store.FindAsync(name, ct);
        var merged = request with
        {
            Provider = request.Provider ?? existing?.Provider,
            ConnectionString = string.IsNullOrWhiteSpace(request.ConnectionString) ? existing?.ConnectionString : request.ConnectionString,
        };
        if (Check(merged, providers, requireConnectionString: true) is { } problem) return problem;
        var now = clock.GetUtcNow();
        var d = new DataSource
        {
            Name = existing?.Name ?? name, Provider = merged.Provider!.Value, ConnectionString = merged.ConnectionString!.Trim(),
            Writable = request.Writable ?? existing?.Writable ?? false, Description = request.Description ?? existing?.Description,
            CreatedAt = existing?.CreatedAt ?? now, UpdatedAt = now,
        };
        await store.SaveAsync(d, ct);
        return existing is null ? TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(d.Name)}", ToResponse(d)) : TypedResults.Ok(ToResponse(d));
    }

    /// <summary>DELETE /api/data-sources/{name}: 204 or 404.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, IDataSourceStore store, CancellationToken ct) =>
        await store.DeleteAsync(name, ct) ? TypedResults.NoContent() : NotFound(name);

    /// <summary>POST /api/data-sources/{name}/test: 200 when a connection opens and answers, 422 with the reason otherwise.</summary>
    public static async Task<Results<Ok<TestResponse>, ProblemHttpResult>> TestAsync(string name, IDataSourceStore store,
        DataSourceProviders providers, ILoggerFactory loggers, CancellationToken ct)
    {
        if (await store.FindAsync(name, ct) is not { } d) return NotFound(name);
        var provider = providers.Get(d.Provider);
        var watch = Stopwatch.StartNew();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await using var connection = await provider.OpenAsync(d.ConnectionString, readOnly: !d.Writable, cts.Token);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            await command.ExecuteScalarAsync(cts.Token);
            return TypedResults.Ok(new TestResponse(true, d.Name, d.Provider, connection.ServerVersion, watch.ElapsedMilliseconds));
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is not OutOfMemoryException)
        {
            loggers.CreateLogger("Platform.Server.DataSources").LogInformation(e, "Test of data source {Name} failed", d.Name);
            var reason = e is OperationCanceledException ? "no answer within 10 s" : e.Message;
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
                title: $"Cannot connect to the data source '{d.Name}'.",
                detail: $"The {d.Provider} connection failed: {reason}. Check the host, port, database, user and password in the connection string (PUT {Prefix}/{d.Name}).");
        }
    }

    /// <summary>
    /// POST /api/data-sources/{name}/query: runs the SQL in a read-only transaction that is always rolled back, whatever the data
    /// source's Writable flag, within 10 s; 200 with the rows, 400 on bad input, 404 for an unknown source, 422 when the database
    /// refuses the query (the reason in the detail, e.g. a write on a read-only connection).
    /// </summary>
    public static async Task<Results<Ok<QueryResponse>, ProblemHttpResult>> QueryAsync(string name, QueryRequest request, IDataSourceStore store,
        DataSourceProviders providers, ILoggerFactory loggers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (await store.FindAsync(name, ct) is not { } d) return NotFound(name);
        if (string.IsNullOrWhiteSpace(request.Sql))
            return Problems.BadRequest("The SQL is missing.", "Set sql to a query, e.g. \"SELECT * FROM orders WHERE status = @status\" with parameters {\"status\": \"open\"}.");
        var limit = request.RowLimit ?? 100;
        if (limit is < 1 or > MaxQueryRows)
            return Problems.BadRequest("The row limit is out of range.", $"Set rowLimit from 1 to {MaxQueryRows} (default 100).");
        var parameters = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in request.Parameters ?? [])
        {
            var parameterName = key.TrimStart('@', ':', '$');
            if (!System.Text.RegularExpressions.Regex.IsMatch(parameterName, "^[A-Za-z_][A-Za-z0-9_]{0,63}$"))
                return Problems.BadRequest($"'{key}' is not a valid parameter name.", "Name parameters like the placeholders in the SQL without the @: letters, digits and '_'.");
            switch (value.ValueKind)
            {
                case System.Text.Json.JsonValueKind.String: parameters[parameterName] = value.GetString(); break;
                case System.Text.Json.JsonValueKind.Number: parameters[parameterName] = value.TryGetInt64(out var l) ? l : value.GetDouble(); break;
                case System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False: parameters[parameterName] = value.GetBoolean(); break;
                case System.Text.Json.JsonValueKind.Null: parameters[parameterName] = null; break;
                default:
                    return Problems.BadRequest($"The parameter '{key}' is not a plain value.", "Parameter values are strings, numbers, booleans or null.");
            }
        }

        var provider = providers.Get(d.Provider);
        var watch = Stopwatch.StartNew();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        try
        {
            await using var connection = await provider.OpenAsync(d.ConnectionString, readOnly: true, cts.Token);
            await using var interrupt = cts.Token.Register(() => provider.Interrupt(connection));
            await using var transaction = await provider.BeginAsync(connection, readOnly: true, cts.Token);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = request.Sql;
            command.CommandTimeout = 10;
            foreach (var (key, value) in parameters)
            {
                var p = command.CreateParameter();
                p.ParameterName = "@" + key;
                p.Value = value ?? DBNull.Value;
                command.Parameters.Add(p);
            }
            var columns = new List<string>();
            var rows = new List<IReadOnlyList<object?>>();
            var truncated = false;
            await using (var reader = await command.ExecuteReaderAsync(cts.Token))
            {
                for (var i = 0; i < reader.FieldCount; i++) columns.Add(reader.GetName(i));
                while (reader.FieldCount > 0 && await reader.ReadAsync(cts.Token))
                {
                    if (rows.Count >= limit) { truncated = true; break; }
                    var row = new object?[reader.FieldCount];
                    for (var i = 0; i < row.Length; i++) row[i] = Plain(reader.GetValue(i));
                    rows.Add(row);
                }
            }
            try { await transaction.RollbackAsync(CancellationToken.None); } catch (DbException) { } // nothing is ever kept
            return TypedResults.Ok(new QueryResponse(columns, rows, rows.Count, truncated, watch.ElapsedMilliseconds));
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is DbException or InvalidOperationException or ArgumentException
                                      or TimeoutException or OperationCanceledException)
        {
            loggers.CreateLogger("Platform.Server.DataSources").LogInformation(e, "Query on data source {Name} failed", d.Name);
            var reason = e is OperationCanceledException || cts.IsCancellationRequested ? "it did not finish within 10 s" : e.Message;
            var write = reason.Contains("read-only", StringComparison.OrdinalIgnoreCase) || reason.Contains("readonly", StringComparison.OrdinalIgnoreCase)
                || reason.Contains("read only", StringComparison.OrdinalIgnoreCase);
            return TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
                title: $"The query on '{d.Name}' failed.",
                detail: write
                    ? $"Queries from the Studio are read-only: {reason}. Write through a workflow's Query Database on a writable data source instead."
                    : $"{reason}. Check the SQL (table and column names, @name placeholders bound in the parameters).");
        }
    }

    private static object? Plain(object? value) => value switch
    {
        null or DBNull => null,
        byte[] bytes => Convert.ToBase64String(bytes),
        DateTime or DateTimeOffset or string or bool or decimal or double or float or long or int or short or byte or Guid => value,
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
    };

    private static ProblemHttpResult? Check(DataSourceRequest request, DataSourceProviders providers, bool requireConnectionString)
    {
        if (request.Provider is null)
            return Problems.BadRequest("The provider is missing.", "Set provider to PostgreSql, Sqlite, MySql or SqlServer.");
        // JSON enums also accept numbers: 12345 is no provider.
        if (!Enum.IsDefined(request.Provider.Value))
            return Problems.BadRequest($"The provider '{(int)request.Provider.Value}' is not known.", "Set provider to PostgreSql, Sqlite, MySql or SqlServer.");
        if (requireConnectionString && string.IsNullOrWhiteSpace(request.ConnectionString))
            return Problems.BadRequest("The connection string is missing.", "Set connectionString, e.g. \"Host=db;Database=shop;Username=reader;Password=…\".");
        try
        {
            providers.Get(request.Provider.Value).Validate(request.ConnectionString!);
            return null;
        }
        catch (ArgumentException e)
        {
            return Problems.BadRequest("The connection string is not valid.", e.Message.Replace(request.ConnectionString!, "…", StringComparison.Ordinal));
        }
    }

    private static ProblemHttpResult NotFound(string name) =>
        Problems.NotFound($"The data source '{name}' was not found.", $"GET {Prefix} lists the data sources; names are case-insensitive.");
}
