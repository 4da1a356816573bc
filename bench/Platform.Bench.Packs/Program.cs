// Usage: dotnet run -c Release --project bench/Platform.Bench.Packs -- [cycles=1000] [uploads=30] [packs=200]
//
// Figures for activity packs (issue #15), written to docs/benchmarks.md by hand:
// 1. Memory (in this process, on a PackManager with in-memory documents): `packs` distinct packs are installed, each into its
//    own collectible load context; the managed heap (GC.GetTotalMemory after full collections) and the process's private
//    bytes (Process.PrivateMemorySize64) and RSS are read before and after, per pack = the difference / packs. Then every pack
//    is removed; the bench collects until the WeakReference of every load context is dead (or gives up after 100 rounds) and
//    reads the memory again: returned = (loaded − after unload) / (loaded − before). Each reading follows an aggressive,
//    compacting full collection (free memory goes back to the OS). Then `cycles` install v1 → upgrade v2 → remove rounds of one
//    pack in process: how many of the 2 × cycles load contexts are collected afterwards, and the memory difference.
// 2. Upload → palette (against the real server, Platform.Server.dll beside this bench, started as a child process on the
//    embedded default, SQLite): `uploads` distinct packs, each timed from the start of POST /api/packs until a GET
//    /elsa/api/descriptors/activities (what the Studio's palette reads) lists its activity.
// 3. Load success: `cycles` rounds of install v1 (201, activity listed), upgrade to v2 (200, version 2.0.0), remove (204,
//    activity gone) of the same pack id over the API; a round succeeds when every step answers and checks as expected. The
//    server's RSS before and after the rounds shows whether unloaded packs leak.
// BENCH_SERVER_DLL=path runs another server build.
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Engine.Descriptors;
using Platform.Packs;
using Platform.Packs.Tests;

var cycles = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
var uploads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
var packCount = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 200;
const string AdminKey = "bench-admin-key-0123456789abcdef";
Console.WriteLine($"cores={Environment.ProcessorCount} runtime={Environment.Version} cycles={cycles} uploads={uploads} packs={packCount}");

// ---- 1. Memory per loaded pack and memory returned after unload -------------------------------------------------------
var packs = Enumerable.Range(0, packCount + 1).Select(i => ($"Bench.Mem{i:D3}", TestPacks.Greeter($"Bench.Mem{i:D3}", "1.0.0"))).ToList();
var registry = new ActivityRegistry();
using (var manager = new PackManager(registry, new InMemoryDocuments(), Options.Create(new PackOptions()), TimeProvider.System))
{
    // Warm-up: one pack in and out, so the loader's own code is compiled before the baseline.
    await manager.InstallAsync(packs[0].Item2, "bench", "upload");
    await manager.RemoveAsync(packs[0].Item1, "bench");
    var before = Memory.Read();
    var contexts = await InstallAllAsync(manager, packs.Skip(1).ToList());
    var loaded = Memory.Read();
    foreach (var (id, _) in packs.Skip(1)) await manager.RemoveAsync(id, "bench");
    var rounds = 0;
    for (; rounds < 100 && contexts.Any(c => c.IsAlive); rounds++)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }
    var unloaded = Memory.Read();
    var collected = contexts.Count(c => !c.IsAlive);
    Console.WriteLine($"memory: {packCount} packs loaded: managed +{(loaded.Managed - before.Managed) / 1024.0 / packCount:F0} KB/pack, " +
        $"private bytes +{(loaded.Private - before.Private) / 1024.0 / packCount:F0} KB/pack, RSS +{(loaded.Rss - before.Rss) / 1024.0 / packCount:F0} KB/pack " +
        $"(total managed {(loaded.Managed - before.Managed) / 1048576.0:F1} MB, private {(loaded.Private - before.Private) / 1048576.0:F1} MB)");
    Console.WriteLine($"memory: after removing all: {collected}/{contexts.Count} load contexts collected after {rounds} GC rounds; returned: managed " +
        $"{Memory.Returned(before.Managed, loaded.Managed, unloaded.Managed)}, private bytes {Memory.Returned(before.Private, loaded.Private, unloaded.Private)}, " +
        $"RSS {Memory.Returned(before.Rss, loaded.Rss, unloaded.Rss)}");

    // The same cycles as part 3, in process: does every unloaded version's context get collected?
    var v1 = TestPacks.Greeter("Bench.Local", "1.0.0", "Hello");
    var v2 = TestPacks.Greeter("Bench.Local", "2.0.0", "Hi");
    // Twice: a second pass that adds as much again as the first would be a leak; one that adds little is memory reused.
    for (var pass = 1; pass <= 2; pass++)
    {
        var cycleBefore = Memory.Read();
        var cycleContexts = await CycleAsync(manager, v1, v2, cycles);
        var cycleRounds = 0;
        for (; cycleRounds < 100 && cycleContexts.Any(c => c.IsAlive); cycleRounds++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        var cycleAfter = Memory.Read();
        Console.WriteLine($"memory: pass {pass}, {cycles} in-process install → upgrade → remove rounds: {cycleContexts.Count(c => !c.IsAlive)}/{cycleContexts.Count} load contexts " +
            $"collected after {cycleRounds} GC rounds; managed {(cycleAfter.Managed - cycleBefore.Managed) / 1048576.0:+0.0;-0.0} MB, " +
            $"private bytes {(cycleAfter.Private - cycleBefore.Private) / 1048576.0:+0.0;-0.0} MB, RSS {(cycleAfter.Rss - cycleBefore.Rss) / 1048576.0:+0.0;-0.0} MB");
    }
}

