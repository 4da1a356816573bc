using Platform.MultiNode.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.MultiNode.Tests;

/// <summary>The embedded default (SQLite + in-memory Hangfire) loses no timer when the server process is killed and restarted.</summary>
public sealed class EmbeddedRestartTests
{
    [Fact]
    public async Task Should_Finish_Delayed_Instance_When_Embedded_Server_Is_Killed_And_Restarted()
    {
        // Arrange: a real server on SQLite with a workflow suspended on a 2 s Delay.
        using var temp = new TempDirectory("multinode-restart");
        var data = temp.CreateSubdirectory("data");
        string instanceId;
        await using (var first = await ServerNode.StartAsync("first", data))
        {
            var definitionId = await first.Admin.PublishAsync(Api.WithDelay($"restart {Guid.NewGuid():N}", TimeSpan.FromSeconds(2)));
            instanceId = await first.Admin.ExecuteAsync(definitionId);
            var suspended = await first.Admin.GetJsonAsync($"{Api.Root}/workflow-instances/{instanceId}");
            Assert.Equal("Running", suspended["status"]!.GetValue<string>());

            // Act: kill -9 before the timer is due; the in-memory job storage is gone with the process.
            await first.KillAsync();
        }
        await using var second = await ServerNode.StartAsync("second", data);

        // Assert: the restarted server reschedules the timer from its own tables and the instance finishes.
        var instance = await second.Admin.WaitForStatusAsync(instanceId, "Finished", TimeSpan.FromSeconds(30));
        Assert.True(instance["status"]!.GetValue<string>() == "Finished", $"Instance is {instance.ToJsonString()}\n{second.Output}");
        Assert.Equal("Finished", instance["subStatus"]!.GetValue<string>());
    }
}
