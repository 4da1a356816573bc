using System.Collections.Concurrent;

namespace Platform.Engine.Runtime;

/// <summary>
/// Makes running a background activity idempotent by bookmark id: whoever runs it first holds the claim until the instance
/// has been resumed with the result; another run of the same bookmark (a duplicate job, a job queued again by the recovery
/// sweep) finds the claim taken and does nothing, or, once the claim is free, finds the bookmark gone and does nothing.
/// The default claim is in-process; multi-node hosts replace it (PostgreSQL advisory lock in Platform.Scheduling.Hangfire).
/// </summary>
public interface IBackgroundActivityClaim
{
    /// <summary>Claims the background activity waiting on <paramref name="bookmarkId"/>; null when someone else holds it.</summary>
    /// <returns>The claim, released on dispose; or null.</returns>
    ValueTask<IAsyncDisposable?> TryClaimAsync(string bookmarkId, CancellationToken ct);
}

/// <summary>Claims within this process (one node).</summary>
public sealed class InProcessBackgroundActivityClaim : IBackgroundActivityClaim
{
    private readonly ConcurrentDictionary<string, Held> _held = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask<IAsyncDisposable?> TryClaimAsync(string bookmarkId, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(bookmarkId);
        var claim = new Held(this, bookmarkId);
        return ValueTask.FromResult<IAsyncDisposable?>(_held.TryAdd(bookmarkId, claim) ? claim : null);
    }

    private sealed class Held(InProcessBackgroundActivityClaim owner, string bookmarkId) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            owner._held.TryRemove(new KeyValuePair<string, Held>(bookmarkId, this));
            return ValueTask.CompletedTask;
        }
    }
}
