using System.Text.Json.Nodes;
using Platform.MultiNode.Tests.Infrastructure;
using Platform.Testing;

[assembly: AssemblyFixture(typeof(PostgresFixture))]

namespace Platform.MultiNode.Tests;

/// <summary>Two real server processes on one PostgreSQL database (different ports and data directories).</summary>
public sealed class TwoNodeTests(PostgresFixture postgres) : IAsyncLifetime
{
    private readonly TempDirectory _temp = new("multinode-pg");
    private readonly List<ServerNode> _nodes = [];

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        _temp.Dispose();
    }

    /// <summary>Starts the nodes one after the other (the first one migrates the database and installs the Hangfire schema).</summary>
    private async Task<(ServerNode A, ServerNode B)> StartTwoNodesAsync()
    {
        var db = await postgres.CreateDatabaseAsync("multinode");
        var a = await ServerNode.StartAsync("node-a", _temp.CreateSubdirectory("a"), db);
        _nodes.Add(a);
        var b = await ServerNode.StartAsync("node-b", _temp.CreateSubdirectory("b"), db);
        _nodes.Add(b);
        return (a, b);
    }

    private string Logs => string.Join('\n', _nodes.Select(n => n.Output));

    private static async Task<JsonArray> JournalAsync(ServerNode node, string instanceId) =>
        (await node.Admin.GetJsonAsync($"{Api.Root}/workflow-instances/{instanceId}/journal?pageSize=1000"))["items"]!.AsArray();

    /// <summary>Exactly one Started and one Completed journal record for the activity.</summary>
    private static void AssertRanOnce(JsonArray journal, string activityId)
    {
        var events = journal.Where(r => r!["activityId"]?.GetValue<string>() == activityId).Select(r => r!["eventName"]!.GetValue<string>()).ToList();
        Assert.True(events.Count(e => e == "Started") == 1 && events.Count(e => e == "Completed") == 1,
            $"{activityId}: [{string.Join(", ", events)}] in {journal.ToJsonString()}");
    }

    [Fact]
    public async Task Should_Fire_Timer_Once_When_Two_Nodes_Share_The_Database()
    {
        // Arrange
        var (a, b) = await StartTwoNodesAsync();
        var definitionId = await a.Admin.PublishAsync(Api.WithDelay($"timer {Guid.NewGuid():N}", TimeSpan.FromSeconds(2)));

        // Act
        var instanceId = await a.Admin.ExecuteAsync(definitionId);
        var instance = await b.Admin.WaitForStatusAsync(instanceId, "Finished", TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(3)); // give a duplicate resume the chance to show up

        // Assert: the activity after the delay ran exactly once.
        Assert.True(instance["status"]!.GetValue<string>() == "Finished", $"{instance.ToJsonString()}\n{Logs}");
        var journal = await JournalAsync(b, instanceId);
        AssertRanOnce(journal, "delay1");
        AssertRanOnce(journal, "write1");
    }

    [Fact]
    public async Task Should_Start_One_Instance_Per_Cron_Occurrence_When_Two_Nodes_Run()
    {
        // Arrange: every minute is the finest cron Hangfire supports; wait for two occurrences.
        var (a, b) = await StartTwoNodesAsync();
        var definitionId = await a.Admin.PublishAsync(Api.WithCron($"cron {Guid.NewGuid():N}", "* * * * *"));
        var firstBoundary = DateTime.UtcNow.AddMinutes(1);
        firstBoundary = new DateTime(firstBoundary.Year, firstBoundary.Month, firstBoundary.Day, firstBoundary.Hour, firstBoundary.Minute, 0, DateTimeKind.Utc);

        // Act: wait until 20 s past the second occurrence after publishing.
        var until = firstBoundary.AddMinutes(1).AddSeconds(20);
        while (DateTime.UtcNow < until) await Task.Delay(1000);

        // Assert: one instance per minute boundary passed, never two for the same one.
        var list = await b.Admin.GetJsonAsync($"{Api.Root}/workflow-instances?definitionId={definitionId}&pageSize=100");
        var created = list["items"]!.AsArray().Select(i => DateTimeOffset.Parse(i!["createdAt"]!.GetValue<string>())).ToList();
        var perMinute = created.GroupBy(c => new DateTime(c.UtcDateTime.Year, c.UtcDateTime.Month, c.UtcDateTime.Day, c.UtcDateTime.Hour, c.UtcDateTime.Minute, 0)).ToList();
        Assert.True(perMinute.Count >= 2, $"Expected at least two occurrences, got {created.Count}: {list.ToJsonString()}\n{Logs}");
        Assert.All(perMinute, g => Assert.True(g.Count() == 1, $"Minute {g.Key:HH:mm} started {g.Count()} instances."));
    }

    [Fact]
    public async Task Should_Resume_Suspended_Instance_On_Other_Node_When_First_Node_Is_Killed()
    {
        // Arrange: node A runs a workflow that suspends on a 5 s delay.
        var (a, b) = await StartTwoNodesAsync();
        var definitionId = await a.Admin.PublishAsync(Api.WithDelay($"failover {Guid.NewGuid():N}", TimeSpan.FromSeconds(5)));
        var instanceId = await a.Admin.ExecuteAsync(definitionId);

        // Act: kill -9 node A while the instance is suspended.
        await a.KillAsync();
        var killedAt = DateTime.UtcNow;
        var instance = await b.Admin.WaitForStatusAsync(instanceId, "Finished", TimeSpan.FromSeconds(30));

        // Assert: node B finished it within 30 s, and the activity after the delay ran once.
        Assert.True(instance["status"]!.GetValue<string>() == "Finished", $"{instance.ToJsonString()}\n{Logs}");
        Assert.True(DateTime.UtcNow - killedAt < TimeSpan.FromSeconds(30));
        var journal = await JournalAsync(b, instanceId);
        AssertRanOnce(journal, "delay1");
        AssertRanOnce(journal, "write1");
    }
}
