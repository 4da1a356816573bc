// Usage: dotnet run -c Release --project bench/Platform.Bench.Conversations -- [conversations=500] [messagesEach=10]
//        [flow=echo|assistant] [transport=websocket|telegram] [thinkMs=5000]
//
// Each simulated user waits thinkMs (±50 %) after a reply before sending the next message, as people do; thinkMs=0
// makes every conversation send as fast as the server answers, which measures the saturated throughput instead.
// Starts Platform.Server (embedded default: SQLite, in-memory Hangfire) as a child process, publishes the flow, then runs
// the conversations concurrently; each sends a message and waits for the reply before sending the next.
// - websocket: one /ws/chat socket per conversation (the built-in web chat channel "web"); latency = message frame sent →
//   reply frame received.
// - telegram: a Telegram channel pointed at a loopback Bot API played by this process; latency = webhook POST sent →
//   sendMessage received.
// Either way the latency covers the inbox write, routing, the workflow run and its commit, and the outbox delivery.
// Environment knobs: BENCH_TIMELINE=1 prints every second of the run (message count, slowest reply); BENCH_WARMUP_SECONDS=N
// lets the conversations talk unmeasured for the first N s (default 15; 0 measures from the cold start);
// BENCH_PRECONNECT=1 opens all sockets before the run; BENCH_SERVER_X=v sets
// X=v for the server process only (e.g. BENCH_SERVER_DOTNET_gcServer=1); BENCH_SERVER_DLL=path runs that server build
// instead of the one beside this client (e.g. a ReadyToRun publish, as the Dockerfile builds it); BENCH_SERVER_LOG=path
// writes the server's console output there at the end. The server's garbage
// collections during the run come from GET /api/diagnostics/runtime.
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

var conversations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500;
var messagesEach = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10;
var flow = args.Length > 2 ? args[2] : "echo";
var transport = args.Length > 3 ? args[3] : "websocket";
var channelName = transport == "websocket" ? "web" : "bench";
var thinkMs = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 5000;
const string Token = "123456:BENCH-token";
const string Secret = "bench-secret-token";
const string AdminKey = "bench-admin-key-0123456789abcdef";

// The loopback Telegram Bot API: sendMessage completes the waiting conversation.
var waiting = new ConcurrentDictionary<long, TaskCompletionSource<string>>();
var telegramPort = FreePort();
var fake = WebApplication.CreateSlimBuilder();
fake.Logging.ClearProviders();
fake.WebHost.UseUrls($"http://127.0.0.1:{telegramPort}");
var api = fake.Build();
long messageId = 0;
api.MapPost($"/bot{Token}/sendMessage", async (HttpRequest request) =>
{
    var body = await JsonNode.ParseAsync(request.Body);
    var chat = long.Parse(body!["chat_id"]!.ToString(), CultureInfo.InvariantCulture);
    var text = body["text"]?.GetValue<string>() ?? "";
    if (waiting.TryRemove(chat, out var tcs)) tcs.TrySetResult(text);
    return Results.Json(new JsonObject
    {
        ["ok"] = true,
        ["result"] = new JsonObject
        {
            ["message_id"] = Interlocked.Increment(ref messageId), ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["text"] = text,
            ["chat"] = new JsonObject { ["id"] = chat, ["type"] = "private" },
        },
    });
});
await api.StartAsync();

