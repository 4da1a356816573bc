using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Platform.Messaging;

/// <summary>
/// Runs work items by id in a fixed number of lanes; items with the same key (a conversation) always share a lane, so they are
/// handled in order, while different conversations run in parallel. An id already queued or running is not queued again.
/// </summary>
internal sealed class LaneWorker
{
    private readonly Channel<string>[] _lanes;
    private readonly HashSet<string> _inFlight = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly Func<string, CancellationToken, Task> _handler;
    private readonly ILogger _logger;

    public LaneWorker(int lanes, Func<string, CancellationToken, Task> handler, ILogger logger)
    {
        _lanes = Enumerable.Range(0, Math.Max(1, lanes)).Select(_ => Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true })).ToArray();
        _handler = handler;
        _logger = logger;
    }

    public int InFlight { get { lock (_gate) return _inFlight.Count; } }

    /// <summary>Queues an id; false when it is already queued or running.</summary>
    public bool Enqueue(string id, string? key)
    {
        lock (_gate) if (!_inFlight.Add(id)) return false;
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
                try { await _handler(id, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                catch (Exception e) { _logger.LogError(e, "Handling {Id} failed; it will be picked up again.", id); }
                finally { lock (_gate) _inFlight.Remove(id); }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }
}
