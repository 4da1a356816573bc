using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Persistence.EFCore;

namespace Platform.Benchmarks;

/// <summary>
/// Per-activity engine overhead: one run of a 100-activity sequential flowchart (SetVariable with a literal), in memory and with
/// SQLite persistence (one commit per run: instance state, bookmarks and 100 journal records). Divide the mean by 100.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class EngineOverheadBenchmarks
{
    public const int ActivityCount = 100;

    [Params("InMemory", "Sqlite")]
    public string Store { get; set; } = "InMemory";

    private ServiceProvider _services = null!;
    private IWorkflowRuntime _runtime = null!;
    private string _definitionId = null!;
    private string? _dir;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var services = new ServiceCollection();
        services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>());
        if (Store == "Sqlite")
        {
            _dir = Directory.CreateTempSubdirectory("platform-bench-").FullName;
            services.AddPlatformPersistence(new PlatformDatabaseSettings(PlatformDatabaseProvider.Sqlite, $"Data Source={Path.Combine(_dir, "bench.db")}"));
        }
        _services = services.BuildServiceProvider();
        if (Store == "Sqlite") await _services.MigratePlatformDatabaseAsync();
        _runtime = _services.GetRequiredService<IWorkflowRuntime>();
        var definitions = _services.GetRequiredService<IWorkflowDefinitionService>();
        _definitionId = (await definitions.SaveAsync(SequentialFlow(ActivityCount), publish: true)).Definition.DefinitionId;
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _services.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_dir is not null) Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Description = "100 sequential activities, one run")]
    public Task<RunWorkflowResult> Run100() => _runtime.StartAsync(new StartWorkflowRequest(_definitionId));

    /// <summary>Start → SetVariable × n, connected in a line.</summary>
    public static JsonObject SequentialFlow(int n)
    {
        var activities = new JsonArray();
        var connections = new JsonArray();
        for (var i = 0; i < n; i++)
        {
            activities.Add(new JsonObject
            {
                ["id"] = $"a{i}", ["type"] = "Elsa.SetVariable", ["version"] = 1,
                ["variable"] = "counter",
                ["value"] = new JsonObject { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = i.ToString() } },
            });
            if (i > 0)
                connections.Add(new JsonObject
                {
                    ["source"] = new JsonObject { ["activity"] = $"a{i - 1}", ["port"] = "Done" },
                    ["target"] = new JsonObject { ["activity"] = $"a{i}", ["port"] = "In" },
                });
        }
        return new JsonObject
        {
            ["name"] = "bench-sequential",
            ["root"] = new JsonObject { ["id"] = "flow", ["type"] = "Elsa.Flowchart", ["activities"] = activities, ["connections"] = connections },
        };
    }
}
