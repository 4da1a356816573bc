using System.Collections.Concurrent;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Engine.Stores;

/// <summary>
/// Tells other nodes which bookmarks a commit on this node created, so that their <see cref="BookmarkAbsence"/> forgets them
/// (PostgreSQL: <c>NOTIFY</c>; a single SQLite node needs none).
/// </summary>
public interface IBookmarkChangeFeed
{
    /// <summary>Announces bookmarks just committed on this node (name and key of each).</summary>
    Task PublishAsync(IReadOnlyCollection<(string Name, string Key)> added, CancellationToken ct = default);
}

/// <summary>
/// The (name, key) pairs known to have no bookmark. Every HTTP request and every message asks whether a waiting instance
/// should be resumed (<see cref="IBookmarkStore.FindAsync"/>); almost always the answer is "none", and it stays "none" until
/// a commit creates such a bookmark. This node's commits forget the pairs they create (<see cref="BookmarkAbsenceCommitStore"/>);
/// other nodes' commits arrive through a change feed. While no feed is connected on a database that several nodes share,
/// <see cref="Enabled"/> is false and every lookup goes to the database.
/// </summary>
public sealed class BookmarkAbsence
{
    /// <summary>The most pairs remembered; past it the set starts over (a cache miss costs one query, nothing else).</summary>
    public const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<(string Name, string Key), long> _absent = new();
    private readonly long _ttlMilliseconds;
    private long _generation;
    private volatile bool _enabled;

    /// <summary>
    /// Creates the set; <paramref name="enabled"/> is true where this node sees every bookmark write (one SQLite node). Each
    /// "absent" answer is also dropped after <paramref name="timeToLive"/>, which bounds how long a missed change could last.
    /// </summary>
    public BookmarkAbsence(bool enabled, TimeSpan timeToLive)
    {
        _enabled = enabled && timeToLive > TimeSpan.Zero;
        _ttlMilliseconds = (long)timeToLive.TotalMilliseconds;
    }

    /// <summary>Whether answers may come from the set (a change feed is connected, or there is only this node).</summary>
    public bool Enabled
    {
        get => _enabled;
        set
        {
            _enabled = value && _ttlMilliseconds > 0;
            Clear();
        }
    }

    /// <summary>How many pairs are known to be absent (tests and diagnostics).</summary>
    public int Count => _absent.Count;

    /// <summary>Lookups answered from the set without a query since start.</summary>
    public long Hits => Interlocked.Read(ref _hits);
    private long _hits;

    /// <summary>Moves on at every change; a lookup that overlapped a change does not record its (possibly old) answer.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>True when the pair is known to have no bookmark.</summary>
    public bool IsKnownAbsent(string name, string key)
    {
        if (!_enabled || !_absent.TryGetValue((name, key), out var until)) return false;
        if (Environment.TickCount64 >= until)
        {
            _absent.TryRemove(KeyValuePair.Create((name, key), until));
            return false;
        }
        Interlocked.Increment(ref _hits);
        return true;
    }

    /// <summary>Records that a lookup started at <paramref name="generation"/> found no bookmark for the pair.</summary>
    public void RecordAbsent(string name, string key, long generation)
    {
        if (!_enabled || generation != Generation) return;
        if (_absent.Count >= MaxEntries) _absent.Clear();
        _absent[(name, key)] = Environment.TickCount64 + _ttlMilliseconds;
        // A change that raced with the add must win: drop what was just added.
        if (generation != Generation) _absent.TryRemove((name, key), out _);
    }

    /// <summary>Forgets the pairs (bookmarks were or are about to be created for them).</summary>
    public void Forget(IEnumerable<(string Name, string Key)> pairs)
    {
        Interlocked.Increment(ref _generation);
        foreach (var pair in pairs) _absent.TryRemove(pair, out _);
    }

    /// <summary>Forgets everything (the change feed reconnected and may have missed changes).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _absent.Clear();
    }
}

/// <summary>Answers "no bookmark" from <see cref="BookmarkAbsence"/> when it can; everything else goes to the inner store.</summary>
public sealed class CachingBookmarkStore(IBookmarkStore inner, BookmarkAbsence absence) : IBookmarkStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredBookmark>> FindAsync(string name, string? key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (key is null) return await inner.FindAsync(name, key, ct).ConfigureAwait(false);
        if (absence.IsKnownAbsent(name, key)) return [];
        var generation = absence.Generation;
        var found = await inner.FindAsync(name, key, ct).ConfigureAwait(false);
        if (found.Count == 0) absence.RecordAbsent(name, key, generation);
        return found;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredBookmark>> FindByInstanceAsync(string workflowInstanceId, CancellationToken ct = default) =>
        inner.FindByInstanceAsync(workflowInstanceId, ct);

    /// <inheritdoc />
    public Task<StoredBookmark?> FindByIdAsync(string bookmarkId, CancellationToken ct = default) => inner.FindByIdAsync(bookmarkId, ct);

    /// <inheritdoc />
    public Task<IReadOnlyList<StoredBookmark>> FindDueAsync(DateTimeOffset before, int take, CancellationToken ct = default) =>
        inner.FindDueAsync(before, take, ct);
}

/// <summary>
/// Keeps <see cref="BookmarkAbsence"/> true across commits: the pairs a commit creates are forgotten before it is written (so a
/// lookup running meanwhile does not record its answer) and again once it is stored (so one that started in between does not
/// either), then announced to the other nodes.
/// </summary>
public sealed class BookmarkAbsenceCommitStore(IWorkflowCommitStore inner, BookmarkAbsence absence, IBookmarkChangeFeed? feed = null)
    : IWorkflowCommitStore
{
    /// <summary>The store this one wraps.</summary>
    public IWorkflowCommitStore Inner => inner;

    /// <inheritdoc />
    public async Task CommitAsync(WorkflowCommit commit, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(commit);
        if (commit.Bookmarks.Count == 0)
        {
            await inner.CommitAsync(commit, ct).ConfigureAwait(false);
            return;
        }
        var pairs = commit.Bookmarks.Where(b => b.Key is not null).Select(b => (b.Name, b.Key!)).Distinct().ToArray();
        absence.Forget(pairs);
        await inner.CommitAsync(commit, ct).ConfigureAwait(false);
        absence.Forget(pairs);
        if (feed is not null && pairs.Length > 0) await feed.PublishAsync(pairs, CancellationToken.None).ConfigureAwait(false);
    }
}