// The server under test.
using var temp = new TempDir();
var serverPort = FreePort();
var baseAddress = new Uri($"http://127.0.0.1:{serverPort}");
var serverDll = Path.GetFullPath(Environment.GetEnvironmentVariable("BENCH_SERVER_DLL") is { Length: > 0 } dll ? dll : Path.Combine(AppContext.BaseDirectory, "Platform.Server.dll"));
if (!File.Exists(serverDll)) { Console.Error.WriteLine($"No server at {serverDll}: build it, or point BENCH_SERVER_DLL at a published Platform.Server.dll."); return 2; }
Console.WriteLine($"server: {serverDll}");
var info = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(serverDll)!, RedirectStandardOutput = true, RedirectStandardError = true };
foreach (var a in new[] { serverDll, "--urls", baseAddress.ToString().TrimEnd('/') }) info.ArgumentList.Add(a);
info.Environment["Platform__DataDirectory"] = temp.Path;
info.Environment["Platform__ApiKeys__0__Key"] = AdminKey;
info.Environment["Platform__ApiKeys__0__Role"] = "Admin";
info.Environment["Platform__Demo__Enabled"] = flow == "assistant" ? "true" : "false";
info.Environment["Platform__Devices__Simulate"] = flow == "assistant" ? "true" : "false"; // the demo devices answer
info.Environment["Platform__Mqtt__EmbeddedPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
info.Environment["Logging__LogLevel__Default"] = "Warning";
info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
// BENCH_SERVER_X=v sets X=v for the server only (runtime knobs such as DOTNET_GCgen0size, compared without touching this client).
foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
    if (e.Key is string key && key.StartsWith("BENCH_SERVER_", StringComparison.Ordinal)) info.Environment[key["BENCH_SERVER_".Length..]] = e.Value?.ToString();
using var server = Process.Start(info)!;
var output = new StringBuilder();
server.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
server.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
server.BeginOutputReadLine();
server.BeginErrorReadLine();
using var admin = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", AdminKey);
for (var i = 0; ; i++)
{
    // Ready, as a load balancer would wait for it: the database answers and the start-up warm-up has finished.
    try { if ((await admin.GetAsync("/health/ready")).IsSuccessStatusCode) break; } catch (HttpRequestException) { }
    if (i > 300 || server.HasExited) throw new InvalidOperationException($"The server did not start:\n{output}");
    await Task.Delay(100);
}
// The demo seeder runs after start, and the assistant's embedding model is built in the background on first start
// (about 25 s of CPU): wait until the intent set answers with the model ready, so the run measures the steady state.
for (var i = 0; flow == "assistant"; i++)
{
    using var test = await admin.PostAsJsonAsync("/api/intents/assistant/test", new JsonObject { ["text"] = "hello" });
    if (test.IsSuccessStatusCode && (await test.Content.ReadAsStringAsync()).Contains("\"embeddings\":\"Ready\"", StringComparison.Ordinal)) break;
    if (i > 600) throw new InvalidOperationException($"The intent model did not become ready:\n{output}");
    await Task.Delay(500);
}

(await admin.PostAsJsonAsync("/api/channels", new JsonObject
{
    ["name"] = "bench", ["kind"] = "Telegram",
    ["settings"] = new JsonObject { ["botToken"] = Token, ["webhookSecretToken"] = Secret, ["apiBaseUrl"] = $"http://127.0.0.1:{telegramPort}/" },
})).EnsureSuccessStatusCode();
if (flow == "echo")
{
    JsonObject Act(string id, string type, params (string, JsonNode)[] p) { var a = new JsonObject { ["id"] = id, ["type"] = type }; foreach (var (k, v) in p) a[k] = v; return a; }
    var model = new JsonObject
    {
        ["definitionId"] = "bench-echo", ["name"] = "bench-echo",
        ["root"] = new JsonObject
        {
            ["id"] = "flow1", ["type"] = "Elsa.Flowchart",
            ["activities"] = new JsonArray(
                Act("received", "Platform.MessageReceived", ("channel", new JsonObject { ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = channelName } })),
                Act("reply", "Platform.SendReply", ("text", new JsonObject { ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'You said: ' + getOutput('received', 'Text')" } }))),
            ["connections"] = new JsonArray(new JsonObject
            {
                ["source"] = new JsonObject { ["activity"] = "received", ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = "reply", ["port"] = "In" },
            }),
        },
    };
    (await admin.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject { ["model"] = model, ["publish"] = true })).EnsureSuccessStatusCode();
}

var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1000, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
using var client = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
var questions = flow == "assistant"
    ? new[] { "how many orders came in today?", "which products need reordering", "tell me a joke", "what's the temperature in the bedroom?" }
    : new[] { "hello", "how are you?", "what's new", "bye" };
long updateId = 0;

async Task<double> SendAsync(long chat, string text)
{
    var tcs = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
    waiting[chat] = tcs;
    var update = new JsonObject
    {
        ["update_id"] = Interlocked.Increment(ref updateId),
        ["message"] = new JsonObject
        {
            ["message_id"] = Interlocked.Increment(ref updateId), ["date"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["text"] = text,
            ["chat"] = new JsonObject { ["id"] = chat, ["type"] = "private" },
            ["from"] = new JsonObject { ["id"] = chat, ["is_bot"] = false, ["first_name"] = "Bench" },
        },
    };
    var watch = Stopwatch.StartNew();
    using var request = new HttpRequestMessage(HttpMethod.Post, "/channels/bench/telegram/webhook") { Content = new StringContent(update.ToJsonString(), Encoding.UTF8, "application/json") };
    request.Headers.Add("X-Telegram-Bot-Api-Secret-Token", Secret);
    using (var response = await client.SendAsync(request)) response.EnsureSuccessStatusCode();
    await tcs.Task.WaitAsync(TimeSpan.FromSeconds(60));
    return watch.Elapsed.TotalMilliseconds;
}

// One web chat socket per conversation; replies complete the conversation's waiting task.
var sockets = new ConcurrentDictionary<long, System.Net.WebSockets.ClientWebSocket>();
async Task<System.Net.WebSockets.ClientWebSocket> SocketAsync(long chat)
{
    if (sockets.TryGetValue(chat, out var open)) return open;
    var ws = new System.Net.WebSockets.ClientWebSocket();
    await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{serverPort}/ws/chat?channel=web"), CancellationToken.None);
    sockets[chat] = ws;
    _ = Task.Run(async () =>
    {
        var buffer = new byte[64 * 1024];
        while (ws.State == System.Net.WebSockets.WebSocketState.Open)
        {
            var result = await ws.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == System.Net.WebSockets.WebSocketMessageType.Close) break;
            var frame = JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, result.Count));
            if (frame?["type"]?.GetValue<string>() == "message" && waiting.TryRemove(chat, out var tcs)) tcs.TrySetResult(frame["text"]?.ToString() ?? "");
        }
    });
    return ws;
}

async Task<double> SendOverSocketAsync(long chat, string text)
{
    var ws = await SocketAsync(chat);
    var tcs = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
    waiting[chat] = tcs;
    var frame = Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "message", ["id"] = Guid.NewGuid().ToString("N"), ["text"] = text }.ToJsonString());
    var watch = Stopwatch.StartNew();
    await ws.SendAsync(frame, System.Net.WebSockets.WebSocketMessageType.Text, true, CancellationToken.None);
    await tcs.Task.WaitAsync(TimeSpan.FromSeconds(60));
    return watch.Elapsed.TotalMilliseconds;
}

