using Microsoft.Extensions.Logging;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Flowchart;
using Platform.Engine.Models;

namespace Platform.Engine.Runtime;

/// <summary>
/// One burst of execution of an instance: runs scheduled work items until none are left, the workflow ends, or it faults.
/// Not thread-safe; the runtime holds the instance's lock while a burst runs.
/// </summary>
internal sealed partial class WorkflowExecution
{
    /// <summary>Guards against endless loops in a flowchart.</summary>
    public const int MaxStepsPerBurst = 10_000;

    private readonly Dictionary<string, ActivityExecutionRecord> _changed = new(StringComparer.Ordinal);

    public WorkflowExecution(WorkflowInstance instance, FlowchartGraph graph, EngineServices engine, CancellationToken ct)
    {
        Instance = instance;
        Graph = graph;
        Services = engine.Services;
        Evaluator = engine.Evaluator;
        Clock = engine.Clock;
        LoggerFactory = engine.LoggerFactory;
        Journal = engine.Journal;
        CancellationToken = ct;
        ExpressionContext = new ExpressionContext
        {
            Variables = State.Variables, Input = State.Input, ActivityOutputs = State.ActivityOutputs, Output = State.Output,
            WorkflowInstanceId = instance.Id, DefinitionId = instance.DefinitionId, CorrelationId = instance.CorrelationId,
            VariableIdToName = graph.Variables.Values.ToDictionary(v => v.Id, v => v.Name),
            Services = engine.Services, Properties = State.Properties,
        };
    }

    public WorkflowInstance Instance { get; }
    public WorkflowState State => Instance.State;
    public FlowchartGraph Graph { get; }
    public IServiceProvider Services { get; }
    public ExpressionEvaluator Evaluator { get; }
    public TimeProvider Clock { get; }
    public ILoggerFactory LoggerFactory { get; }
    public IActivityExecutionStore Journal { get; }
    public CancellationToken CancellationToken { get; }
    public ExpressionContext ExpressionContext { get; }
    public IReadOnlyCollection<ActivityExecutionRecord> ChangedRecords => _changed.Values;
    /// <summary>Messages queued by activities in this burst; committed with the instance.</summary>
    public List<OutboxMessage> Outbox { get; } = [];

