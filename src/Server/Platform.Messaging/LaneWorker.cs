using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Platform.Messaging;

/// <summary>
/// Runs work items by id in a fixed number of lanes; items with the same key (a conversation) always share a lane, so they are
/// handled in order, while different conversations run in parallel. An id already queued or running is not queued again.
/// An item the caller already holds (claimed and loaded) travels with its id, so the handler need not read it again.
/// </summary>
internal sealed class LaneWorker<T> where T : class
{
    private readonly Channel<string>[] _lanes;
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Func<string, T?, CancellationToken, Task> _handler;
    private readonly Dictionary<string, T> _held = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    public LaneWorker(int lanes, Func<string, T?, CancellationToken, Task> handler, ILogger logger)
    {
        _lanes = Enumerable.Range(0, Math.Max(1, lanes)).Select(_ => Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true })).ToArray();
        _handler = handler;
        _logger = logger;
    }

    public int InFlight { get { lock (_gate) return _inFlight.Count; } }

    /// <summary>Queues an id (with the item when the caller holds it); false when it is already queued or running.</summary>
    public bool Enqueue(string id, string? key, T? held = null)
    {
        lock (_gate)
        {
            if (!_inFlight.Add(id)) return false;
            if (held is not null) _held[id] = held;
        }
        var lane = (int)((uint)StringComparer.Ordinal.GetHashCode(key ?? id) % (uint)_lanes.Length);
        _lanes[lane].Writer.TryWrite(id);
        return true;
    }

    /// <summary>Runs the lanes until <paramref name="ct"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken ct) => Task.WhenAll(_lanes.Select(l => Task.Run(() => RunLaneAsync(l.Reader, ct), CancellationToken.None)));

    private async Task RunLaneAsync(ChannelReader<string> reader, CancellationToken ct)
    {
        try
        {
            await foreach (var id in reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                T? held;
                lock (_gate) _held.Remove(id, out held);
                try { await _handler(id, held, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                catch (Exception e) { _logger.LogError(e, "Handling {Id} failed; it will be picked up again.", id); }
                finally { lock (_gate) _inFlight.Remove(id); }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }
}
