using Platform.Testing;
using Xunit;

namespace Platform.Scheduling.Hangfire.Tests;

public class PostgresInstanceLockTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Should_Block_Second_Holder_Until_First_Releases_When_Same_Instance()
    {
        var cs = await postgres.CreateDatabaseAsync("lock");
        var nodeA = new PostgresInstanceLock(cs);
        var nodeB = new PostgresInstanceLock(cs);

        var first = await nodeA.AcquireAsync("instance-1", TestContext.Current.CancellationToken);
        var second = nodeB.AcquireAsync("instance-1", TestContext.Current.CancellationToken).AsTask();
        await Task.Delay(500);
        Assert.False(second.IsCompleted);

        await first.DisposeAsync();
        var held = await second.WaitAsync(TimeSpan.FromSeconds(10));
        await held.DisposeAsync();
    }

    [Fact]
    public async Task Should_Not_Block_When_Instances_Differ()
    {
        var cs = await postgres.CreateDatabaseAsync("lock");
        var locks = new PostgresInstanceLock(cs);

        await using var a = await locks.AcquireAsync("instance-a", TestContext.Current.CancellationToken);
        var b = await locks.AcquireAsync("instance-b", TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(10));

        await b.DisposeAsync();
    }

    [Fact]
    public async Task Should_Stop_Waiting_When_Cancelled()
    {
        var cs = await postgres.CreateDatabaseAsync("lock");
        var locks = new PostgresInstanceLock(cs);
        await using var held = await locks.AcquireAsync("instance-c", TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await locks.AcquireAsync("instance-c", cts.Token));
    }
}