    public async Task RunAsync()
    {
        using var span = EngineTelemetry.Source.StartActivity("workflow burst");
        span?.SetTag("workflow.definition_id", Instance.DefinitionId);
        span?.SetTag("workflow.instance_id", Instance.Id);
        await RunBurstAsync();
        var status = Instance.SubStatus.ToString();
        span?.SetTag("workflow.status", status);
        if (Instance.SubStatus == WorkflowSubStatus.Faulted) span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, State.Fault?.Message);
        EngineTelemetry.RecordRun(Instance.DefinitionId, status);
    }

    private async Task RunBurstAsync()
    {
        Instance.Status = WorkflowStatus.Running;
        Instance.SubStatus = WorkflowSubStatus.Executing;
        var steps = 0;
        var ended = false;
        while (State.Scheduled.Count > 0 && !ended && Instance.SubStatus != WorkflowSubStatus.Faulted)
        {
            CancellationToken.ThrowIfCancellationRequested();
            if (++steps > MaxStepsPerBurst)
            {
                Fault(null, FaultCodes.Unhandled, $"The workflow ran more than {MaxStepsPerBurst} steps without pausing; it probably loops forever. Check connections that lead back to earlier activities.", null);
                break;
            }
            var item = State.Scheduled[0];
            State.Scheduled.RemoveAt(0);
            ended = await RunItemAsync(item);
        }
        Finish(ended);
    }

    /// <summary>Runs one work item; returns true when the workflow ended (an End activity completed).</summary>
    private async Task<bool> RunItemAsync(WorkItem item)
    {
        if (!Graph.ById.TryGetValue(item.ActivityId, out var activity))
        {
            LoggerFactory.CreateLogger<WorkflowExecution>().LogWarning("Instance {InstanceId}: scheduled activity {ActivityId} no longer exists; skipped.", Instance.Id, item.ActivityId);
            return false;
        }

        Bookmark? bookmark = null;
        ActivityExecutionRecord record;
        var attempt = 1;
        if (item.BookmarkId is not null)
        {
            bookmark = State.Bookmarks.FirstOrDefault(b => b.Id == item.BookmarkId);
            if (bookmark is null) return false;
            State.Bookmarks.Remove(bookmark);
            attempt = BackgroundActivities.AttemptOf(bookmark);
        }
        if (bookmark?.Name == BackgroundActivities.RetryBookmarkName)
        {
            // A retry runs the activity afresh: a new execution with its own journal record.
            item = new WorkItem(activity.Id) { IsTrigger = bookmark.Payload.ValueOf("isTrigger") is true };
            bookmark = null;
            record = NewRecord(activity);
            record.Payload["attempt"] = attempt;
        }
        else if (bookmark is not null)
        {
            record = _changed.GetValueOrDefault(bookmark.ActivityInstanceId)
                     ?? await Journal.FindAsync(bookmark.ActivityInstanceId, CancellationToken)
                     ?? NewRecord(activity);
            record.HasBookmarks = State.Bookmarks.Any(b => b.ActivityInstanceId == record.Id);
        }
        else
        {
            if (activity is IJoinActivity && !ShouldRunJoin(activity, item)) return false;
            record = NewRecord(activity);
        }
        _changed[record.Id] = record;

        var context = new ActivityContext(this, activity, record, item, bookmark);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var span = EngineTelemetry.Source.StartActivity("activity");
        if (span is not null)
        {
            span.DisplayName = activity.Type;
            span.SetTag("activity.type", activity.Type);
            span.SetTag("activity.id", activity.Id);
            span.SetTag("workflow.instance_id", Instance.Id);
        }
        try
        {
            try
            {
                await context.EvaluateInputsAsync();
                if (activity is IJoinActivity join && item.BookmarkId is null && !JoinReady(activity, join.GetMode(context), item)) 
                {
                    _changed.Remove(record.Id);
                    return false;
                }
                if (bookmark is null && !item.IsTrigger && BackgroundActivities.RunsInBackground(activity)) SuspendForBackground(context, attempt);
                else if (bookmark is null) await ExecuteAsync(activity, context);
                else if (bookmark.Name == BackgroundActivities.BookmarkName) ApplyBackgroundResult(context, activity, record);
                else await activity.ResumeAsync(context);
            }
            catch (OperationCanceledException) when (CancellationToken.IsCancellationRequested) { throw; }
            catch (Exception e)
            {
                span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
                return HandleFault(activity, record, e, item, attempt);
            }
        }
        finally
        {
            EngineTelemetry.RecordActivity(activity.Type, started);
        }

        State.Bookmarks.AddRange(context.Bookmarks);
        if (context.Bookmarks.Count > 0) record.HasBookmarks = true;
        if (context.Outcomes is null && context.Bookmarks.Count > 0) return false; // suspended
        // A completed activity waits for nothing more: a message that arrived drops the timeout's bookmark, and vice versa.
        if (record.HasBookmarks && State.Bookmarks.RemoveAll(b => b.ActivityInstanceId == record.Id) > 0) record.HasBookmarks = false;
        var outcomes = context.Outcomes ?? [Activity.DoneOutcome];
        record.Outcomes = outcomes;
        record.Status = ActivityStatus.Completed;
        record.CompletedAt = Clock.GetUtcNow();
        if (context.EndRequested)
        {
            State.Scheduled.Clear();
            State.Bookmarks.Clear();
            return true;
        }
        Schedule(activity, outcomes);
        return false;
    }

    private static readonly Func<Activity, ActivityExecutionContext, ValueTask> RunInProcess = static (a, c) => a.ExecuteAsync(c);

    /// <summary>Runs the activity, or lets an <see cref="IActivityRunner"/> (a pack host process) run it.</summary>
    internal ValueTask ExecuteAsync(Activity activity, ActivityExecutionContext context) =>
        Services.GetService(typeof(IActivityRunner)) is IActivityRunner runner && runner.TryRun(activity, context, RunInProcess, out var execution)
            ? execution
            : activity.ExecuteAsync(context);

    private void Schedule(Activity activity, IReadOnlyList<string> outcomes)
    {
        foreach (var c in Graph.Outbound(activity.Id))
            if (outcomes.Contains(c.SourcePort, StringComparer.Ordinal))
                State.Scheduled.Add(new WorkItem(c.TargetId) { ViaConnection = c.Key });
    }

    private bool ShouldRunJoin(Activity activity, WorkItem item)
    {
        if (item.ViaConnection is null) return true;
        if (!State.JoinArrivals.TryGetValue(activity.Id, out var arrivals)) State.JoinArrivals[activity.Id] = arrivals = [];
        if (!arrivals.Contains(item.ViaConnection)) arrivals.Add(item.ViaConnection);
        return true;
    }

    private bool JoinReady(Activity activity, JoinMode mode, WorkItem item)
    {
        if (item.ViaConnection is null) return true;
        var inbound = Graph.Inbound(activity.Id).Select(c => c.Key).ToHashSet(StringComparer.Ordinal);
        var arrivals = State.JoinArrivals[activity.Id];
        var allArrived = inbound.All(arrivals.Contains);
        if (mode == JoinMode.WaitAll)
        {
            if (!allArrived) return false;
            State.JoinArrivals.Remove(activity.Id);
            return true;
        }
        // WaitAny: run on the first arrival of a round; the round closes when every branch has arrived.
        var first = arrivals.Count == 1;
        if (allArrived) State.JoinArrivals.Remove(activity.Id);
        return first;
    }

    private bool HandleFault(Activity activity, ActivityExecutionRecord record, Exception e, WorkItem item, int attempt)
    {
        var code = e is ActivityFaultException afe ? afe.Code : FaultCodes.Unhandled;
        var message = e is ActivityFaultException ? e.Message : $"{e.GetType().Name}: {e.Message}";
        record.Status = ActivityStatus.Faulted;
        record.Exception = ExceptionState.From(e);
        record.CompletedAt = Clock.GetUtcNow();
        if (TryScheduleRetry(activity, record, e, item, attempt, message)) return false;
        var incident = new Incident(activity.Id, activity.NodeId, activity.Type, code, message, Clock.GetUtcNow()) { Exception = ExceptionState.From(e) };
        State.Incidents.Add(incident);
        Instance.IncidentCount = State.Incidents.Count;
        EngineTelemetry.RecordIncident(activity.Type);
        LoggerFactory.CreateLogger<WorkflowExecution>().LogWarning(e, "Instance {InstanceId}: activity {ActivityId} ({ActivityType}) faulted: {Message}",
            Instance.Id, activity.Id, activity.Type, message);

        // Continue through a connected "Failed" port when the designer routed failures; otherwise the instance faults.
        var failed = Graph.Outbound(activity.Id).Where(c => c.SourcePort == "Failed").ToList();
        if (failed.Count > 0)
        {
            record.Outcomes = ["Failed"];
            Schedule(activity, ["Failed"]);
            return false;
        }
        Fault(activity, code, message, e);
        return false;
    }

    private void Fault(Activity? activity, string code, string message, Exception? e)
    {
        State.Fault = new WorkflowFault(message, activity?.Id, code);
        if (activity is null)
        {
            State.Incidents.Add(new Incident("", "", "", code, message, Clock.GetUtcNow()));
            EngineTelemetry.RecordIncident("");
        }
        Instance.IncidentCount = State.Incidents.Count;
        Instance.SubStatus = WorkflowSubStatus.Faulted;
        State.Scheduled.Clear();
        _ = e;
    }

    private void Finish(bool ended)
    {
        var now = Clock.GetUtcNow();
        Instance.UpdatedAt = now;
        if (Instance.SubStatus == WorkflowSubStatus.Faulted)
        {
            Instance.Status = WorkflowStatus.Finished;
            Instance.FinishedAt = now;
            State.Bookmarks.Clear();
        }
        else if (!ended && State.Bookmarks.Count > 0)
        {
            Instance.Status = WorkflowStatus.Running;
            Instance.SubStatus = WorkflowSubStatus.Suspended;
        }
        else
        {
            Instance.Status = WorkflowStatus.Finished;
            Instance.SubStatus = WorkflowSubStatus.Finished;
            Instance.FinishedAt = now;
            State.Bookmarks.Clear();
        }
        if (Instance.Status == WorkflowStatus.Finished)
            foreach (var r in _changed.Values.Where(r => r.Status == ActivityStatus.Running))
            {
                r.Status = Instance.SubStatus == WorkflowSubStatus.Faulted ? ActivityStatus.Canceled : ActivityStatus.Completed;
                r.CompletedAt ??= now;
            }
    }

    private ActivityExecutionRecord NewRecord(Activity activity) => new()
    {
        Id = Guid.NewGuid().ToString("N"), WorkflowInstanceId = Instance.Id, ActivityId = activity.Id, ActivityNodeId = activity.NodeId,
        ActivityType = activity.Type, ActivityTypeVersion = activity.Version, ActivityName = activity.Name, StartedAt = Clock.GetUtcNow(),
        Sequence = ++State.JournalSequence,
    };
}

/// <summary>Services a run needs, bundled.</summary>
internal sealed record EngineServices(IServiceProvider Services, ExpressionEvaluator Evaluator, TimeProvider Clock, ILoggerFactory LoggerFactory, IActivityExecutionStore Journal);