// ---- The server under test ---------------------------------------------------------------------------------------------
var data = Directory.CreateTempSubdirectory("bench-packs-").FullName;
var baseAddress = new Uri($"http://127.0.0.1:{FreePort()}");
var serverDll = Path.GetFullPath(Environment.GetEnvironmentVariable("BENCH_SERVER_DLL") is { Length: > 0 } dll ? dll : Path.Combine(AppContext.BaseDirectory, "Platform.Server.dll"));
if (!File.Exists(serverDll)) { Console.Error.WriteLine($"No server at {serverDll}: build it, or point BENCH_SERVER_DLL at a published Platform.Server.dll."); return 2; }
var info = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(serverDll)!, RedirectStandardOutput = true, RedirectStandardError = true };
foreach (var a in new[] { serverDll, "--urls", baseAddress.ToString().TrimEnd('/') }) info.ArgumentList.Add(a);
info.Environment["Platform__DataDirectory"] = data;
info.Environment["Platform__ApiKeys__0__Key"] = AdminKey;
info.Environment["Platform__ApiKeys__0__Name"] = "bench";
info.Environment["Platform__ApiKeys__0__Role"] = "Admin";
info.Environment["Platform__Demo__Enabled"] = "false";
info.Environment["Platform__Mqtt__EmbeddedPort"] = FreePort().ToString(CultureInfo.InvariantCulture);
info.Environment["Logging__LogLevel__Default"] = "Warning";
info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
using var server = Process.Start(info)!;
var output = new System.Text.StringBuilder();
server.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
server.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
server.BeginOutputReadLine();
server.BeginErrorReadLine();
using var http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(60) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", AdminKey);
for (var i = 0; ; i++)
{
    try { if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode) break; } catch (HttpRequestException) { }
    if (i > 600 || server.HasExited) throw new InvalidOperationException($"The server did not start:\n{output}");
    await Task.Delay(100);
}

try
{
    // ---- 2. Upload → activity in the palette ---------------------------------------------------------------------------
    // One pack in and out first: the server compiles its install path once (the first upload of a fresh process is
    // reported separately).
    var warm = TestPacks.Greeter("Bench.Warm", "1.0.0");
    var firstWatch = Stopwatch.StartNew();
    await ExpectAsync(await UploadAsync(http, warm), HttpStatusCode.Created);
    await WaitForActivityAsync(http, "Bench.Warm.Greet");
    var first = firstWatch.Elapsed.TotalMilliseconds;
    await ExpectAsync(await http.DeleteAsync("/api/packs/Bench.Warm"), HttpStatusCode.NoContent);
    var toPalette = new List<double>();
    var uploadOnly = new List<double>();
    for (var i = 0; i < uploads; i++)
    {
        var id = $"Bench.Up{i:D3}";
        var bytes = TestPacks.Greeter(id, "1.0.0");
        var watch = Stopwatch.StartNew();
        await ExpectAsync(await UploadAsync(http, bytes), HttpStatusCode.Created);
        uploadOnly.Add(watch.Elapsed.TotalMilliseconds);
        await WaitForActivityAsync(http, $"{id}.Greet");
        toPalette.Add(watch.Elapsed.TotalMilliseconds);
    }
    Console.WriteLine($"upload → palette: first upload of the process {first:F0} ms; then n={uploads} median {Percentile(toPalette, 50):F0} ms, " +
        $"P95 {Percentile(toPalette, 95):F0} ms, max {toPalette.Max():F0} ms (of which the upload's response: median {Percentile(uploadOnly, 50):F0} ms)");
    foreach (var i in Enumerable.Range(0, uploads)) await http.DeleteAsync($"/api/packs/Bench.Up{i:D3}");

    // ---- 3. Install → upgrade → remove cycles ---------------------------------------------------------------------------
    var v1 = TestPacks.Greeter("Bench.Cycle", "1.0.0", "Hello");
    var v2 = TestPacks.Greeter("Bench.Cycle", "2.0.0", "Hi");
    server.Refresh();
    var rssBefore = server.WorkingSet64;
    var ok = 0;
    var failures = new Dictionary<string, int>();
    var cycleWatch = Stopwatch.StartNew();
    for (var i = 0; i < cycles; i++)
    {
        var step = "install";
        try
        {
            await ExpectAsync(await UploadAsync(http, v1), HttpStatusCode.Created);
            step = "palette after install";
            if (!(await ActivityTypesAsync(http)).Contains("Bench.Cycle.Greet")) throw new InvalidOperationException("not listed");
            step = "upgrade";
            var upgraded = await ExpectAsync(await UploadAsync(http, v2), HttpStatusCode.OK);
            if (upgraded["version"]?.GetValue<string>() != "2.0.0") throw new InvalidOperationException("wrong version");
            step = "remove";
            await ExpectAsync(await http.DeleteAsync("/api/packs/Bench.Cycle"), HttpStatusCode.NoContent);
            step = "palette after remove";
            if ((await ActivityTypesAsync(http)).Contains("Bench.Cycle.Greet")) throw new InvalidOperationException("still listed");
            ok++;
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException or TaskCanceledException)
        {
            var key = $"{step}: {e.Message.Split('\n')[0]}";
            failures[key] = failures.GetValueOrDefault(key) + 1;
            await http.DeleteAsync("/api/packs/Bench.Cycle"); // start the next round clean
        }
        if ((i + 1) % 100 == 0) Console.WriteLine($"  {i + 1} rounds, {ok} ok, {cycleWatch.Elapsed.TotalSeconds:F0} s");
    }
    server.Refresh();
    var rssAfter = server.WorkingSet64;
    Console.WriteLine($"cycles: {ok}/{cycles} install → upgrade → remove rounds succeeded ({100.0 * ok / Math.Max(1, cycles):F2} %) in " +
        $"{cycleWatch.Elapsed.TotalSeconds:F0} s ({cycleWatch.Elapsed.TotalMilliseconds / Math.Max(1, cycles):F0} ms per round); " +
        $"server RSS {rssBefore / 1048576.0:F0} MB before, {rssAfter / 1048576.0:F0} MB after");
    foreach (var (key, count) in failures) Console.WriteLine($"  failed {count}×: {key}");
    return ok == cycles ? 0 : 1;
}
finally
{
    server.Kill(entireProcessTree: true);
    try { Directory.Delete(data, recursive: true); } catch (IOException) { }
}

