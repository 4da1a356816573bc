using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities.Core;
using Platform.Activities.Data;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Server.Extensions;
using Platform.Testing;

namespace Platform.Activities.Data.Tests;

/// <summary>An engine with the data pack, in-memory stores and a data source store in a temp directory; one per test.</summary>
public sealed class DataHost : IAsyncDisposable
{
    private readonly TempDirectory _dir = new("data-pack");

    public DataHost()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [DataHostExtensions.SecretsKeySetting] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
        }).Build();
        var services = new ServiceCollection();
        services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>().AddActivitiesFrom<DataPack>());
        services.AddPlatformData(configuration, _dir.Path);
        Services = services.BuildServiceProvider();
    }

    public ServiceProvider Services { get; }
    public string Directory => _dir.Path;
    public IDataSourceStore Store => Services.GetRequiredService<IDataSourceStore>();

    public Task AddSourceAsync(string name, DataSourceProviderKind provider, string connectionString, bool writable = false) =>
        Store.SaveAsync(new DataSource { Name = name, Provider = provider, ConnectionString = connectionString, Writable = writable });

    /// <summary>Saves and runs a one-activity workflow; returns the activity's journal record.</summary>
    public async Task<ActivityExecutionRecord> RunAsync(string type, JsonObject inputs)
    {
        var activity = new JsonObject { ["id"] = "a1", ["type"] = type, ["version"] = 1, ["name"] = "a1" };
        foreach (var (k, v) in inputs) activity[k] = v?.DeepClone();
        var model = Model(activity);
        var definitions = Services.GetRequiredService<IWorkflowDefinitionService>();
        var saved = await definitions.SaveAsync(model, publish: true);
        var run = await Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest(saved.Definition.DefinitionId));
        var journal = await Services.GetRequiredService<IActivityExecutionStore>()
            .FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = run.InstanceId }, new PageArgs(0, 100));
        return journal.Items.Single(r => r.ActivityId == "a1");
    }

    public static JsonObject Model(JsonObject activity) => new()
    {
        ["name"] = "data test",
        ["root"] = new JsonObject
        {
            ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
            ["activities"] = new JsonArray(activity), ["connections"] = new JsonArray(),
        },
    };

    public static JsonObject Literal(object? value) => Expr("Literal", value);

    public static JsonObject Expr(string type, object? value) => new()
    {
        ["typeName"] = "Object",
        ["expression"] = new JsonObject { ["type"] = type, ["value"] = value is JsonNode n ? n.DeepClone() : JsonValue.Create(value) },
    };

    public static JsonObject Query(string source, string sql, JsonObject? parameters = null, int? rowLimit = null, string? timeout = null)
    {
        var inputs = new JsonObject { ["dataSource"] = Literal(source), ["sql"] = Literal(sql) };
        if (parameters is not null) inputs["parameters"] = Expr("Object", parameters.ToJsonString());
        if (rowLimit is not null) inputs["rowLimit"] = Literal(rowLimit.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (timeout is not null) inputs["timeout"] = Literal(timeout);
        return inputs;
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }
}

public static class RecordExtensions
{
    public static string Outcome(this ActivityExecutionRecord r) => Assert.Single(r.Outcomes);

    public static List<Dictionary<string, object?>> Rows(this ActivityExecutionRecord r)
    {
        var json = JsonSerializer.Serialize(r.Outputs.GetValueOrDefault("Rows"));
        return JsonSerializer.Deserialize<List<Dictionary<string, object?>>>(json) ?? [];
    }

    public static string? Out(this ActivityExecutionRecord r, string name) =>
        r.Outputs.GetValueOrDefault(name) switch
        {
            null => null,
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            JsonElement { ValueKind: JsonValueKind.Null } => null,
            JsonElement e => e.GetRawText(),
            var v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture),
        };
}
