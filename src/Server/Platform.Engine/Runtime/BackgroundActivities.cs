using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Engine.Runtime;

/// <summary>
/// Names and rules of background activities and retries. An activity runs in the background when its class says
/// <c>[Activity(..., Kind = ActivityKind.Job)]</c> or the designer sets <c>customProperties.runInBackground = true</c>:
/// the instance suspends on a <see cref="BookmarkName"/> bookmark, a job (Hangfire's <c>RunActivityJob</c>, or the
/// in-process executor) runs the activity and resumes the instance with its outputs and outcomes.
/// </summary>
public static class BackgroundActivities
{
    /// <summary>The bookmark an instance waits on while one of its activities runs in the background.</summary>
    public const string BookmarkName = "Platform.RunInBackground";

    /// <summary>The timed bookmark that runs a failed activity again (see <see cref="RetryPolicy"/>).</summary>
    public const string RetryBookmarkName = "Platform.Retry";

    /// <summary>The custom property that sends an activity to the background.</summary>
    public const string CustomPropertyName = "runInBackground";

    /// <summary>The instance property with the latest progress per activity id: <c>{percent, message, updatedAt}</c>.</summary>
    public const string ProgressProperty = "backgroundProgress";

    /// <summary>The keys of the resume input a background job sends.</summary>
    public static class ResultKeys
    {
        /// <summary>The outcomes (a list of names).</summary>
        public const string Outcomes = "outcomes";
        /// <summary>The activity's outputs by name.</summary>
        public const string Outputs = "outputs";
        /// <summary>Variables the activity changed.</summary>
        public const string Variables = "variables";
        /// <summary>Workflow output values the activity set.</summary>
        public const string WorkflowOutput = "workflowOutput";
        /// <summary>Journal data (including the last progress).</summary>
        public const string Journal = "journal";
        /// <summary><c>{code, message, nonRetryable}</c> when the activity failed.</summary>
        public const string Fault = "fault";
    }

    private static readonly ConcurrentDictionary<Type, bool> JobTypes = new();

    /// <summary>True when the activity runs as a background job.</summary>
    public static bool RunsInBackground(Activity activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        if (activity.CustomProperties.TryGetValue(CustomPropertyName, out var flag) && flag is not null)
            return flag is true || (flag is string s && bool.TryParse(s.Trim(), out var b) && b);
        return JobTypes.GetOrAdd(activity.GetType(), t => t.GetCustomAttribute<ActivityAttribute>()?.Kind == ActivityKind.Job);
    }

    /// <summary>The attempt number a retry or background bookmark carries (1 when none).</summary>
    internal static int AttemptOf(Bookmark bookmark) => bookmark.Payload.ValueOf("attempt") switch
    {
        int i => i,
        long l => (int)l,
        double d => (int)d,
        string s when int.TryParse(s, out var n) => n,
        _ => 1,
    };

    /// <summary>Stores the latest progress of an activity in the instance properties.</summary>
    internal static void SetProgress(IDictionary<string, object?> properties, string activityId, object? progress)
    {
        var all = properties.ValueOf(ProgressProperty) as IDictionary<string, object?> ?? new Dictionary<string, object?>();
        all[activityId] = progress;
        properties[ProgressProperty] = all;
    }
}

/// <summary>
/// Runs background activities in this process (the default without Hangfire). At start it dispatches again the background
/// activities whose run was lost with the previous process; at stop it waits for running ones (up to
/// <see cref="EngineRuntimeOptions.ShutdownTimeout"/>), then cancels the rest, which run again at the next start.
/// </summary>
public sealed class InProcessBackgroundDispatcher : IBackgroundActivityDispatcher, IHostedService, IDisposable
{
    private readonly IServiceProvider _services;
    private readonly ILogger<InProcessBackgroundDispatcher> _logger;
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    public InProcessBackgroundDispatcher(IServiceProvider services, ILogger<InProcessBackgroundDispatcher> logger)
    {
        _services = services;
        _logger = logger;
    }

    /// <summary>Background activities running now.</summary>
    public int RunningCount => _running.Count;

