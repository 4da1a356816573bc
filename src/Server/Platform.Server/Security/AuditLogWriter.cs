using System.Threading.Channels;
using Platform.Activities;

namespace Platform.Server.Security;

/// <summary>
/// <see cref="IAuditLog"/> over <see cref="IAuditLogStore"/>: entries go into a bounded queue and a background loop writes them in
/// batches, so a request never waits for the database. Stopping the host writes every queued entry before it returns; an entry
/// recorded after that is written at once. When the database cannot take a batch, the loop retries, and after the last attempt
/// the entries are written to the log (at Error) so that nothing is lost silently.
/// </summary>
public sealed class AuditLogWriter : BackgroundService, IAuditLog
{
    /// <summary>How many entries may wait; beyond that an entry is written to the log instead (the database is far behind).</summary>
    public const int Capacity = 50_000;

    private const int BatchSize = 500;
    private readonly Channel<AuditEntry> _queue = Channel.CreateBounded<AuditEntry>(new BoundedChannelOptions(Capacity)
    {
        SingleReader = true, FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly IAuditLogStore _store;
    private readonly TimeProvider _clock;
    private readonly ILogger<AuditLogWriter> _logger;
    private long _pending;
    private volatile bool _stopped;

    /// <summary>Creates the writer.</summary>
    public AuditLogWriter(IAuditLogStore store, ILogger<AuditLogWriter> logger, TimeProvider? clock = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>Entries recorded and not yet written.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    /// <inheritdoc />
    public void Record(AuditEntry entry)
    {
        if (entry is null) return;
        if (entry.Timestamp == default) entry = entry with { Timestamp = _clock.GetUtcNow() };
        if (_stopped)
        {
            _ = WriteLateAsync(entry);
            return;
        }
        Interlocked.Increment(ref _pending);
        if (_queue.Writer.TryWrite(entry)) return;
        Interlocked.Decrement(ref _pending);
        if (_stopped) _ = WriteLateAsync(entry);
        else LogLost(entry, "the audit queue is full");
    }

    /// <summary>Waits until every entry recorded so far is written (for tests and the shutdown path).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        while (Pending > 0) await Task.Delay(10, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The loop ends when the queue is completed (StopAsync), not on the stopping token, so the queue drains first.
        var batch = new List<AuditEntry>(BatchSize);
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (batch.Count < BatchSize && reader.TryRead(out var e)) batch.Add(e);
            await WriteAsync(batch).ConfigureAwait(false);
            Interlocked.Add(ref _pending, -batch.Count);
            batch.Clear();
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopped = true;
        _queue.Writer.TryComplete();
        if (ExecuteTask is { } loop) await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task WriteAsync(List<AuditEntry> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await _store.AppendAsync(batch, CancellationToken.None).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (attempt < 3)
            {
                _logger.LogWarning(e, "Writing {Count} audit entries failed (attempt {Attempt}); trying again", batch.Count, attempt);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "Writing {Count} audit entries failed; they follow in the log", batch.Count);
                foreach (var entry in batch) LogLost(entry, "the database did not take it");
                return;
            }
        }
    }

    private async Task WriteLateAsync(AuditEntry entry)
    {
        try
        {
            await _store.AppendAsync([entry], CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Writing an audit entry after shutdown failed");
            LogLost(entry, "it came after shutdown");
        }
    }

    private void LogLost(AuditEntry e, string why) =>
        _logger.LogError("Audit entry not stored ({Why}): {Timestamp:o} {Action} by {Actor} ({ActorKind}) from {Ip} on {TargetType} {TargetId}: {Outcome} {Status} {Details}",
            why, e.Timestamp, e.Action, e.Actor, e.ActorKind, e.IpAddress, e.TargetType, e.TargetId, e.Outcome, e.Status, e.Details);
}
