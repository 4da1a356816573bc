using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Engine.Contracts;

namespace Platform.Engine.Runtime;

/// <summary>
/// The in-process timer: resumes bookmarks whose <c>ResumeAt</c> has come. It polls the bookmark store, so timers that
/// fell due while the process was down fire after a restart. Hosts with Hangfire replace this with durable jobs.
/// </summary>
public sealed class TimerBookmarkScheduler : BackgroundService, IBookmarkScheduler
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);
    private readonly IServiceProvider _services;
    private readonly TimeProvider _clock;
    private readonly ILogger<TimerBookmarkScheduler> _logger;
    private readonly SemaphoreSlim _wake = new(0, int.MaxValue);

    public TimerBookmarkScheduler(IServiceProvider services, TimeProvider clock, ILogger<TimerBookmarkScheduler> logger)
    {
        _services = services;
        _clock = clock;
        _logger = logger;
    }

    public ValueTask ScheduleAsync(string instanceId, string bookmarkId, DateTimeOffset resumeAt, CancellationToken ct)
    {
        var delay = resumeAt - _clock.GetUtcNow();
        if (delay < PollInterval)
            _ = Task.Delay(delay > TimeSpan.Zero ? delay : TimeSpan.Zero, _clock, CancellationToken.None).ContinueWith(_ => _wake.Release(), TaskScheduler.Default);
        return ValueTask.CompletedTask;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Another scheduler (e.g. Hangfire) replaced this one: its jobs fire the timers, so this loop stays idle.
        if (!_services.GetServices<IBookmarkScheduler>().Contains(this))
        {
            _logger.LogDebug("The in-process timer is replaced by another bookmark scheduler; it stays idle.");
            return;
        }
        var store = _services.GetRequiredService<IBookmarkStore>();
        var runtime = _services.GetRequiredService<IWorkflowRuntime>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var due = await store.FindDueAsync(_clock.GetUtcNow(), 200, stoppingToken);
                foreach (var b in due)
                {
                    try { await runtime.ResumeAsync(new ResumeWorkflowRequest(b.WorkflowInstanceId, b.Id), stoppingToken); }
                    catch (WorkflowRequestException e) { _logger.LogDebug("Timer {BookmarkId} already handled: {Message}", b.Id, e.Message); }
                }
                if (due.Count == 200) continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
            catch (Exception e) { _logger.LogError(e, "The timer loop failed; retrying in {Interval}.", PollInterval); }
            try { await _wake.WaitAsync(PollInterval, stoppingToken); }
            catch (OperationCanceledException) { break; }
        }
    }
}
