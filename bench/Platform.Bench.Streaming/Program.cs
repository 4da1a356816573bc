// Usage: dotnet run -c Release --project bench/Platform.Bench.Streaming -- [rounds=200] [warmup=20]
//
// Time to first streamed token added by the platform (issue #19). A loopback OpenAI-compatible model answers every
// request at once: with "stream": true it writes the role chunk, eight word chunks, the stop chunk and [DONE], flushing
// each. The real server runs as a child process (SQLite, the embedded default) with Ask Model pointed at it, and a web
// chat channel whose workflow is Message Received → Ask Model (Stream on) → Send Reply.
// Measured, sequentially on one chat socket:
// - platform: message frame sent → first "partial" frame received (inbox write, routing, workflow start, history read,
//   the model request and its first chunk, the push to the socket); and → the final "message" frame (commit + outbox);
// - model: a streaming request sent straight to the model → first content chunk read (the model's own share).
// The difference of the medians is what the platform adds before the first token.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

var rounds = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
var warmup = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 20;
const string AdminKey = "bench-admin-key-0123456789abcdef";
const string ModelKey = "sk-bench-0123456789";
string[] words = ["The ", "kitchen ", "light ", "is ", "on ", "and ", "heating ", "runs."];

// The model: answers at once.
var modelPort = FreePort();
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseUrls($"http://127.0.0.1:{modelPort}");
var model = builder.Build();
var counter = 0;
model.MapPost("/v1/chat/completions", async (HttpContext context) =>
{
    var body = await JsonNode.ParseAsync(context.Request.Body);
    var id = "chatcmpl-bench" + Interlocked.Increment(ref counter);
    JsonObject Chunk(JsonObject delta, string? finish) => new()
    {
        ["id"] = id, ["object"] = "chat.completion.chunk", ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["model"] = "bench",
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = finish }),
    };
    if (body?["stream"]?.GetValue<bool>() != true)
    {
        await context.Response.WriteAsJsonAsync(new JsonObject
        {
            ["id"] = id, ["object"] = "chat.completion", ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["model"] = "bench",
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = string.Concat(words) }, ["finish_reason"] = "stop" }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = 8, ["total_tokens"] = 18 },
        });
        return;
    }
    context.Response.ContentType = "text/event-stream";
    async Task Send(string data)
    {
        await context.Response.WriteAsync("data: " + data + "\n\n");
        await context.Response.Body.FlushAsync();
    }
    await Send(Chunk(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null).ToJsonString());
    foreach (var w in words) await Send(Chunk(new JsonObject { ["content"] = w }, null).ToJsonString());
    await Send(Chunk(new JsonObject(), "stop").ToJsonString());
    await Send("[DONE]");
});
await model.StartAsync();
var modelBase = new Uri($"http://127.0.0.1:{modelPort}/v1/");

