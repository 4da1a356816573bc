// Usage:
//   One node in this process (engine and Hangfire server here):
//     dotnet run -c Release --project bench/Platform.Bench.Timers -- [count=1000] [workers=8] [postgres connection string]
//   N real server processes (Platform.Server.dll from this project's output, so -c Release runs the Release server), all on
//   the same PostgreSQL database; this process starts the instances through their API, round robin, and reads the results
//   from the database:
//     dotnet run -c Release --project bench/Platform.Bench.Timers -- --servers 2 [count=1000] [workers per node=8] [connection string]
// --poll 00:00:01 sets Platform:Scheduling:QueuePollInterval (how often idle Hangfire workers look for queued jobs).
// Without a connection string (or PG_CONN) a throwaway PostgreSQL is started through Platform.Testing's PostgresFixture.
// Each workflow is Delay(1 s) → WriteLine. Lateness = FinishedAt − the Delay's due time (its bookmark's ResumeAt).
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Platform.Activities.Core;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore;
using Platform.Scheduling.Hangfire;
using Platform.Testing;

var arguments = args.ToList();
int? servers = null;
var serversAt = arguments.IndexOf("--servers");
if (serversAt >= 0)
{
    servers = int.Parse(arguments[serversAt + 1], CultureInfo.InvariantCulture);
    arguments.RemoveRange(serversAt, 2);
}
string? poll = null;
var pollAt = arguments.IndexOf("--poll");
if (pollAt >= 0)
{
    poll = arguments[pollAt + 1];
    arguments.RemoveRange(pollAt, 2);
}
var count = arguments.Count > 0 ? int.Parse(arguments[0], CultureInfo.InvariantCulture) : 1000;
var workers = arguments.Count > 1 ? int.Parse(arguments[1], CultureInfo.InvariantCulture) : 8;
await using var fixture = new PostgresFixture();
var connectionString = arguments.Count > 2 ? arguments[2] : await fixture.CreateDatabaseAsync("bench_timers");
var definitionId = $"bench-delay-{Guid.NewGuid():N}"[..24];

static JsonObject Literal(string typeName, string value) => new()
{
    ["typeName"] = typeName, ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value },
};
var definition = new JsonObject
{
    ["definitionId"] = definitionId, ["name"] = definitionId,
    ["root"] = new JsonObject
    {
        ["id"] = "flow", ["type"] = "Elsa.Flowchart", ["version"] = 1,
        ["activities"] = new JsonArray
        {
            new JsonObject { ["id"] = "wait", ["type"] = "Elsa.Delay", ["version"] = 1, ["timeSpan"] = Literal("TimeSpan", "00:00:01") },
            new JsonObject { ["id"] = "done", ["type"] = "Elsa.WriteLine", ["version"] = 1, ["text"] = Literal("String", "done") },
        },
        ["connections"] = new JsonArray
        {
            new JsonObject { ["source"] = new JsonObject { ["activity"] = "wait", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "done", ["port"] = "In" } },
        },
    },
};

var due = new ConcurrentDictionary<string, DateTimeOffset>();
TimeSpan started;
Dictionary<string, DateTimeOffset> finished;
string nodesLine;