Func<long, string, Task<double>> send = transport == "websocket" ? SendOverSocketAsync : SendAsync;

// Warm-up, as load benchmarks do before they measure (TechEmpower runs one at full concurrency first): the same 500
// conversations talk for BENCH_WARMUP_SECONDS (default 15) from the cold server, unmeasured but reported, so the JIT has
// tiered up the hot paths and every socket is open; then each conversation sends messagesEach measured messages.
// BENCH_WARMUP_SECONDS=0 measures from the cold start instead.
var warmupSeconds = double.TryParse(Environment.GetEnvironmentVariable("BENCH_WARMUP_SECONDS"), CultureInfo.InvariantCulture, out var ws0) ? ws0 : 15;
if (transport == "websocket" && Environment.GetEnvironmentVariable("BENCH_PRECONNECT") == "1")
    foreach (var chunk in Enumerable.Range(0, conversations).Chunk(50)) await Task.WhenAll(chunk.Select(c => SocketAsync(10_000 + c)));
var latencies = new ConcurrentBag<double>();
var warmupLatencies = new ConcurrentBag<double>();
var timeline = new ConcurrentBag<(double At, double Ms)>(); // when each message was sent (s into the run) and its latency
var byQuestion = new ConcurrentDictionary<string, ConcurrentBag<double>>();
var failures = 0;
var clock = Stopwatch.StartNew();
var startedAt = DateTimeOffset.UtcNow;
JsonObject? runtimeBefore = null;
var clientCpuBefore = TimeSpan.Zero;
var measuring = Stopwatch.StartNew();
async Task StartMeasuringAsync()
{
    if (warmupSeconds > 0) await Task.Delay(TimeSpan.FromSeconds(warmupSeconds));
    runtimeBefore = await admin.GetFromJsonAsync<JsonObject>("/api/diagnostics/runtime");
    clientCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    measuring.Restart();
}
var measuringStarted = StartMeasuringAsync();
await Task.WhenAll(Enumerable.Range(0, conversations).Select(async c =>
{
    await Task.Delay(Random.Shared.Next(0, Math.Max(1000, thinkMs))); // users do not all type at once
    for (var m = 0; m < messagesEach;)
    {
        var question = questions[(c + m) % questions.Length];
        var measured = clock.Elapsed.TotalSeconds >= warmupSeconds;
        try
        {
            var at = clock.Elapsed.TotalSeconds;
            var ms = await send(10_000 + c, question);
            timeline.Add((at, ms));
            if (measured)
            {
                latencies.Add(ms);
                byQuestion.GetOrAdd(question, _ => []).Add(ms);
            }
            else warmupLatencies.Add(ms);
        }
        catch (Exception) { Interlocked.Increment(ref failures); }
        if (measured) m++;
        if (thinkMs > 0) await Task.Delay(thinkMs / 2 + Random.Shared.Next(0, thinkMs + 1));
    }
}));
await measuringStarted;
measuring.Stop();
var wall = measuring;
var clientCpu = Process.GetCurrentProcess().TotalProcessorTime - clientCpuBefore;
var runtimeAfter = await admin.GetFromJsonAsync<JsonObject>("/api/diagnostics/runtime");

