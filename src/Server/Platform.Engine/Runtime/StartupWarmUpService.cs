using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Engine.Contracts;

namespace Platform.Engine.Runtime;

/// <summary>
/// Runs the registered <see cref="IStartupWarmUp"/> steps once, one after the other, as soon as the host has started (it does
/// not delay start). Each step's time is logged; a failing step is logged as a warning and the others still run.
/// </summary>
public sealed partial class StartupWarmUpService(IEnumerable<IStartupWarmUp> steps, IOptions<EngineRuntimeOptions> options,
    ILogger<StartupWarmUpService> logger, IHostApplicationLifetime? lifetime = null) : BackgroundService
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _failed = [];

    /// <summary>Completes when every step has run (or warm-up is turned off, or the host stops first).</summary>
    public Task Completion => _done.Task;

    /// <summary>The names of the steps that failed (each is logged as a warning).</summary>
    public IReadOnlyList<string> FailedSteps
    {
        get
        {
            lock (_failed) return _failed.ToArray();
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (!options.Value.WarmUp) return;
            // After the host has started (so start is not delayed); without a host (services started by hand), at once.
            if (lifetime is not null)
            {
                var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
                using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
                    await started.Task.ConfigureAwait(false);
            }
            var total = Stopwatch.StartNew();
            foreach (var step in steps)
            {
                stoppingToken.ThrowIfCancellationRequested();
                var watch = Stopwatch.StartNew();
                try
                {
                    await step.WarmUpAsync(stoppingToken).ConfigureAwait(false);
                    LogStep(step.Name, watch.ElapsedMilliseconds);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    lock (_failed) _failed.Add(step.Name);
                    LogStepFailed(e, step.Name);
                }
            }
            LogDone(total.ElapsedMilliseconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _done.TrySetResult();
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Warm-up: {Step} took {Ms} ms")]
    private partial void LogStep(string step, long ms);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Warm-up: {Step} failed; the first message will pay for it instead, nothing else is affected")]
    private partial void LogStepFailed(Exception e, string step);

    [LoggerMessage(Level = LogLevel.Information, Message = "Warm-up finished in {Ms} ms: parsers, query plans and the message path are ready")]
    private partial void LogDone(long ms);
}
