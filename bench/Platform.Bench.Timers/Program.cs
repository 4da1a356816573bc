// Usage: dotnet run -c Release --project bench/Platform.Bench.Timers -- [count=1000] [workers=8] [postgres connection string]
// Without a connection string (or PG_CONN) a throwaway PostgreSQL is started through Platform.Testing's PostgresFixture.
using System.Diagnostics;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore;
using Platform.Scheduling.Hangfire;
using Platform.Testing;

var count = args.Length > 0 ? int.Parse(args[0]) : 1000;
var workers = args.Length > 1 ? int.Parse(args[1]) : 8;
await using var fixture = new PostgresFixture();
var connectionString = args.Length > 2 ? args[2] : await fixture.CreateDatabaseAsync("bench_timers");

var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddPlatformPersistence(new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, connectionString));
builder.Services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>());
builder.Services.AddHangfireScheduling(HangfireStorageKind.PostgreSql, connectionString, workerCount: workers);
using var host = builder.Build();
await host.StartAsync();

static JsonObject Literal(string value) => new() { ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value } };
var definition = new JsonObject
{
    ["definitionId"] = "bench-delay", ["name"] = "bench-delay",
    ["root"] = new JsonObject
    {
        ["id"] = "flow", ["type"] = "Elsa.Flowchart",
        ["activities"] = new JsonArray
        {
            new JsonObject { ["id"] = "wait", ["type"] = "Elsa.Delay", ["timeSpan"] = Literal("00:00:01") },
            new JsonObject { ["id"] = "done", ["type"] = "Elsa.WriteLine", ["text"] = Literal("done") },
        },
        ["connections"] = new JsonArray
        {
            new JsonObject { ["source"] = new JsonObject { ["activity"] = "wait", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "done", ["port"] = "In" } },
        },
    },
};
await host.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(definition, publish: true);
var runtime = host.Services.GetRequiredService<IWorkflowRuntime>();
var instances = host.Services.GetRequiredService<IWorkflowInstanceStore>();

// Start the instances (8 at a time); each one is due 1 s after it suspended.
var due = new System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset>();
var startClock = Stopwatch.StartNew();
await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, ct) =>
{
    var run = await runtime.StartAsync(new StartWorkflowRequest("bench-delay"), ct);
    if (run.SubStatus != WorkflowSubStatus.Suspended) throw new InvalidOperationException($"Instance {run.InstanceId} is {run.SubStatus}, not suspended.");
    due[run.InstanceId] = run.Instance.UpdatedAt + TimeSpan.FromSeconds(1);
});
var started = startClock.Elapsed;

// Wait (bounded) until all are finished.
var finished = new Dictionary<string, DateTimeOffset>();
var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
while (finished.Count < count && DateTime.UtcNow < deadline)
{
    foreach (var id in due.Keys.Where(k => !finished.ContainsKey(k)).ToList())
    {
        var instance = await instances.FindAsync(id);
        if (instance?.FinishedAt is { } at) finished[id] = at;
    }
    if (finished.Count < count) await Task.Delay(500);
}
await host.StopAsync();

var lateness = finished.Select(f => (f.Value - due[f.Key]).TotalMilliseconds).Order().ToArray();
double Percentile(double p) => lateness.Length == 0 ? double.NaN : lateness[Math.Min(lateness.Length - 1, (int)Math.Ceiling(p * lateness.Length) - 1)];
var window = finished.Count == 0 ? TimeSpan.Zero : finished.Values.Max() - due.Values.Min();
Console.WriteLine($"instances={count} finished={finished.Count} hangfireWorkers={workers} cores={Environment.ProcessorCount}");
Console.WriteLine($"start phase: {started.TotalSeconds:F1} s ({count / started.TotalSeconds:F0} starts/s)");
Console.WriteLine($"resumes/s (finished / (last finish - first due)): {finished.Count / Math.Max(window.TotalSeconds, 0.001):F1}");
Console.WriteLine($"lateness ms: P50={Percentile(0.50):F0} P99={Percentile(0.99):F0} max={(lateness.Length > 0 ? lateness[^1] : double.NaN):F0}");