    public ValueTask DispatchAsync(string instanceId, string bookmarkId, CancellationToken ct)
    {
        if (_stopping.IsCancellationRequested) return ValueTask.CompletedTask; // the next start picks it up
        lock (_running)
        {
            if (_running.ContainsKey(bookmarkId)) return ValueTask.CompletedTask;
            var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _running[bookmarkId] = gate.Task;
            _ = Task.Run(async () =>
            {
                try
                {
                    await _services.GetRequiredService<WorkflowRuntime>().RunBackgroundActivityAsync(instanceId, bookmarkId, _stopping.Token);
                }
                catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
                {
                    _logger.LogInformation("Background activity {BookmarkId} of {InstanceId} was stopped by shutdown; it runs again at the next start.", bookmarkId, instanceId);
                }
                catch (Exception e)
                {
                    _logger.LogError(e, "Background activity {BookmarkId} of {InstanceId} could not run.", bookmarkId, instanceId);
                }
                finally
                {
                    _running.TryRemove(bookmarkId, out _);
                    gate.TrySetResult();
                }
            }, CancellationToken.None);
        }
        return ValueTask.CompletedTask;
    }

    // Read at start: a host that is disposed while stopping may already have disposed the service provider.
    private TimeSpan _shutdownTimeout = TimeSpan.FromSeconds(30);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _shutdownTimeout = _services.GetService<IOptions<EngineRuntimeOptions>>()?.Value.ShutdownTimeout ?? _shutdownTimeout;
        if (!ReferenceEquals(_services.GetService<IBackgroundActivityDispatcher>(), this)) return; // Hangfire (or another) runs them
        var pending = await _services.GetRequiredService<IBookmarkStore>().FindAsync(BackgroundActivities.BookmarkName, null, cancellationToken);
        foreach (var b in pending) await DispatchAsync(b.WorkflowInstanceId, b.Id, cancellationToken);
        if (pending.Count > 0) _logger.LogInformation("Dispatched {Count} background activit(ies) left over from the previous run.", pending.Count);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_disposed) return; // a host disposed before it was stopped: nothing runs any more
        var timeout = _shutdownTimeout;
        var all = Task.WhenAll(_running.Values);
        try { await all.WaitAsync(timeout, cancellationToken); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            _logger.LogWarning("{Count} background activit(ies) still running after {Timeout}; cancelling them.", _running.Count, timeout);
        }
        try { await _stopping.CancelAsync(); }
        catch (ObjectDisposedException) { return; } // disposed meanwhile
        try { await Task.WhenAll(_running.Values).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None); }
        catch (TimeoutException) { /* they end on their own; the next start runs them again */ }
    }

    private volatile bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stopping.Cancel();
        _stopping.Dispose();
    }
}

/// <summary>At host stop, waits for running bursts to finish and commit (up to <see cref="EngineRuntimeOptions.ShutdownTimeout"/>).</summary>
public sealed class WorkflowRuntimeShutdown(WorkflowRuntime runtime, IServiceProvider services, ILogger<WorkflowRuntimeShutdown> logger) : IHostedService
{
    // Read at start: a host that is disposed while stopping may already have disposed the service provider.
    private TimeSpan _timeout = TimeSpan.FromSeconds(30);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _timeout = services.GetService<IOptions<EngineRuntimeOptions>>()?.Value.ShutdownTimeout ?? _timeout;
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var timeout = _timeout;
        if (runtime.InFlightRuns == 0) return;
        logger.LogInformation("Waiting up to {Timeout} for {Count} running workflow burst(s) to commit.", timeout, runtime.InFlightRuns);
        if (!await runtime.DrainAsync(timeout, cancellationToken))
            logger.LogWarning("{Count} workflow burst(s) were still running at shutdown; they continue from their last commit at the next start.", runtime.InFlightRuns);
    }
}

internal static class PropertyBagExtensions
{
    /// <summary>The value under <paramref name="key"/>, or null.</summary>
    public static object? ValueOf(this IDictionary<string, object?> bag, string key) => bag.TryGetValue(key, out var v) ? v : null;
}