[MethodImpl(MethodImplOptions.NoInlining)]
static async Task<List<WeakReference>> InstallAllAsync(PackManager manager, List<(string Id, byte[] Bytes)> packs)
{
    var contexts = new List<WeakReference>();
    foreach (var (id, bytes) in packs)
    {
        await manager.InstallAsync(bytes, "bench", "upload");
        contexts.Add(manager.LoadContextReference(id)!);
    }
    return contexts;
}

[MethodImpl(MethodImplOptions.NoInlining)]
static async Task<List<WeakReference>> CycleAsync(PackManager manager, byte[] v1, byte[] v2, int cycles)
{
    var contexts = new List<WeakReference>();
    for (var i = 0; i < cycles; i++)
    {
        await manager.InstallAsync(v1, "bench", "upload");
        contexts.Add(manager.LoadContextReference("Bench.Local")!);
        await manager.InstallAsync(v2, "bench", "upload");
        contexts.Add(manager.LoadContextReference("Bench.Local")!);
        await manager.RemoveAsync("Bench.Local", "bench");
    }
    return contexts;
}

static async Task<HttpResponseMessage> UploadAsync(HttpClient http, byte[] bytes)
{
    using var form = new MultipartFormDataContent();
    var content = new ByteArrayContent(bytes);
    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
    form.Add(content, "file", "pack.nupkg");
    return await http.PostAsync("/api/packs", form);
}

static async Task<JsonObject> ExpectAsync(HttpResponseMessage response, HttpStatusCode expected)
{
    using (response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expected) throw new InvalidOperationException($"{(int)response.StatusCode} instead of {(int)expected}: {text}");
        return text.Length > 0 && JsonNode.Parse(text) is JsonObject o ? o : new JsonObject();
    }
}

static async Task<HashSet<string>> ActivityTypesAsync(HttpClient http)
{
    var body = await ExpectAsync(await http.GetAsync("/elsa/api/descriptors/activities"), HttpStatusCode.OK);
    return body["items"]!.AsArray().Select(i => i!["typeName"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
}

static async Task WaitForActivityAsync(HttpClient http, string type)
{
    for (var i = 0; i < 3000; i++)
    {
        if ((await ActivityTypesAsync(http)).Contains(type)) return;
        await Task.Delay(10);
    }
    throw new InvalidOperationException($"{type} did not appear in the descriptors within 30 s.");
}

static double Percentile(List<double> values, double p)
{
    var sorted = values.Order().ToArray();
    return sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

/// <summary>The process's memory: managed heap after full collections, private bytes, resident set.</summary>
sealed record Memory(long Managed, long Private, long Rss)
{
    public static Memory Read()
    {
        for (var i = 0; i < 3; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        // Aggressive: compacts and gives free memory back to the OS, so private bytes and RSS follow the live data.
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Thread.Sleep(200);
        using var self = Process.GetCurrentProcess();
        return new Memory(GC.GetTotalMemory(forceFullCollection: false), self.PrivateMemorySize64, self.WorkingSet64);
    }

    public static string Returned(long before, long loaded, long after) =>
        loaded <= before ? "n/a (no growth)" : $"{100.0 * (loaded - after) / (loaded - before):F0} % ({(loaded - after) / 1048576.0:F1} of {(loaded - before) / 1048576.0:F1} MB)";
}
