using System.Diagnostics.Metrics;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Engine.Models;
using Platform.Engine.Runtime;
using Platform.Persistence.EFCore;

namespace Platform.Server.Observability;

/// <summary>
/// Reads the queue gauges every <see cref="MetricsOptions.SampleInterval"/>: inbox and outbox depth and oldest age, dead letters,
/// Hangfire's queues and failures. A scrape reads the last sample (a scrape never queries the database).
/// </summary>
public sealed class OperationsSampler : BackgroundService
{
    private static readonly Meter Meter = new(EngineTelemetry.MeterName);
    private static OperationsSampler? _current;

    private readonly IServiceProvider _services;
    private readonly TimeProvider _clock;
    private readonly MetricsOptions _options;
    private readonly ILogger<OperationsSampler> _logger;
    private volatile Sample _last = new();

    static OperationsSampler()
    {
        Meter.CreateObservableGauge("inbox_pending", () => _current?._last.InboxPending ?? 0, description: "Incoming messages stored and not yet processed.");
        Meter.CreateObservableGauge("inbox_oldest_age_seconds", () => _current?.Age(_current._last.InboxOldest) ?? 0, "s",
            "Age of the oldest unprocessed incoming message (0 when none).");
        Meter.CreateObservableGauge("outbox_pending", () => _current?._last.OutboxPending ?? 0, description: "Outgoing messages waiting for delivery.");
        Meter.CreateObservableGauge("outbox_oldest_age_seconds", () => _current?.Age(_current._last.OutboxOldest) ?? 0, "s",
            "Age of the oldest outgoing message waiting for delivery (0 when none).");
        Meter.CreateObservableGauge("dead_letters", () => _current?._last.DeadLetters ?? 0, description: "Dead-lettered outgoing messages kept in the outbox.");
        Meter.CreateObservableGauge("hangfire_jobs", () => _current?._last.Hangfire ?? [], description: "Hangfire jobs by state (enqueued, scheduled, processing, failed).");
        Meter.CreateObservableGauge("cpu_cores", () => Environment.ProcessorCount, description: "The processors this process may use (the container's CPU limit, rounded up).");
        Meter.CreateObservableGauge("hangfire_succeeded", () => _current?._last.HangfireSucceeded ?? 0, description: "Hangfire jobs succeeded (the storage's counter).");
    }

    /// <summary>Creates the sampler.</summary>
    public OperationsSampler(IServiceProvider services, TimeProvider clock, IOptions<MetricsOptions> options, ILogger<OperationsSampler> logger)
    {
        _services = services;
        _clock = clock;
        _options = options.Value;
        _logger = logger;
        _current = this;
    }

    private double Age(DateTimeOffset? oldest) => oldest is { } t ? Math.Max(0, (_clock.GetUtcNow() - t).TotalSeconds) : 0;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = _options.SampleInterval > TimeSpan.Zero ? _options.SampleInterval : TimeSpan.FromSeconds(15);
        while (!stoppingToken.IsCancellationRequested)
        {
            try { _last = await ReadAsync(stoppingToken); }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e) { _logger.LogWarning(e, "Reading the queue gauges failed; the metrics keep the last sample."); }
            try { await Task.Delay(interval, _clock, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
    }

    /// <summary>Reads one sample now.</summary>
    public async Task<Sample> ReadAsync(CancellationToken ct)
    {
        var sample = new Sample();
        if (_services.GetService<IDbContextFactory<PlatformDbContext>>() is { } factory)
        {
            await using var db = await factory.CreateDbContextAsync(ct);
            var inbox = db.Set<InboxMessage>().AsNoTracking().Where(m => m.Status == InboxStatus.Received);
            sample.InboxPending = await inbox.LongCountAsync(ct);
            sample.InboxOldest = sample.InboxPending == 0 ? null
                : await inbox.OrderBy(m => m.ReceivedAt).Select(m => (DateTimeOffset?)m.ReceivedAt).FirstOrDefaultAsync(ct);
            var outbox = db.Set<OutboxMessage>().AsNoTracking().Where(m => m.Status == OutboxStatus.Pending);
            sample.OutboxPending = await outbox.LongCountAsync(ct);
            sample.OutboxOldest = sample.OutboxPending == 0 ? null
                : await outbox.OrderBy(m => m.CreatedAt).Select(m => (DateTimeOffset?)m.CreatedAt).FirstOrDefaultAsync(ct);
            sample.DeadLetters = await db.Set<OutboxMessage>().AsNoTracking().LongCountAsync(m => m.Status == OutboxStatus.DeadLettered, ct);
        }
        if (_services.GetService<JobStorage>() is { } storage)
        {
            var s = storage.GetMonitoringApi().GetStatistics();
            sample.Hangfire =
            [
                new(s.Enqueued, new KeyValuePair<string, object?>("state", "enqueued")),
                new(s.Scheduled, new KeyValuePair<string, object?>("state", "scheduled")),
                new(s.Processing, new KeyValuePair<string, object?>("state", "processing")),
                new(s.Failed, new KeyValuePair<string, object?>("state", "failed")),
            ];
            sample.HangfireSucceeded = s.Succeeded;
        }
        return sample;
    }

    /// <summary>One reading of the gauges.</summary>
    public sealed class Sample
    {
        /// <summary>Unprocessed incoming messages.</summary>
        public long InboxPending { get; set; }
        /// <summary>When the oldest of them arrived.</summary>
        public DateTimeOffset? InboxOldest { get; set; }
        /// <summary>Outgoing messages waiting for delivery.</summary>
        public long OutboxPending { get; set; }
        /// <summary>When the oldest of them was created.</summary>
        public DateTimeOffset? OutboxOldest { get; set; }
        /// <summary>Dead letters.</summary>
        public long DeadLetters { get; set; }
        /// <summary>Hangfire jobs by state.</summary>
        public Measurement<long>[] Hangfire { get; set; } = [];
        /// <summary>Hangfire jobs succeeded.</summary>
        public long HangfireSucceeded { get; set; }
    }
}
