using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Platform.MultiNode.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.MultiNode.Tests;

/// <summary>kill -9 of the node that runs a background activity: the other node runs it again and finishes the instance within 30 s.</summary>
public sealed class BackgroundCrashTests(PostgresFixture postgres) : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("multinode-bg");
    private readonly List<ServerNode> _nodes = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        _temp.Dispose();
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Should_Finish_Background_Activity_On_Other_Node_Within_30_Seconds_When_Running_Node_Is_Killed()
    {
        // Arrange: a slow HTTP endpoint (the first call hangs, later calls answer at once) and two nodes on one database.
        var port = FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var calls = 0;
        var firstCall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await listener.GetContextAsync(); } catch { return; }
                var n = Interlocked.Increment(ref calls);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        if (n == 1) { firstCall.TrySetResult(); await Task.Delay(TimeSpan.FromSeconds(60)); }
                        ctx.Response.StatusCode = 200;
                        ctx.Response.Close();
                    }
                    catch { /* the caller died */ }
                });
            }
        });
        var db = await postgres.CreateDatabaseAsync("multinode");
        var a = await ServerNode.StartAsync("node-a", _temp.CreateSubdirectory("a"), db);
        _nodes.Add(a);
        var b = await ServerNode.StartAsync("node-b", _temp.CreateSubdirectory("b"), db);
        _nodes.Add(b);
        var http = Api.Activity("http1", "Platform.SendHttpRequest", ("url", Api.Literal("String", $"http://127.0.0.1:{port}/slow")),
            ("timeout", Api.Literal("TimeSpan", "00:02:00")));
        http["customProperties"] = new JsonObject { ["runInBackground"] = true };
        var definitionId = await a.Admin.PublishAsync(Api.Sequence($"background {Guid.NewGuid():N}",
            Api.Activity("start1", "Elsa.Start"), http, Api.Activity("write1", "Elsa.WriteLine", ("text", Api.Literal("String", "after")))));

        // Act: node A starts the instance (its own workers take the job at once); kill -9 it while the activity runs.
        var instanceId = await a.Admin.ExecuteAsync(definitionId);
        await firstCall.Task.WaitAsync(TimeSpan.FromSeconds(20));
        await a.KillAsync();
        var killedAt = DateTime.UtcNow;
        var instance = await b.Admin.WaitForStatusAsync(instanceId, "Finished", TimeSpan.FromSeconds(45));
        var took = DateTime.UtcNow - killedAt;

        // Assert: node B finished it within 30 s of the kill, running the activity again from the last commit.
        var logs = string.Join('\n', _nodes.Select(n => n.Output));
        Assert.True(instance["status"]!.GetValue<string>() == "Finished", $"{instance.ToJsonString()}\n{logs}");
        Assert.True(took < TimeSpan.FromSeconds(30), $"Took {took} after the kill.\n{logs}");
        Assert.True(calls >= 2, $"{calls} call(s)");
        Assert.Equal(1, await b.Admin.CountJournalAsync(instanceId, "write1", "Completed"));
    }
}
