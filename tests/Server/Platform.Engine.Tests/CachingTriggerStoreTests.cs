using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Engine.Stores;
using Xunit;

namespace Platform.Engine.Tests;

public sealed class CachingTriggerStoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Read_The_Database_Once_When_Triggers_Are_Asked_For_Again_Within_The_Duration()
    {
        // Arrange
        var (inner, clock, cache) = Create(TimeSpan.FromSeconds(1));
        await inner.ReplaceAsync("d1", [Trigger("d1", "web")], Ct);

        // Act
        var first = await cache.FindAsync("Platform.MessageReceived", "web", Ct);
        clock.Advance(TimeSpan.FromMilliseconds(900));
        var second = await cache.FindAsync("Platform.MessageReceived", "web", Ct);

        // Assert
        Assert.Single(first);
        Assert.Single(second);
        Assert.Equal(1, inner.Finds);
    }

    [Fact]
    public async Task Should_Read_Again_When_The_Duration_Has_Passed()
    {
        // Arrange: another node publishes behind this cache's back.
        var (inner, clock, cache) = Create(TimeSpan.FromSeconds(1));
        Assert.Empty(await cache.FindAsync("Platform.MessageReceived", "web", Ct));
        await inner.ReplaceAsync("d1", [Trigger("d1", "web")], Ct);

        // Act
        var stale = await cache.FindAsync("Platform.MessageReceived", "web", Ct);
        clock.Advance(TimeSpan.FromSeconds(1));
        var fresh = await cache.FindAsync("Platform.MessageReceived", "web", Ct);

        // Assert
        Assert.Empty(stale);
        Assert.Single(fresh);
    }

    [Fact]
    public async Task Should_See_A_Change_At_Once_When_It_Is_Made_Through_The_Cache()
    {
        // Arrange
        var (_, _, cache) = Create(TimeSpan.FromMinutes(1));
        Assert.Empty(await cache.FindAsync("Platform.MessageReceived", "web", Ct));

        // Act
        await cache.ReplaceAsync("d1", [Trigger("d1", "web")], Ct);
        var afterPublish = await cache.FindAsync("Platform.MessageReceived", "web", Ct);
        await cache.ReplaceAsync("d1", [], Ct);
        var afterRetract = await cache.FindAsync("Platform.MessageReceived", "web", Ct);

        // Assert
        Assert.Single(afterPublish);
        Assert.Empty(afterRetract);
    }

    [Fact]
    public async Task Should_Read_Every_Time_When_The_Duration_Is_Zero()
    {
        // Arrange
        var (inner, _, cache) = Create(TimeSpan.Zero);

        // Act
        await cache.FindAsync("Platform.MessageReceived", "web", Ct);
        await cache.FindAsync("Platform.MessageReceived", "web", Ct);

        // Assert
        Assert.Equal(2, inner.Finds);
    }

    private static (CountingStore Inner, ManualClock Clock, CachingTriggerStore Cache) Create(TimeSpan duration)
    {
        var inner = new CountingStore(new InMemoryStore());
        var clock = new ManualClock();
        return (inner, clock, new CachingTriggerStore(inner, clock, duration));
    }

    private static StoredTrigger Trigger(string definitionId, string key) => new()
    {
        Id = $"{definitionId}-t", DefinitionId = definitionId, DefinitionVersionId = $"{definitionId}-v1", ActivityId = "received",
        Name = "Platform.MessageReceived", Key = key,
    };

    private sealed class CountingStore(ITriggerStore inner) : ITriggerStore
    {
        public int Finds;
        public Task ReplaceAsync(string definitionId, IReadOnlyList<StoredTrigger> triggers, CancellationToken ct = default) => inner.ReplaceAsync(definitionId, triggers, ct);
        public Task<IReadOnlyList<StoredTrigger>> FindAsync(string name, string? key, CancellationToken ct = default)
        {
            Interlocked.Increment(ref Finds);
            return inner.FindAsync(name, key, ct);
        }
        public Task<IReadOnlyList<StoredTrigger>> FindByNameAsync(string name, CancellationToken ct = default) => inner.FindByNameAsync(name, ct);
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = 1_000_000;
        public void Advance(TimeSpan by) => _ticks += (long)(by.TotalSeconds * TimestampFrequency);
        public override long GetTimestamp() => _ticks;
        public override long TimestampFrequency => 1_000_000;
    }
}