// The server under test.
var temp = Directory.CreateTempSubdirectory("bench-streaming-").FullName;
var serverPort = FreePort();
var site = new Uri($"http://127.0.0.1:{serverPort}");
var serverDll = Path.Combine(AppContext.BaseDirectory, "Platform.Server.dll");
var info = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
foreach (var a in new[] { serverDll, "--urls", site.ToString().TrimEnd('/') }) info.ArgumentList.Add(a);
info.Environment["Platform__DataDirectory"] = temp;
info.Environment["Platform__ApiKeys__0__Key"] = AdminKey;
info.Environment["Platform__ApiKeys__0__Role"] = "Admin";
info.Environment["Platform__AI__Embeddings__Enabled"] = "false";
info.Environment["Platform__AI__ChatCompletion__Endpoint"] = modelBase.ToString();
info.Environment["Platform__AI__ChatCompletion__Model"] = "bench";
info.Environment["Platform__AI__ChatCompletion__ApiKey"] = ModelKey;
info.Environment["Platform__Mqtt__EmbeddedPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
info.Environment["Logging__LogLevel__Default"] = "Warning";
using var server = Process.Start(info)!;
server.OutputDataReceived += (_, _) => { };
server.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("server: " + e.Data); };
server.BeginOutputReadLine();
server.BeginErrorReadLine();
try
{
    using var http = new HttpClient { BaseAddress = site, Timeout = TimeSpan.FromSeconds(30) };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", AdminKey);
    for (var i = 0; ; i++)
    {
        try { using var _ = await http.GetAsync("/health"); break; }
        catch (HttpRequestException) when (i < 480) { await Task.Delay(250); }
    }
    const string channel = "bench-stream";
    (await http.PostAsJsonAsync("/api/channels", new JsonObject { ["name"] = channel, ["kind"] = "WebChat" })).EnsureSuccessStatusCode();
    JsonObject Input(string type, string value) => new() { ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = type, ["value"] = value } };
    JsonObject Connect(string from, string to) => new()
    {
        ["source"] = new JsonObject { ["activity"] = from, ["port"] = "Done" }, ["target"] = new JsonObject { ["activity"] = to, ["port"] = "In" }, ["vertices"] = new JsonArray(),
    };
    (await http.PostAsJsonAsync("/elsa/api/workflow-definitions", new JsonObject
    {
        ["publish"] = true,
        ["model"] = new JsonObject
        {
            ["name"] = "bench streaming", ["variables"] = new JsonArray(),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(
                    new JsonObject { ["id"] = "received", ["type"] = "Platform.MessageReceived", ["version"] = 1, ["channel"] = Input("Literal", channel) },
                    new JsonObject { ["id"] = "ask", ["type"] = "Platform.AskModel", ["version"] = 1 },
                    new JsonObject { ["id"] = "reply", ["type"] = "Platform.SendReply", ["version"] = 1, ["text"] = Input("JavaScript", "getOutput('ask', 'Answer')") }),
                ["connections"] = new JsonArray(Connect("received", "ask"), Connect("ask", "reply")),
            },
        },
    })).EnsureSuccessStatusCode();

    // The model alone.
    using var direct = new HttpClient();
    var modelFirst = new List<double>();
    for (var i = 0; i < warmup + rounds; i++)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(modelBase, "chat/completions"))
        {
            Content = new StringContent(new JsonObject { ["model"] = "bench", ["stream"] = true, ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }) }.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        var watch = Stopwatch.StartNew();
        using var response = await direct.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
            if (line.Contains("\"content\":\"The ", StringComparison.Ordinal)) break;
        if (i >= warmup) modelFirst.Add(watch.Elapsed.TotalMilliseconds);
        await reader.ReadToEndAsync();
    }

    // Through the platform: one socket, one message at a time.
    using var socket = new ClientWebSocket();
    await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{serverPort}/ws/chat?channel={channel}"), CancellationToken.None);
    await ReceiveAsync(socket, "welcome");
    var firstPartial = new List<double>();
    var final = new List<double>();
    for (var i = 0; i < warmup + rounds; i++)
    {
        var watch = Stopwatch.StartNew();
        await socket.SendAsync(Encoding.UTF8.GetBytes(new JsonObject { ["type"] = "message", ["id"] = "m" + i, ["text"] = "what is on?" }.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        await ReceiveAsync(socket, "partial");
        var partialAt = watch.Elapsed.TotalMilliseconds;
        await ReceiveAsync(socket, "message");
        if (i < warmup) continue;
        firstPartial.Add(partialAt);
        final.Add(watch.Elapsed.TotalMilliseconds);
    }

    Console.WriteLine($"date: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}");
    Console.WriteLine($"rounds: {rounds} (after {warmup} warm-up), sequential, one web chat socket");
    Console.WriteLine($"model alone, request → first content chunk:        P50 {P(modelFirst, 50):F1} ms  P95 {P(modelFirst, 95):F1} ms");
    Console.WriteLine($"platform, message frame → first partial frame:      P50 {P(firstPartial, 50):F1} ms  P95 {P(firstPartial, 95):F1} ms");
    Console.WriteLine($"platform, message frame → final message frame:      P50 {P(final, 50):F1} ms  P95 {P(final, 95):F1} ms");
    Console.WriteLine($"added by the platform before the first token (P50): {P(firstPartial, 50) - P(modelFirst, 50):F1} ms");
    return 0;
}
finally
{
    try { server.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
    await model.StopAsync();
    try { Directory.Delete(temp, recursive: true); } catch (IOException) { }
}

static double P(List<double> values, int percentile)
{
    var sorted = values.OrderBy(v => v).ToList();
    return sorted[Math.Clamp((int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1, 0, sorted.Count - 1)];
}

static async Task ReceiveAsync(ClientWebSocket socket, string type)
{
    var buffer = new byte[64 * 1024];
    while (true)
    {
        using var text = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close) throw new InvalidOperationException("The server closed the socket.");
            text.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        var frame = JsonNode.Parse(Encoding.UTF8.GetString(text.ToArray()));
        if (frame?["type"]?.GetValue<string>() == type) return;
    }
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}