var sorted = latencies.Order().ToArray();
double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
Console.WriteLine($"transport={transport} flow={flow} thinkMs={thinkMs} conversations={conversations} messages={sorted.Length} failures={failures} cores={Environment.ProcessorCount}");
Console.WriteLine($"throughput {sorted.Length / wall.Elapsed.TotalSeconds:F0} msg/s over {wall.Elapsed.TotalSeconds:F1} s");
Console.WriteLine($"measured latency ms: p50 {P(0.50):F1}  p95 {P(0.95):F1}  p99 {P(0.99):F1}  max {sorted.LastOrDefault():F1}");
double Delta(string name) => runtimeAfter![name]!.GetValue<double>() - runtimeBefore![name]!.GetValue<double>();
Console.WriteLine($"server during the run: gc gen0 {Delta("gen0Collections")} gen1 {Delta("gen1Collections")} gen2 {Delta("gen2Collections")}, pause {Delta("gcPauseTotalMs"):F0} ms in total, heap {runtimeAfter!["heapMb"]!.GetValue<double>():F0} MB, server gc {runtimeAfter["serverGc"]}, thread pool {runtimeAfter["threadPoolThreads"]} threads");
// What one message costs the server, independent of how busy the machine is: CPU time and bytes allocated per message.
if (sorted.Length > 0)
{
    Console.WriteLine($"server per message: cpu {Delta("cpuSeconds") * 1000 / sorted.Length:F2} ms, allocated {Delta("allocatedMb") * 1024 / sorted.Length:F0} KB, {Delta("jitCompiledMethods")} methods jitted during the run");
    // The load client shares the cores: what it used is CPU the server did not have.
    Console.WriteLine($"cpu busy: server {Delta("cpuSeconds") / wall.Elapsed.TotalSeconds / Environment.ProcessorCount:P0}, load client {clientCpu.TotalSeconds / wall.Elapsed.TotalSeconds / Environment.ProcessorCount:P0} of {Environment.ProcessorCount} cores");
}
// The warm-up covers the cold start: every conversation sends its first message (and, without BENCH_PRECONNECT, opens its
// socket) while the server is still tiering up its JIT code.
var cold = warmupLatencies.Order().ToArray();
if (cold.Length > 0)
    Console.WriteLine($"warm-up (the first {warmupSeconds:F0} s from a cold server, not measured, n={cold.Length}): p50 {cold[cold.Length / 2]:F1}  p95 {cold[(int)Math.Ceiling(0.95 * cold.Length) - 1]:F1}  p99 {cold[(int)Math.Ceiling(0.99 * cold.Length) - 1]:F1}  max {cold[^1]:F1}");
foreach (var (question, bag) in byQuestion.OrderBy(p => p.Key, StringComparer.Ordinal))
{
    var q = bag.Order().ToArray();
    Console.WriteLine($"  {question,-40} n={q.Length,5}  p50 {q[q.Length / 2]:F1}  p99 {q[Math.Min(q.Length - 1, (int)Math.Ceiling(0.99 * q.Length) - 1)]:F1}");
}

if (Environment.GetEnvironmentVariable("BENCH_SERVER_LOG") is { Length: > 0 } serverLog)
    lock (output) File.WriteAllText(serverLog, output.ToString());

// BENCH_TIMELINE=1 prints each second of the run with its message count and slowest reply: stalls that hit every
// conversation at once (a lock, a collection, a checkpoint) show as seconds whose slowest reply is far above the rest.
if (Environment.GetEnvironmentVariable("BENCH_TIMELINE") == "1")
{
    Console.WriteLine($"timeline (t=0 is {startedAt:HH:mm:ss.fff} UTC, to line up with server logs and system traces):");
    foreach (var second in timeline.GroupBy(t => (int)t.At).OrderBy(g => g.Key))
    {
        var slow = second.Count(t => t.Ms > 100);
        Console.WriteLine($"  t={second.Key,4}s n={second.Count(),4} max {second.Max(t => t.Ms),7:F0} ms  >100ms: {slow}");
    }
}

foreach (var ws in sockets.Values) ws.Abort();
server.Kill(entireProcessTree: true);
await api.StopAsync();
return failures == 0 ? 0 : 1;

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("bench-conversations-").FullName;
    public void Dispose() { try { Directory.Delete(Path, recursive: true); } catch (IOException) { } }
}
