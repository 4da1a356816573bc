using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Flowchart;
using Platform.Engine.Models;

namespace Platform.Engine.Runtime;

/// <summary>Retrying faulted instances, background activities, and tracking running bursts for graceful shutdown.</summary>
public sealed partial class WorkflowRuntime
{
    private static readonly TimeSpan ProgressSaveInterval = TimeSpan.FromMilliseconds(200);
    private readonly InProcessBackgroundActivityClaim _localClaims = new(); // when no IBackgroundActivityClaim is registered
    private int _inFlight;

    /// <summary>Bursts running now (started, not yet committed).</summary>
    public int InFlightRuns => Volatile.Read(ref _inFlight);

    /// <summary>Waits until no burst is running, up to <paramref name="timeout"/>; false when some still run.</summary>
    public async Task<bool> DrainAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var giveUpAt = DateTimeOffset.UtcNow + timeout;
        while (InFlightRuns > 0)
        {
            if (DateTimeOffset.UtcNow >= giveUpAt || ct.IsCancellationRequested) return false;
            try { await Task.Delay(TimeSpan.FromMilliseconds(20), ct); }
            catch (OperationCanceledException) { return InFlightRuns == 0; }
        }
        return true;
    }

    /// <summary>Counts a burst as running until the returned scope is disposed (after its commit).</summary>
    private RunScope TrackRun()
    {
        Interlocked.Increment(ref _inFlight);
        return new RunScope(this);
    }

    private readonly struct RunScope(WorkflowRuntime runtime) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref runtime._inFlight);
    }

    /// <inheritdoc />
    public async Task<RunWorkflowResult> RetryAsync(string instanceId, CancellationToken ct = default)
    {
        await using (await _lock.AcquireAsync(instanceId, ct))
        {
            var instance = await LoadAsync(instanceId, ct);
            if (instance.SubStatus != WorkflowSubStatus.Faulted)
                throw new WorkflowRequestException(WorkflowRequestException.Conflict,
                    $"Instance '{instance.Id}' is {instance.SubStatus}, not Faulted; only faulted instances can be retried.");
            var activityId = instance.State.Fault?.ActivityId;
            var graph = await GraphForAsync(instance, ct);
            if (string.IsNullOrEmpty(activityId) || !graph.ById.ContainsKey(activityId))
                throw new WorkflowRequestException(WorkflowRequestException.Conflict,
                    $"Instance '{instance.Id}' faulted outside an activity ({instance.State.Fault?.Message}); there is no activity to run again. Fix the workflow and start a new instance.");

            _logger.LogInformation("Retrying instance {InstanceId} from activity {ActivityId}.", instance.Id, activityId);
            instance.State.Fault = null;
            instance.Status = WorkflowStatus.Running;
            instance.FinishedAt = null;
            instance.State.Scheduled.Clear();
            instance.State.Scheduled.Add(new WorkItem(activityId));
            return await RunAndCommitAsync(instance, graph);
        }
    }

    /// <summary>Hands the background activities this burst suspended on to the dispatcher (after the commit).</summary>
    private async Task DispatchBackgroundAsync(WorkflowExecution execution)
    {
        if (execution.BackgroundBookmarks.Count == 0) return;
        var dispatcher = _engine.Services.GetService<IBackgroundActivityDispatcher>();
        if (dispatcher is null)
        {
            _logger.LogError("No background dispatcher is registered; background activities of {InstanceId} wait until one is.", execution.Instance.Id);
            return;
        }
        foreach (var b in execution.BackgroundBookmarks.Where(b => execution.State.Bookmarks.Any(x => x.Id == b.Id)))
            await dispatcher.DispatchAsync(execution.Instance.Id, b.Id, CancellationToken.None);
    }

    /// <summary>
    /// Runs the background activity waiting on <paramref name="bookmarkId"/> and resumes the instance with its results.
    /// Called by the in-process executor and by Hangfire's <c>RunActivityJob</c>. Idempotent by bookmark id: it first takes the
    /// bookmark's <see cref="IBackgroundActivityClaim"/> (held until the resume has committed) and skips when another run holds
    /// it; it skips bookmarks that are gone (resumed or cancelled). So a job enqueued twice runs the activity once. When
    /// <paramref name="ct"/> is cancelled (host shutdown) it throws and resumes nothing, so the job runs again.
    /// </summary>
    public async Task RunBackgroundActivityAsync(string instanceId, string bookmarkId, CancellationToken ct = default)
    {
        var claims = _engine.Services.GetService<IBackgroundActivityClaim>() ?? _localClaims;
        await using var claim = await claims.TryClaimAsync(bookmarkId, ct);
        if (claim is null)
        {
            _logger.LogInformation("Background activity {BookmarkId} of {InstanceId} is being run by another job; this one is skipped.", bookmarkId, instanceId);
            return;
        }
        // Read after claiming: a run that held the claim before has resumed the instance (the bookmark is gone) or died (it is still there).
        var instance = await _instances.FindAsync(instanceId, ct);
        var bookmark = instance?.State.Bookmarks.FirstOrDefault(b => b.Id == bookmarkId && b.Name == BackgroundActivities.BookmarkName);
        if (instance is null || bookmark is null || instance.Status == WorkflowStatus.Finished)
        {
            _logger.LogDebug("Background activity {BookmarkId} of {InstanceId} is no longer waiting; skipped.", bookmarkId, instanceId);
            return;
        }
        StateNormalizer.Normalize(instance.State);
        bookmark = instance.State.Bookmarks.First(b => b.Id == bookmarkId);
        var graph = await GraphForAsync(instance, ct);
        Dictionary<string, object?> result;
        if (!graph.ById.TryGetValue(bookmark.ActivityId, out var activity))
            result = FaultResult(new ActivityFaultException(FaultCodes.Workflow, $"Activity '{bookmark.ActivityId}' no longer exists in the workflow.", nonRetryable: true));
        else
            result = await ExecuteInBackgroundAsync(instance, graph, activity, bookmark, ct);

        try
        {
            await ResumeAsync(new ResumeWorkflowRequest(instanceId, bookmarkId) { Input = result }, CancellationToken.None);
        }
        catch (WorkflowRequestException e) when (e.Code is WorkflowRequestException.NotFound or WorkflowRequestException.Conflict)
        {
            _logger.LogInformation("Background activity {BookmarkId} of {InstanceId} finished, but the instance no longer waits for it: {Message}", bookmarkId, instanceId, e.Message);
        }
    }

    private async Task<Dictionary<string, object?>> ExecuteInBackgroundAsync(WorkflowInstance instance, FlowchartGraph graph, Activity activity, Bookmark bookmark,
        CancellationToken ct)
    {
        // A detached copy of the instance: the job reads its state as it was when the activity was reached; nothing here is committed.
        var run = new WorkflowExecution(instance, graph, _engine, ct);
        var record = new ActivityExecutionRecord
        {
            Id = bookmark.ActivityInstanceId, WorkflowInstanceId = instance.Id, ActivityId = activity.Id, ActivityNodeId = activity.NodeId, ActivityType = activity.Type,
        };
        var context = new ActivityContext(run, activity, record, new WorkItem(activity.Id), null);
        var variablesBefore = Snapshot(instance.State.Variables);
        var outputBefore = Snapshot(instance.State.Output);
        var progress = new ProgressSaver(this, instance.Id, bookmark.Id, activity.Id, record.Id);
        run.ProgressReported = progress.Report;
        try
        {
            await context.EvaluateInputsAsync();
            await run.ExecuteAsync(activity, context);
            if (context.Bookmarks.Count > 0)
                throw new ActivityFaultException(FaultCodes.Configuration,
                    $"Activity '{activity.Type}' waits for an event, which a background job cannot do. Turn off 'run in background' (customProperties.runInBackground) for it.",
                    nonRetryable: true);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await progress.StopAsync();
            throw;
        }
        catch (Exception e)
        {
            await progress.StopAsync();
            _logger.LogWarning(e, "Background activity {ActivityId} of {InstanceId} failed.", activity.Id, instance.Id);
            var fault = FaultResult(e);
            fault[BackgroundActivities.ResultKeys.Journal] = record.Payload;
            return Plain(fault);
        }
        await progress.StopAsync();
        return Plain(new Dictionary<string, object?>
        {
            [BackgroundActivities.ResultKeys.Outcomes] = context.Outcomes ?? [Activity.DoneOutcome],
            [BackgroundActivities.ResultKeys.Outputs] = record.Outputs,
            [BackgroundActivities.ResultKeys.Variables] = Changed(variablesBefore, instance.State.Variables),
            [BackgroundActivities.ResultKeys.WorkflowOutput] = Changed(outputBefore, instance.State.Output),
            [BackgroundActivities.ResultKeys.Journal] = record.Payload,
        });
    }

    private static Dictionary<string, object?> FaultResult(Exception e) => new()
    {
        [BackgroundActivities.ResultKeys.Fault] = new Dictionary<string, object?>
        {
            ["code"] = e is ActivityFaultException afe ? afe.Code : FaultCodes.Unhandled,
            ["message"] = e is ActivityFaultException ? e.Message : $"{e.GetType().Name}: {e.Message}",
            ["nonRetryable"] = e is ActivityFaultException { NonRetryable: true },
        },
    };

    private static Dictionary<string, string> Snapshot(Dictionary<string, object?> values) =>
        values.ToDictionary(p => p.Key, p => JsonSerializer.Serialize(p.Value, ValueConverter.JsonOptions));

    private static Dictionary<string, object?> Changed(Dictionary<string, string> before, Dictionary<string, object?> after) =>
        after.Where(p => !before.TryGetValue(p.Key, out var old) || old != JsonSerializer.Serialize(p.Value, ValueConverter.JsonOptions))
            .ToDictionary(p => p.Key, p => p.Value);

    /// <summary>Plain JSON-shaped values (dictionaries, lists, numbers, strings), as a store would give them back.</summary>
    private static Dictionary<string, object?> Plain(Dictionary<string, object?> values) =>
        (Dictionary<string, object?>)ValueConverter.FromElement(JsonSerializer.SerializeToElement(values, ValueConverter.JsonOptions))!;

    /// <summary>Stores the progress of a background activity in the instance (property and journal record) while it runs.</summary>
    private async Task SaveProgressAsync(string instanceId, string bookmarkId, string activityId, string activityInstanceId, Dictionary<string, object?> progress)
    {
        await using (await _lock.AcquireAsync(instanceId, CancellationToken.None))
        {
            var instance = await _instances.FindAsync(instanceId, CancellationToken.None);
            if (instance is null || instance.Status == WorkflowStatus.Finished || instance.State.Bookmarks.All(b => b.Id != bookmarkId)) return;
            StateNormalizer.Normalize(instance.State);
            BackgroundActivities.SetProgress(instance.State.Properties, activityId, progress);
            instance.UpdatedAt = _engine.Clock.GetUtcNow();
            var record = await _engine.Journal.FindAsync(activityInstanceId, CancellationToken.None);
            if (record is not null) record.Payload["progress"] = progress;
            await _commits.CommitAsync(new WorkflowCommit
            {
                Instance = instance, Journal = record is null ? [] : [record],
                Bookmarks = instance.State.Bookmarks.Select(b => new StoredBookmark
                {
                    Id = b.Id, WorkflowInstanceId = instance.Id, Name = b.Name, Key = b.Key, ActivityId = b.ActivityId,
                    ActivityInstanceId = b.ActivityInstanceId, CorrelationId = instance.CorrelationId, ResumeAt = b.ResumeAt, CreatedAt = b.CreatedAt,
                }).ToList(),
            }, CancellationToken.None);
        }
    }

    /// <summary>Saves the latest reported progress at most every <see cref="ProgressSaveInterval"/>, off the activity's thread.</summary>
    private sealed class ProgressSaver
    {
        private readonly WorkflowRuntime _runtime;
        private readonly string _instanceId, _bookmarkId, _activityId, _activityInstanceId;
        private readonly SemaphoreSlim _signal = new(0, 1);
        private readonly CancellationTokenSource _stop = new();
        private readonly Lock _gate = new();
        private Dictionary<string, object?>? _latest;
        private Task? _loop;

        public ProgressSaver(WorkflowRuntime runtime, string instanceId, string bookmarkId, string activityId, string activityInstanceId)
        {
            _runtime = runtime;
            (_instanceId, _bookmarkId, _activityId, _activityInstanceId) = (instanceId, bookmarkId, activityId, activityInstanceId);
        }

        public void Report(double percent, string? message)
        {
            lock (_gate)
            {
                _latest = ProgressValue(percent, message, _runtime._engine.Clock.GetUtcNow());
                _loop ??= Task.Run(LoopAsync);
            }
            try { _signal.Release(); } catch (SemaphoreFullException) { /* already signalled */ }
        }

        private async Task LoopAsync()
        {
            try
            {
                while (true)
                {
                    await _signal.WaitAsync(_stop.Token);
                    Dictionary<string, object?>? value;
                    lock (_gate) (value, _latest) = (_latest, null);
                    if (value is not null)
                    {
                        try { await _runtime.SaveProgressAsync(_instanceId, _bookmarkId, _activityId, _activityInstanceId, value); }
                        catch (Exception e) when (e is not OperationCanceledException)
                        {
                            _runtime._logger.LogWarning(e, "Progress of {ActivityId} in {InstanceId} could not be saved.", _activityId, _instanceId);
                        }
                    }
                    await Task.Delay(ProgressSaveInterval, _stop.Token);
                }
            }
            catch (OperationCanceledException) { /* stopped */ }
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            Task? loop;
            lock (_gate) loop = _loop;
            if (loop is not null) await loop;
            _stop.Dispose();
        }
    }

    /// <summary>The stored shape of a progress report.</summary>
    internal static Dictionary<string, object?> ProgressValue(double percent, string? message, DateTimeOffset at) => new()
    {
        ["percent"] = Math.Round(Math.Clamp(percent, 0, 100), 2), ["message"] = message, ["updatedAt"] = at,
    };
}