if (servers is null)
{
    // ---- One node in this process ----
    var builder = Host.CreateApplicationBuilder();
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Services.AddPlatformPersistence(new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, connectionString));
    builder.Services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>());
    builder.Services.AddHangfireScheduling(HangfireStorageKind.PostgreSql, connectionString, workerCount: workers);
    if (poll is not null) builder.Services.Configure<HangfireSchedulingOptions>(o => o.QueuePollInterval = TimeSpan.Parse(poll, CultureInfo.InvariantCulture));
    using var host = builder.Build();
    await host.StartAsync();
    await host.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(definition, publish: true);
    var runtime = host.Services.GetRequiredService<IWorkflowRuntime>();

    // Start the instances (8 at a time); each one is due 1 s after its Delay ran.
    var startClock = Stopwatch.StartNew();
    await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (_, ct) =>
    {
        var run = await runtime.StartAsync(new StartWorkflowRequest(definitionId), ct);
        if (run.SubStatus != WorkflowSubStatus.Suspended) throw new InvalidOperationException($"Instance {run.InstanceId} is {run.SubStatus}, not suspended.");
        due[run.InstanceId] = run.Instance.State.Bookmarks.Single().ResumeAt!.Value;
    });
    started = startClock.Elapsed;
    finished = await WaitForFinishAsync(host.Services.GetRequiredService<IWorkflowInstanceStore>());
    await host.StopAsync();
    nodesLine = $"nodes=1 (in-process) hangfireWorkers={workers} queuePoll={poll ?? "default"}";
}
else
{
    // ---- N real server processes ----
    using var temp = new TempDirectory("bench-timers");
    var nodes = new List<ServerProcess>();
    try
    {
        for (var i = 0; i < servers; i++) // one after the other: the first one migrates the database and installs Hangfire's schema
            nodes.Add(await ServerProcess.StartAsync($"node-{i + 1}", temp.CreateSubdirectory($"node-{i + 1}"), connectionString, workers, poll));

        using (var save = await nodes[0].Client.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = definition, ["publish"] = true }))
            await EnsureSuccessAsync(save, nodes[0]);

        // Start the instances through the nodes' API, round robin, 8 requests at a time.
        var startClock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var node = nodes[i % nodes.Count];
            using var response = await node.Client.PostAsJsonAsync($"/elsa/api/workflow-definitions/{definitionId}/execute", new JsonObject(), ct);
            var body = await EnsureSuccessAsync(response, node);
            var state = body["workflowState"]!;
            var instanceId = response.Headers.GetValues("x-elsa-workflow-instance-id").Single();
            if (state["subStatus"]!.GetValue<string>() != "Suspended")
                throw new InvalidOperationException($"Instance {instanceId} is {state["subStatus"]}, not suspended.");
            due[instanceId] = state["bookmarks"]!.AsArray().Single()!["resumeAt"]!.GetValue<DateTimeOffset>();
        });
        started = startClock.Elapsed;

        var stores = new ServiceCollection().AddLogging()
            .AddPlatformPersistence(new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, connectionString))
            .AddWorkflowEngine().BuildServiceProvider();
        await using (stores)
            finished = await WaitForFinishAsync(stores.GetRequiredService<IWorkflowInstanceStore>());

        // Hangfire records the Processing states a little after the runs they describe: wait (up to 20 s) until all are there.
        var perNode = await ResumesPerProcessAsync(connectionString);
        for (var i = 0; i < 40 && perNode.Values.Sum() < finished.Count; i++)
        {
            await Task.Delay(500);
            perNode = await ResumesPerProcessAsync(connectionString);
        }
        nodesLine = $"nodes={servers} (server processes) hangfireWorkers={workers} per node queuePoll={poll ?? "default"}; Hangfire jobs processed per process: "
                    + string.Join(", ", nodes.Select(n => $"{n.Name}={perNode.GetValueOrDefault(n.ProcessId)}"))
                    + (perNode.Keys.Except(nodes.Select(n => n.ProcessId)).Any() ? $", other processes={perNode.Where(p => nodes.All(n => n.ProcessId != p.Key)).Sum(p => p.Value)}" : "");
        foreach (var n in nodes.Where(n => n.HasExited)) Console.WriteLine($"{n.Name} exited early:\n{n.Output}");
    }
    finally
    {
        foreach (var n in nodes) n.Dispose();
    }
}

var lateness = finished.Select(f => (f.Value - due[f.Key]).TotalMilliseconds).Order().ToArray();
double Percentile(double p) => lateness.Length == 0 ? double.NaN : lateness[Math.Min(lateness.Length - 1, (int)Math.Ceiling(p * lateness.Length) - 1)];
var window = finished.Count == 0 ? TimeSpan.Zero : finished.Values.Max() - due.Values.Min();
Console.WriteLine($"instances={count} finished={finished.Count} cores={Environment.ProcessorCount} load={LoadAverage()}");
Console.WriteLine(nodesLine);
Console.WriteLine($"start phase: {started.TotalSeconds:F1} s ({count / started.TotalSeconds:F0} starts/s)");
Console.WriteLine($"resumes/s (finished / (last finish - first due)): {finished.Count / Math.Max(window.TotalSeconds, 0.001):F1}");
Console.WriteLine($"lateness ms: P50={Percentile(0.50):F0} P99={Percentile(0.99):F0} max={(lateness.Length > 0 ? lateness[^1] : double.NaN):F0}");
return finished.Count == count ? 0 : 1;

