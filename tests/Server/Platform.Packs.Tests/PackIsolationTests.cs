using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Testing;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>
/// Isolation modes (issue 15 item 6). One server with two packs built from the same code: one with isolation <c>process</c>
/// (its activities run in a pack host process), one <c>shared</c> (in the server). The process pack's activities crash,
/// hang, spin, overflow the stack, exit and run out of memory; each becomes an incident and the next call is served by a
/// fresh host. In shared mode only the survivable failures are tried (exceptions, a timeout the activity honours): a stack
/// overflow or Environment.Exit there would take the test host down (docs/packs.md says so).
/// </summary>
public sealed class PackIsolationTests(IsolationServer server) : IClassFixture<IsolationServer>
{
    private async Task<RunWorkflowResult> RunAsync(string type, JsonObject inputs)
    {
        var definitionId = await server.Admin.PublishAsync(type, inputs);
        return await server.Factory.Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest(definitionId));
    }

    private Task<RunWorkflowResult> EchoAsync(string ns, string text = "ping") =>
        RunAsync($"{ns}.Echo", new JsonObject { ["text"] = PackHttp.Literal(text), ["times"] = Number(2) });

    private Task<RunWorkflowResult> MisbehaveAsync(string ns, string kind) => RunAsync($"{ns}.Misbehave", new JsonObject { ["kind"] = PackHttp.Literal(kind) });

    private static JsonObject Number(int value) => new()
    {
        ["typeName"] = "Int32", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = value.ToString(System.Globalization.CultureInfo.InvariantCulture) },
    };

    private static long Pid(RunWorkflowResult result) => Convert.ToInt64(result.Instance.State.Output["pid"], System.Globalization.CultureInfo.InvariantCulture);

    private static void AssertFinished(RunWorkflowResult result) =>
        Assert.True(result.SubStatus == WorkflowSubStatus.Finished, $"{result.SubStatus}: {JsonSerializer.Serialize(result.Instance.State.Incidents)}");

    [Fact]
    public async Task Should_Run_The_Activity_In_A_Pack_Host_Process_When_The_Pack_Asks_For_Process_Isolation()
    {
        // Act
        var result = await EchoAsync(server.ProcessPack, "ping");

        // Assert: inputs went to the host, outputs, outcome, workflow output and a declared secret came back
        AssertFinished(result);
        var output = result.Instance.State.Output;
        Assert.Equal("PINGPING", output["result"]?.ToString());
        Assert.Equal(PackServer.WeatherSecret, output["secret"]?.ToString());
        Assert.NotEqual(Environment.ProcessId, Pid(result));
        Assert.Equal("PINGPING", result.Instance.State.ActivityOutputs["a1"]["Result"]?.ToString());
        Assert.Equal("PINGPING", result.Instance.State.Variables["seen"]?.ToString());
        using var host = Process.GetProcessById((int)Pid(result));
        Assert.Contains("dotnet", host.ProcessName, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Should_Fault_With_The_Permission_Incident_When_A_Process_Pack_Reaches_An_Undeclared_Host()
    {
        // Act: the host's HttpClient checks the declared hosts itself
        var result = await MisbehaveAsync(server.ProcessPack, "http");

        // Assert
        Assert.Equal(WorkflowSubStatus.Faulted, result.SubStatus);
        var incident = Assert.Single(result.Instance.State.Incidents);
        Assert.Equal("permission", incident.Code);
        Assert.Contains("Add \"example.invalid\" to permissions.network in pack.json", incident.Message);
    }

    [Theory]
    [InlineData("throw", "unhandled", "InvalidOperationException: the pack failed on purpose", false)]
    [InlineData("bookmark", "configuration", "waits for an event (a bookmark), which a pack with isolation 'process' cannot do", false)]
    [InlineData("crash", PackProcessHost.CrashCode, "an unhandled exception in the pack outside the activity call", true)]
    [InlineData("overflow", PackProcessHost.CrashCode, "a stack overflow in the pack", true)]
    [InlineData("exit", PackProcessHost.CrashCode, "the pack ended the process (Environment.Exit(1)", true)]
    [InlineData("spin", PackProcessHost.LimitCode, "processor time, more than the limit of 1 s (Platform:Packs:Process:CpuTimeLimit)", true)]
    [InlineData("sleep", PackActivityRunner.TimeoutCode, "did not finish within 60 s (Platform:Packs:Process:CallTimeout)", true)]
    [InlineData("hog", PackProcessHost.LimitCode, "ran out of memory", true)]
    public async Task Should_Fault_With_An_Incident_And_Keep_Serving_When_A_Process_Pack_Activity_Misbehaves(string kind, string code, string expected, bool hostStopped)
    {
        // Arrange: a host is running
        var before = await EchoAsync(server.ProcessPack);
        AssertFinished(before);

        // Act
        var failed = await MisbehaveAsync(server.ProcessPack, kind);
        var after = await EchoAsync(server.ProcessPack);

        // Assert: an incident on that activity that says what happened; the server answers the next call
        Assert.Equal(WorkflowSubStatus.Faulted, failed.SubStatus);
        var incident = Assert.Single(failed.Instance.State.Incidents);
        Assert.Equal($"{server.ProcessPack}.Misbehave", incident.ActivityType);
        Assert.Equal(code, incident.Code);
        Assert.Contains(expected, incident.Message);
        if (hostStopped) Assert.Contains("next call starts a fresh pack host", incident.Message);
        AssertFinished(after);
        Assert.Equal("PINGPING", after.Instance.State.Output["result"]?.ToString());
        if (hostStopped)
        {
            Assert.NotEqual(Pid(before), Pid(after));
            Assert.True(Exited(Pid(before)), $"The old pack host {Pid(before)} still runs.");
        }
        else Assert.Equal(Pid(before), Pid(after));
    }

    [Fact]
    public async Task Should_Stop_The_Pack_Host_When_The_Pack_Is_Removed()
    {
        // Arrange
        var id = "Tests.IsoRemove" + Guid.NewGuid().ToString("N")[..8];
        await (await server.Admin.UploadAsync(IsolationServer.Pack(id, "process"))).JsonAsync(HttpStatusCode.Created);
        var result = await EchoAsync(id);
        AssertFinished(result);

        // Act
        var response = await server.Admin.DeleteAsync($"/api/packs/{id}");

        // Assert
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.True(Exited(Pid(result)), "The pack host still runs after the pack was removed.");
    }

    [Fact]
    public async Task Should_Fault_With_An_Incident_When_A_Shared_Pack_Activity_Throws()
    {
        // Act
        var failed = await MisbehaveAsync(server.SharedPack, "throw");
        var after = await EchoAsync(server.SharedPack);

        // Assert: in-process, the same server process ran it
        Assert.Equal(WorkflowSubStatus.Faulted, failed.SubStatus);
        var incident = Assert.Single(failed.Instance.State.Incidents);
        Assert.Equal("unhandled", incident.Code);
        Assert.Contains("InvalidOperationException: the pack failed on purpose", incident.Message);
        AssertFinished(after);
        Assert.Equal(Environment.ProcessId, Pid(after));
    }

    [Fact]
    public async Task Should_Fault_With_A_Timeout_Incident_When_A_Shared_Pack_Activity_Honours_Cancellation()
    {
        // Act: the activity waits on context.CancellationToken, which the per-call limit (2 s here) cancels
        var failed = await MisbehaveAsync(server.SharedPack, "wait");

        // Assert
        Assert.Equal(WorkflowSubStatus.Faulted, failed.SubStatus);
        var incident = Assert.Single(failed.Instance.State.Incidents);
        Assert.Equal(PackActivityRunner.TimeoutCode, incident.Code);
        Assert.Contains("did not finish within 2 s (Platform:Packs:SharedCallTimeout)", incident.Message);
    }

    private static bool Exited(long pid)
    {
        // The kill is asynchronous: wait (bounded) until the process is gone.
        for (var i = 0; i < 100; i++)
        {
            try
            {
                using var p = Process.GetProcessById((int)pid);
                if (p.HasExited) return true;
            }
            catch (ArgumentException)
            {
                return true;
            }
            Thread.Sleep(50);
        }
        return false;
    }
}

/// <summary>A server with short pack limits (60 s per call, 1 s of processor time, 128 MB heap; the wall clock is long so that the processor-time limit is reached first on a loaded machine) and the two isolation test packs.</summary>
public sealed class IsolationServer : IAsyncLifetime
{
    private readonly TempDirectory _data = new("platform-pack-isolation");

    public WebApplicationFactory<Program> Factory { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public string ProcessPack { get; } = "Tests.IsoProcess" + Guid.NewGuid().ToString("N")[..8];
    public string SharedPack { get; } = "Tests.IsoShared" + Guid.NewGuid().ToString("N")[..8];

    public async ValueTask InitializeAsync()
    {
        Factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Platform:DataDirectory", _data.Path);
            b.UseSetting("Platform:Mqtt:EmbeddedPort", "0");
            b.UseSetting("Platform:Engine:WarmUp", "false");
            b.UseSetting("Platform:ConfigurationRefreshInterval", "0.2");
            b.UseSetting("Platform:ApiKeys:0:Key", PackServer.AdminKey);
            b.UseSetting("Platform:ApiKeys:0:Name", "packs-admin");
            b.UseSetting("Platform:ApiKeys:0:Role", "Admin");
            b.UseSetting("Platform:Packs:Secrets:weather-key", PackServer.WeatherSecret);
            b.UseSetting("Platform:Packs:SharedCallTimeout", "00:00:02");
            b.UseSetting("Platform:Packs:Process:CallTimeout", "00:01:00");
            b.UseSetting("Platform:Packs:Process:CpuTimeLimit", "00:00:01");
            b.UseSetting("Platform:Packs:Process:MemoryLimitMb", "128");
            b.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        });
        Admin = Factory.CreateClient();
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", PackServer.AdminKey);
        await (await Admin.UploadAsync(Pack(ProcessPack, "process"))).JsonAsync(HttpStatusCode.Created);
        await (await Admin.UploadAsync(Pack(SharedPack, "shared"))).JsonAsync(HttpStatusCode.Created);
    }

    /// <summary>A pack with an Echo activity that works and a Misbehave activity that fails as its Kind input says.</summary>
    public static byte[] Pack(string id, string isolation)
    {
        var code = $$"""
            using System;
            using System.Collections.Generic;
            using System.Linq;
            using System.Net.Http;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.Extensions.Logging;
            using Platform.Activities;
            namespace {{id}};
            [Activity("{{id}}", "Test packs", "Echoes its text, upper-cased, Times times.")]
            [FlowNode("Done", "Empty")]
            public class Echo : Activity
            {
                [Input] public Input<string> Text { get; set; } = new("");
                [Input] public Input<int> Times { get; set; } = new(1);
                [Output] public Output<string> Result { get; set; } = new();
                protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
                {
                    var secret = await context.GetRequiredService<IPackSecrets>().GetAsync("weather-key");
                    var text = string.Concat(Enumerable.Repeat((Text.Get(context) ?? "").ToUpperInvariant(), Times.Get(context)));
                    Result.Set(context, text);
                    context.SetVariable("seen", text);
                    context.SetWorkflowOutput("result", text);
                    context.SetWorkflowOutput("pid", Environment.ProcessId);
                    context.SetWorkflowOutput("secret", secret);
                    context.AddJournalData("note", "echoed");
                    context.Logger.LogInformation("Echoed {Text}", text);
                    context.Complete(text.Length > 0 ? "Done" : "Empty");
                }
            }

            [Activity("{{id}}", "Test packs", "Fails in the way its Kind input names.")]
            public class Misbehave : Activity
            {
                [Input] public Input<string> Kind { get; set; } = new("");
                protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
                {
                    switch (Kind.Get(context))
                    {
                        case "throw": throw new InvalidOperationException("the pack failed on purpose");
                        case "crash":
                            new Thread(() => throw new InvalidOperationException("a thread of the pack failed")).Start();
                            await Task.Delay(Timeout.Infinite);
                            break;
                        case "overflow": Recurse(0); break;
                        case "exit": Environment.Exit(1); break;
                        case "spin": Spin(); break;
                        case "sleep": Thread.Sleep(Timeout.Infinite); break;
                        case "hog":
                            var hoard = new List<byte[]>();
                            while (hoard.Count < 100000) hoard.Add(new byte[1024 * 1024]);
                            break;
                        case "wait": await Task.Delay(Timeout.Infinite, context.CancellationToken); break;
                        case "bookmark": context.CreateBookmark(new BookmarkRequest("never")); break;
                        case "http": await context.GetRequiredService<HttpClient>().GetStringAsync("http://example.invalid/"); break;
                    }
                }

                private static int Recurse(int depth) => Recurse(depth + 1) + 1;

                private static long Spin()
                {
                    long n = 0;
                    while (n >= 0) n = (n + 1) % 1000;
                    return n;
                }
            }
            """;
        var manifest = TestPacks.Manifest(id, "1.0.0");
        manifest["isolation"] = isolation;
        return TestPacks.Package(id, "1.0.0", new Dictionary<string, byte[]> { [id] = TestPacks.Compile(id, code, TestPacks.Sdk, TestPacks.Http) }, manifest);
    }

    public async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        _data.Dispose();
    }
}
