using System.Collections.Concurrent;
using Platform.Engine.Contracts;

namespace Platform.Engine.Runtime;

/// <summary>A per-instance async lock inside one process.</summary>
public sealed class InProcessInstanceLock : IInstanceLock
{
    private readonly ConcurrentDictionary<string, Entry> _locks = new(StringComparer.Ordinal);

    public async ValueTask<IAsyncDisposable> AcquireAsync(string instanceId, CancellationToken ct)
    {
        Entry entry;
        while (true)
        {
            entry = _locks.GetOrAdd(instanceId, _ => new Entry());
            lock (entry)
            {
                if (entry.Removed) continue;
                entry.Users++;
            }
            break;
        }
        try { await entry.Semaphore.WaitAsync(ct); }
        catch
        {
            Release(instanceId, entry, acquired: false);
            throw;
        }
        return new Releaser(() => Release(instanceId, entry, acquired: true));
    }

    private void Release(string id, Entry entry, bool acquired)
    {
        if (acquired) entry.Semaphore.Release();
        lock (entry)
        {
            if (--entry.Users == 0)
            {
                entry.Removed = true;
                _locks.TryRemove(new KeyValuePair<string, Entry>(id, entry));
            }
        }
    }

    private sealed class Entry
    {
        public readonly SemaphoreSlim Semaphore = new(1, 1);
        public int Users;
        public bool Removed;
    }

    private sealed class Releaser(Action release) : IAsyncDisposable
    {
        private int _done;
        public ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) release();
            return ValueTask.CompletedTask;
        }
    }
}