// Waits (at most 10 minutes) until every started instance has finished; one query per round.
async Task<Dictionary<string, DateTimeOffset>> WaitForFinishAsync(IWorkflowInstanceStore instances)
{
    var result = new Dictionary<string, DateTimeOffset>();
    var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
    while (result.Count < count && DateTime.UtcNow < deadline)
    {
        var page = await instances.FindManyAsync(new WorkflowInstanceFilter { DefinitionId = definitionId, Statuses = [WorkflowStatus.Finished] },
            new PageArgs(0, count + 1));
        foreach (var i in page.Items)
            if (i.FinishedAt is { } at && due.ContainsKey(i.Id)) result[i.Id] = at;
        if (result.Count < count) await Task.Delay(500);
    }
    return result;
}

static async Task<JsonObject> EnsureSuccessAsync(HttpResponseMessage response, ServerProcess node)
{
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode)
        throw new InvalidOperationException($"{node.Name}: {(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {text}\n{node.Output}");
    return JsonNode.Parse(text)!.AsObject();
}

// Which process ran the jobs: Hangfire's Processing states carry the server id "<machine>:<pid>:<guid>".
static async Task<Dictionary<int, int>> ResumesPerProcessAsync(string connectionString)
{
    var result = new Dictionary<int, int>();
    await using var connection = new NpgsqlConnection(connectionString);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand(
        "SELECT (data::jsonb)->>'ServerId', count(*) FROM hangfire.state WHERE name = 'Processing' GROUP BY 1", connection);
    await using var reader = await command.ExecuteReaderAsync();
    while (await reader.ReadAsync())
    {
        var parts = (reader.IsDBNull(0) ? "" : reader.GetString(0)).Split(':');
        if (parts.Length >= 2 && int.TryParse(parts[^2], CultureInfo.InvariantCulture, out var pid))
            result[pid] = result.GetValueOrDefault(pid) + (int)reader.GetInt64(1);
    }
    return result;
}

static string LoadAverage()
{
    try { return File.ReadAllText("/proc/loadavg").Split(' ')[0]; }
    catch (IOException) { return "?"; }
}

/// <summary>One real server process (<c>dotnet Platform.Server.dll</c> from this program's output) on a free loopback port.</summary>
internal sealed class ServerProcess : IDisposable
{
    private const string AdminKey = "bench-timers-admin-key-0123456789";
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(string name, Process process, Uri baseAddress)
    {
        Name = name;
        _process = process;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", AdminKey);
    }

    public string Name { get; }
    public HttpClient Client { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static async Task<ServerProcess> StartAsync(string name, string dataDirectory, string connectionString, int workers, string? queuePoll)
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "Platform.Server.dll"), "--urls", baseAddress.ToString().TrimEnd('/') })
            info.ArgumentList.Add(a);
        info.Environment["Platform__DataDirectory"] = dataDirectory;
        info.Environment["Platform__Database__Provider"] = "PostgreSql";
        info.Environment["ConnectionStrings__Platform"] = connectionString;
        info.Environment["Platform__ApiKeys__0__Key"] = AdminKey;
        info.Environment["Platform__ApiKeys__0__Role"] = "Admin";
        info.Environment["Platform__Scheduling__WorkerCount"] = workers.ToString(CultureInfo.InvariantCulture);
        if (queuePoll is not null) info.Environment["Platform__Scheduling__QueuePollInterval"] = queuePoll;
        info.Environment["Platform__Mqtt__EmbeddedPort"] = "0"; // two nodes on one machine would fight over 1883
        info.Environment["Platform__Demo__Enabled"] = "false";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment.Remove("ASPNETCORE_URLS");

        var node = new ServerProcess(name, new Process { StartInfo = info }, baseAddress);
        node._process.OutputDataReceived += (_, e) => node.Append(e.Data);
        node._process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        node._process.Start();
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();

        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (node.HasExited) throw new InvalidOperationException($"{name} exited before answering:\n{node.Output}");
            try
            {
                using var response = await probe.GetAsync(new Uri(baseAddress, "/health"));
                if (response.StatusCode == HttpStatusCode.OK) return node;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }
            await Task.Delay(250);
        }
        node.Dispose();
        throw new TimeoutException($"{name} did not answer /health within 120 s:\n{node.Output}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine($"[{Name}] {line}");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(15_000);
            }
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
        Client.Dispose();
        _process.Dispose();
    }
}
