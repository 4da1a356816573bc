using System.Collections.Concurrent;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Engine.Stores;

/// <summary>
/// Reuses the triggers read from the database for a short time (<see cref="Runtime.EngineRuntimeOptions.LookupCacheDuration"/>):
/// every incoming message asks which workflows it starts, and the answer only changes when a workflow is published or
/// retracted. A change made through this store (this node) clears the cache at once; one made by another node sharing the
/// database is seen within the cache duration.
/// </summary>
public sealed class CachingTriggerStore(ITriggerStore inner, TimeProvider clock, TimeSpan duration) : ITriggerStore
{
    private readonly ConcurrentDictionary<(string Name, string? Key), (IReadOnlyList<StoredTrigger> Triggers, long Until)> _byKey = new();
    private long _generation;

    /// <inheritdoc />
    public async Task ReplaceAsync(string definitionId, IReadOnlyList<StoredTrigger> triggers, CancellationToken ct = default)
    {
        try
        {
            await inner.ReplaceAsync(definitionId, triggers, ct).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Increment(ref _generation);
            _byKey.Clear();
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredTrigger>> FindAsync(string name, string? key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (duration <= TimeSpan.Zero) return await inner.FindAsync(name, key, ct).ConfigureAwait(false);
        var now = clock.GetTimestamp();
        if (_byKey.TryGetValue((name, key), out var hit) && now < hit.Until) return hit.Triggers;
        // A read that overlaps a local change must not put the old answer back into the cache.
        var generation = Interlocked.Read(ref _generation);
        var triggers = (await inner.FindAsync(name, key, ct).ConfigureAwait(false)).ToArray();
        if (generation == Interlocked.Read(ref _generation))
            _byKey[(name, key)] = (triggers, now + (long)(duration.TotalSeconds * clock.TimestampFrequency));
        return triggers;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredTrigger>> FindByNameAsync(string name, CancellationToken ct = default) => inner.FindByNameAsync(name, ct);
}
