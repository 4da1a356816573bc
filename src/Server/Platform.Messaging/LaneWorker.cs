using Microsoft.Extensions.Logging;

namespace Platform.Messaging;

/// <summary>
/// Runs work items by id, in order per key (a conversation) and in parallel across keys, at most <c>concurrency</c> at a
/// time. A slow item (a device that takes a second to answer) delays only its own conversation, never others. An id
/// already queued or running is not queued again. An item the caller already holds (claimed and loaded) travels with its
/// id, so the handler need not read it again.
/// </summary>
internal sealed class LaneWorker<T> where T : class
{
    private readonly Func<string, T?, CancellationToken, Task> _handler;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _slots;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<(string Id, T? Held)>> _queues = new(StringComparer.Ordinal);
    private CancellationToken _stopping = CancellationToken.None;
    private bool _running;

    public LaneWorker(int concurrency, Func<string, T?, CancellationToken, Task> handler, ILogger logger)
    {
        _slots = new SemaphoreSlim(Math.Max(1, concurrency));
        _handler = handler;
        _logger = logger;
    }

    public int InFlight { get { lock (_gate) return _inFlight.Count; } }

    /// <summary>Queues an id (with the item when the caller holds it); false when it is already queued or running.</summary>
    public bool Enqueue(string id, string? key, T? held = null)
    {
        key ??= id;
        bool start;
        lock (_gate)
        {
            if (!_inFlight.Add(id)) return false;
            if (_queues.TryGetValue(key, out var queue))
            {
                queue.Enqueue((id, held)); // the key's drain loop is running and will take it
                return true;
            }
            _queues[key] = new Queue<(string, T?)>([(id, held)]);
            start = _running;
        }
        if (start) _ = Task.Run(() => DrainAsync(key));
        return true;
    }

    /// <summary>Handles queued items until <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        List<string> pending;
        lock (_gate)
        {
            _stopping = ct;
            _running = true;
            pending = [.. _queues.Keys];
        }
        foreach (var key in pending) _ = Task.Run(() => DrainAsync(key), CancellationToken.None);
        try { await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        lock (_gate) _running = false;
    }

    private async Task DrainAsync(string key)
    {
        var ct = _stopping;
        while (!ct.IsCancellationRequested)
        {
            (string Id, T? Held) item;
            lock (_gate)
            {
                if (!_queues.TryGetValue(key, out var queue) || queue.Count == 0)
                {
                    _queues.Remove(key);
                    return;
                }
                item = queue.Peek();
            }
            try
            {
                await _slots.WaitAsync(ct).ConfigureAwait(false);
                try { await _handler(item.Id, item.Held, ct).ConfigureAwait(false); }
                finally { _slots.Release(); }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception e) { _logger.LogError(e, "Handling {Id} failed; it will be picked up again.", item.Id); }
            lock (_gate)
            {
                _inFlight.Remove(item.Id);
                if (_queues.TryGetValue(key, out var queue) && queue.Count > 0) queue.Dequeue();
            }
        }
    }
}
