using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.MultiNode.Tests.Infrastructure;

/// <summary>
/// One real server process (<c>dotnet Platform.Server.dll --urls http://127.0.0.1:PORT</c>) on a free loopback port,
/// with its output captured for failure messages. Killed (like <c>kill -9</c>) on dispose.
/// </summary>
public sealed class ServerNode : IAsyncDisposable
{
    public const string AdminKey = "multinode-admin-key-0123456789";
    public const string OperatorKey = "multinode-operator-key-0123456789";
    // Generous: on a loaded 2-core machine (several builds and test runs at once) a start has taken over 90 s.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(240);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();

    private ServerNode(Process process, Uri baseAddress, string name)
    {
        _process = process;
        BaseAddress = baseAddress;
        Name = name;
        Admin = Client(AdminKey);
        Operator = Client(OperatorKey);
    }

    public string Name { get; }
    public Uri BaseAddress { get; }
    public HttpClient Admin { get; }
    public HttpClient Operator { get; }
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_gate) return _output.ToString(); }
    }

    /// <summary>Starts a node on <paramref name="dataDirectory"/>; <paramref name="postgres"/> switches it to PostgreSQL.</summary>
    public static async Task<ServerNode> StartAsync(string name, string dataDirectory, string? postgres = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Platform.Server.dll");
        var port = FreePort();
        var baseAddress = new Uri($"http://127.0.0.1:{port}");
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { dll, "--urls", baseAddress.ToString().TrimEnd('/') }) info.ArgumentList.Add(a);
        info.Environment["Platform__DataDirectory"] = dataDirectory;
        info.Environment["Platform__ApiKeys__0__Key"] = AdminKey;
        info.Environment["Platform__ApiKeys__0__Role"] = "Admin";
        info.Environment["Platform__ApiKeys__1__Key"] = OperatorKey;
        info.Environment["Platform__ApiKeys__1__Role"] = "Operator";
        info.Environment["Platform__Scheduling__WorkerCount"] = "2";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment.Remove("ASPNETCORE_URLS");
        if (postgres is not null)
        {
            info.Environment["Platform__Database__Provider"] = "PostgreSql";
            info.Environment["ConnectionStrings__Platform"] = postgres;
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;

        var process = new Process { StartInfo = info };
        var node = new ServerNode(process, baseAddress, name);
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await node.WaitUntilHealthyAsync();
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
        return node;
    }

    private HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", key);
        return client;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_gate) _output.AppendLine($"[{Name}] {line}");
    }

    private async Task WaitUntilHealthyAsync()
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited with {_process.ExitCode} before answering.\n{Output}");
            try
            {
                using var response = await probe.GetAsync(new Uri(BaseAddress, "/elsa/api/workflow-definitions"));
                if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }
            await Task.Delay(250);
        }
        throw new TimeoutException($"{Name} did not answer within {StartTimeout}.\n{Output}");
    }

    /// <summary>Kills the process at once (SIGKILL): no graceful shutdown, no drained work.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
        }
        Admin.Dispose();
        Operator.Dispose();
        _process.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Workflow API calls the tests need.</summary>
public static class Api
{
    public const string Root = "/elsa/api";

    public static JsonObject Literal(string typeName, object? value) => new()
    {
        ["typeName"] = typeName,
        ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = JsonValue.Create(value) },
    };

    public static JsonObject Activity(string id, string type, params (string Key, JsonNode? Value)[] properties)
    {
        var a = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1, ["name"] = id };
        foreach (var (key, value) in properties) a[key] = value;
        return a;
    }

    /// <summary>A flowchart whose activities run in the given order.</summary>
    public static JsonObject Sequence(string name, params JsonObject[] activities)
    {
        var connections = new JsonArray();
        for (var i = 1; i < activities.Length; i++)
            connections.Add(new JsonObject
            {
                ["source"] = new JsonObject { ["activity"] = activities[i - 1]["id"]!.GetValue<string>(), ["port"] = "Done" },
                ["target"] = new JsonObject { ["activity"] = activities[i]["id"]!.GetValue<string>(), ["port"] = "In" },
                ["vertices"] = new JsonArray(),
            });
        return new JsonObject
        {
            ["name"] = name,
            ["variables"] = new JsonArray(),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(activities.Select(a => (JsonNode)a).ToArray()),
                ["connections"] = connections,
            },
        };
    }

    /// <summary>Start → Delay(<paramref name="delay"/>) → WriteLine("after").</summary>
    public static JsonObject WithDelay(string name, TimeSpan delay) => Sequence(name,
        Activity("start1", "Elsa.Start"),
        Activity("delay1", "Elsa.Delay", ("timeSpan", Literal("TimeSpan", delay.ToString("c")))),
        Activity("write1", "Elsa.WriteLine", ("text", Literal("String", "after"))));

    /// <summary>Cron(<paramref name="cron"/>) → WriteLine("tick"): one recurring job per published version.</summary>
    public static JsonObject WithCron(string name, string cron) => Sequence(name,
        Activity("cron1", "Elsa.Cron", ("cronExpression", Literal("String", cron))),
        Activity("write1", "Elsa.WriteLine", ("text", Literal("String", "tick"))));

    /// <summary>Saves and publishes a model; returns the definition id.</summary>
    public static async Task<string> PublishAsync(this HttpClient client, JsonObject model)
    {
        using var response = await client.PostAsJsonAsync($"{Root}/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true });
        var body = await ReadAsync(response);
        return body["workflowDefinition"]!["definitionId"]!.GetValue<string>();
    }

    /// <summary>Executes the published version; returns the instance id.</summary>
    public static async Task<string> ExecuteAsync(this HttpClient client, string definitionId)
    {
        using var response = await client.PostAsJsonAsync($"{Root}/workflow-definitions/{definitionId}/execute", new JsonObject { ["versionOptions"] = "Published" });
        await ReadAsync(response);
        return response.Headers.GetValues("x-elsa-workflow-instance-id").Single();
    }

    public static async Task<JsonObject> GetJsonAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        return await ReadAsync(response);
    }

    /// <summary>Polls the instance until it is Finished (or the time is up); returns the last seen instance.</summary>
    public static async Task<JsonObject> WaitForStatusAsync(this HttpClient client, string instanceId, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        JsonObject instance;
        do
        {
            instance = await client.GetJsonAsync($"{Root}/workflow-instances/{instanceId}");
            if (instance["status"]?.GetValue<string>() == status) return instance;
            await Task.Delay(200);
        } while (DateTime.UtcNow < deadline);
        return instance;
    }

    /// <summary>The journal records of one activity and event.</summary>
    public static async Task<int> CountJournalAsync(this HttpClient client, string instanceId, string activityId, string eventName)
    {
        var journal = await client.GetJsonAsync($"{Root}/workflow-instances/{instanceId}/journal?pageSize=1000");
        return journal["items"]!.AsArray().Count(r => r!["activityId"]?.GetValue<string>() == activityId && r["eventName"]?.GetValue<string>() == eventName);
    }

    private static async Task<JsonObject> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}
