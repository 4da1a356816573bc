using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Expressions;
using Platform.Engine.Flowchart;
using Platform.Engine.Models;

namespace Platform.Engine.Runtime;

/// <summary>The engine's <see cref="IWorkflowRuntime"/>: loads, runs and commits instances, one burst at a time per instance.</summary>
public sealed partial class WorkflowRuntime : IWorkflowRuntime, IWorkflowInvoker
{
    /// <summary>The bookmark name a Run Workflow activity waits on; its key is the child instance id.</summary>
    public const string SubWorkflowBookmarkName = "Elsa.RunWorkflow";

    private readonly IWorkflowDefinitionStore _definitions;
    private readonly IWorkflowInstanceStore _instances;
    private readonly IWorkflowCommitStore _commits;
    private readonly IBookmarkStore _bookmarks;
    private readonly ITriggerStore _triggers;
    private readonly WorkflowMaterializer _materializer;
    private readonly IInstanceLock _lock;
    private readonly IEnumerable<IBookmarkScheduler> _schedulers;
    private readonly EngineServices _engine;
    private readonly ILogger<WorkflowRuntime> _logger;
    private readonly Lazy<IOutboxListener[]> _outboxListenersLazy;
    private IOutboxListener[] _outboxListeners => _outboxListenersLazy.Value;
    // Published versions by id, reused for LookupCacheDuration: every message and resume needs its workflow's version.
    private readonly ConcurrentDictionary<string, (WorkflowDefinition Definition, long Until)> _publishedVersions = new(StringComparer.Ordinal);
    private readonly long _lookupCacheTicks;

    public WorkflowRuntime(IServiceProvider services, IWorkflowDefinitionStore definitions, IWorkflowInstanceStore instances,
        IWorkflowCommitStore commits, IBookmarkStore bookmarks, ITriggerStore triggers, IActivityExecutionStore journal,
        WorkflowMaterializer materializer, ExpressionEvaluator evaluator, IInstanceLock instanceLock, IEnumerable<IBookmarkScheduler> schedulers,
        TimeProvider clock, ILoggerFactory loggerFactory)
    {
        _definitions = definitions;
        _instances = instances;
        _commits = commits;
        _bookmarks = bookmarks;
        _triggers = triggers;
        _materializer = materializer;
        _lock = instanceLock;
        _schedulers = schedulers;
        _engine = new EngineServices(services, evaluator, clock, loggerFactory, journal);
        _logger = loggerFactory.CreateLogger<WorkflowRuntime>();
        _outboxListenersLazy = new(() => services.GetServices<IOutboxListener>().ToArray());
        var lookupCache = services.GetService<IOptions<EngineRuntimeOptions>>()?.Value.LookupCacheDuration ?? new EngineRuntimeOptions().LookupCacheDuration;
        _lookupCacheTicks = lookupCache > TimeSpan.Zero ? (long)(lookupCache.TotalSeconds * clock.TimestampFrequency) : 0;
        _materializer.Invalidated += id => _publishedVersions.TryRemove(id, out _);
    }

    /// <summary>A version by id; published ones (whose content no longer changes) come from a short-lived cache.</summary>
    private async Task<WorkflowDefinition?> FindVersionAsync(string versionId, CancellationToken ct)
    {
        var now = _engine.Clock.GetTimestamp();
        if (_lookupCacheTicks > 0 && _publishedVersions.TryGetValue(versionId, out var hit) && now < hit.Until) return hit.Definition;
        var definition = await _definitions.FindAsync(new WorkflowDefinitionFilter { Id = versionId }, ct);
        if (_lookupCacheTicks > 0 && definition is { IsPublished: true }) _publishedVersions[versionId] = (definition, now + _lookupCacheTicks);
        else _publishedVersions.TryRemove(versionId, out _);
        return definition;
    }

    public async Task<RunWorkflowResult> StartAsync(StartWorkflowRequest request, CancellationToken ct = default)
    {
        var definition = request.DefinitionVersionId is not null
            ? await FindVersionAsync(request.DefinitionVersionId, ct)
            : await _definitions.FindAsync(new WorkflowDefinitionFilter { DefinitionId = request.DefinitionId, VersionOptions = request.VersionOptions }, ct);
        if (definition is null)
            throw new WorkflowRequestException(WorkflowRequestException.NotFound, request.DefinitionVersionId is not null
                ? $"Workflow definition version '{request.DefinitionVersionId}' does not exist."
                : $"Workflow '{request.DefinitionId}' has no {request.VersionOptions} version. Publish it first, or run it with versionOptions=Latest.");

        var graph = _materializer.Materialize(definition);
        var now = _engine.Clock.GetUtcNow();
        var instance = new WorkflowInstance
        {
            Id = request.InstanceId ?? NewId(), DefinitionId = definition.DefinitionId, DefinitionVersionId = definition.Id,
            Version = definition.Version, Name = definition.Name, CorrelationId = request.CorrelationId, CreatedAt = now, UpdatedAt = now,
            ParentInstanceId = request.ParentInstanceId,
        };
        var state = instance.State;
        foreach (var v in graph.Variables.Values) state.Variables[v.Name] = v.DefaultValue;
        foreach (var (k, v) in request.Input) state.Input[k] = ValueConverter.Normalize(v);
        if (request.Properties is not null) foreach (var (k, v) in request.Properties) state.Properties[k] = ValueConverter.Normalize(v);

        if (request.TriggerActivityId is not null)
        {
            if (!graph.ById.ContainsKey(request.TriggerActivityId))
                throw new WorkflowRequestException(WorkflowRequestException.Invalid, $"Activity '{request.TriggerActivityId}' is not part of workflow '{definition.DefinitionId}'.");
            state.Scheduled.Add(new WorkItem(request.TriggerActivityId) { IsTrigger = true });
        }
        else
        {
            foreach (var a in graph.StartActivities()) state.Scheduled.Add(new WorkItem(a.Id) { IsTrigger = a is ITrigger });
        }

        await using (await _lock.AcquireAsync(instance.Id, ct))
        {
            // A caller-chosen id makes a start idempotent (an inbox message processed again after a crash starts nothing new).
            if (request.InstanceId is not null && await _instances.FindAsync(request.InstanceId, ct) is not null)
                throw new WorkflowRequestException(WorkflowRequestException.Conflict, $"Instance '{request.InstanceId}' already exists.");
            var triggerType = request.TriggerActivityId is not null && graph.ById.TryGetValue(request.TriggerActivityId, out var t) ? t.Type : null;
            return await RunAndCommitAsync(instance, graph, request.InboxMessageId, WorkflowPersistenceModes.Resolve(definition, triggerType));
        }
    }

    public async Task<RunWorkflowResult> ResumeAsync(ResumeWorkflowRequest request, CancellationToken ct = default)
    {
        RunWorkflowResult result;
        await using (await _lock.AcquireAsync(request.InstanceId, ct))
        {
            var instance = await LoadAsync(request.InstanceId, ct);
            if (instance.Status == WorkflowStatus.Finished)
                throw new WorkflowRequestException(WorkflowRequestException.Conflict, $"Instance '{instance.Id}' has already finished ({instance.SubStatus}); it cannot be resumed.");
            var bookmark = instance.State.Bookmarks.FirstOrDefault(b => b.Id == request.BookmarkId)
                ?? throw new WorkflowRequestException(WorkflowRequestException.NotFound, $"Instance '{instance.Id}' has no bookmark '{request.BookmarkId}'; it may have been resumed already.");
            var graph = await GraphForAsync(instance, ct);
            instance.State.Scheduled.Add(new WorkItem(bookmark.ActivityId)
            {
                BookmarkId = bookmark.Id, ResumeInput = request.Input.ToDictionary(p => p.Key, p => ValueConverter.Normalize(p.Value)),
            });
            result = await RunAndCommitAsync(instance, graph, request.InboxMessageId);
        }
        return result;
    }

    public async Task<IReadOnlyList<RunWorkflowResult>> TriggerAsync(TriggerRequest request, CancellationToken ct = default)
    {
        var results = new List<RunWorkflowResult>();
        foreach (var b in await _bookmarks.FindAsync(request.Name, request.Key, ct))
        {
            try { results.Add(await ResumeAsync(new ResumeWorkflowRequest(b.WorkflowInstanceId, b.Id) { Input = request.Input }, ct)); }
            catch (WorkflowRequestException e) when (e.Code is WorkflowRequestException.NotFound or WorkflowRequestException.Conflict)
            {
                _logger.LogDebug("Bookmark {BookmarkId} was consumed concurrently: {Message}", b.Id, e.Message);
            }
        }
        if (request.StartNew)
            foreach (var t in await _triggers.FindAsync(request.Name, request.Key, ct))
                results.Add(await StartAsync(new StartWorkflowRequest(t.DefinitionId)
                {
                    DefinitionVersionId = t.DefinitionVersionId, TriggerActivityId = t.ActivityId, Input = request.Input, CorrelationId = request.CorrelationId,
                }, ct));
        return results;
    }

    public async Task<bool> CancelAsync(string instanceId, CancellationToken ct = default)
    {
        await using (await _lock.AcquireAsync(instanceId, ct))
        {
            var instance = await _instances.FindAsync(instanceId, ct);
            if (instance is null || instance.Status == WorkflowStatus.Finished) return false;
            var now = _engine.Clock.GetUtcNow();
            instance.Status = WorkflowStatus.Finished;
            instance.SubStatus = WorkflowSubStatus.Cancelled;
            instance.FinishedAt = now;
            instance.UpdatedAt = now;
            instance.State.Bookmarks.Clear();
            instance.State.Scheduled.Clear();
            await _commits.CommitAsync(new WorkflowCommit { Instance = instance, Bookmarks = [], Journal = [] }, CancellationToken.None);
            return true;
        }
    }

    public async Task<RunWorkflowResult?> ContinueAsync(string instanceId, CancellationToken ct = default)
    {
        await using (await _lock.AcquireAsync(instanceId, ct))
        {
            var instance = await LoadAsync(instanceId, ct);
            if (instance.Status == WorkflowStatus.Finished || instance.State.Scheduled.Count == 0) return null;
            return await RunAndCommitAsync(instance, await GraphForAsync(instance, ct));
        }
    }

    async Task<WorkflowInvocationResult> IWorkflowInvoker.InvokeAsync(WorkflowInvocationRequest request, CancellationToken cancellationToken)
    {
        var r = await StartAsync(new StartWorkflowRequest(request.DefinitionId)
        {
            Input = request.Input, CorrelationId = request.CorrelationId, ParentInstanceId = request.ParentInstanceId,
        }, cancellationToken);
        return new WorkflowInvocationResult(r.InstanceId, r.SubStatus.ToString(), r.Instance.State.Output, r.Instance.State.Fault?.Message);
    }

    /// <param name="persistence">For a new instance, its workflow's mode; a resumed instance is already stored and stays <see cref="WorkflowPersistence.Full"/>.</param>
    private async Task<RunWorkflowResult> RunAndCommitAsync(WorkflowInstance instance, FlowchartGraph graph, string? inboxMessageId = null,
        WorkflowPersistence persistence = WorkflowPersistence.Full)
    {
        // Runs are not tied to the caller's cancellation: a burst that started completes and commits, so nothing is half-done.
        using var inFlight = TrackRun(); // host shutdown waits for it (WorkflowRuntimeShutdown)
        var execution = new WorkflowExecution(instance, graph, _engine, CancellationToken.None);
        await execution.RunAsync();
        var stored = instance.State.Bookmarks.Select(b => new StoredBookmark
        {
            Id = b.Id, WorkflowInstanceId = instance.Id, Name = b.Name, Key = b.Key, ActivityId = b.ActivityId,
            ActivityInstanceId = b.ActivityInstanceId, CorrelationId = instance.CorrelationId, ResumeAt = b.ResumeAt, CreatedAt = b.CreatedAt,
        }).ToList();
        if (KeepsInstance(instance, persistence))
            await _commits.CommitAsync(new WorkflowCommit
            {
                Instance = instance, Bookmarks = stored, Journal = execution.ChangedRecords.ToList(), Outbox = execution.Outbox,
                ProcessedInboxMessageId = inboxMessageId,
            }, CancellationToken.None);
        else
        {
            // Finished in one burst and not to be kept: only the replies it queued and the inbox mark are durable.
            if (execution.Outbox.Count > 0 || inboxMessageId is not null)
                await _commits.CommitAsync(new WorkflowCommit
                {
                    Instance = instance, Bookmarks = [], Journal = [], Outbox = execution.Outbox, ProcessedInboxMessageId = inboxMessageId,
                    IncludesInstance = false,
                }, CancellationToken.None);
            if (instance.SubStatus == WorkflowSubStatus.Faulted)
                _logger.LogWarning("Instance {InstanceId} of {DefinitionId} faulted and is not stored (persistence {Persistence}): {Message}",
                    instance.Id, instance.DefinitionId, persistence, instance.State.Fault?.Message);
        }
        if (execution.Outbox.Count > 0)
            foreach (var l in _outboxListeners) l.OnCommitted(execution.Outbox);

        foreach (var b in stored.Where(b => b.ResumeAt is not null))
            foreach (var s in _schedulers) await s.ScheduleAsync(instance.Id, b.Id, b.ResumeAt!.Value, CancellationToken.None);
        await DispatchBackgroundAsync(execution);

        if (instance.Status == WorkflowStatus.Finished && instance.ParentInstanceId is not null)
            await NotifyParentAsync(instance);
        return new RunWorkflowResult(instance);
    }

    /// <summary>Whether a burst stores its instance: always, unless it finished a new instance whose mode lets it go.</summary>
    internal static bool KeepsInstance(WorkflowInstance instance, WorkflowPersistence persistence) => persistence switch
    {
        _ when instance.Status != WorkflowStatus.Finished || instance.State.Bookmarks.Count > 0 => true,
        WorkflowPersistence.OnFaultOnly => instance.SubStatus == WorkflowSubStatus.Faulted || instance.IncidentCount > 0,
        WorkflowPersistence.None => false,
        _ => true,
    };

    private async Task NotifyParentAsync(WorkflowInstance child)
    {
        foreach (var b in await _bookmarks.FindAsync(SubWorkflowBookmarkName, child.Id, CancellationToken.None))
        {
            try
            {
                await ResumeAsync(new ResumeWorkflowRequest(b.WorkflowInstanceId, b.Id)
                {
                    Input = new Dictionary<string, object?>
                    {
                        ["instanceId"] = child.Id, ["subStatus"] = child.SubStatus.ToString(), ["output"] = child.State.Output,
                        ["error"] = child.State.Fault?.Message,
                    },
                });
            }
            catch (WorkflowRequestException e)
            {
                _logger.LogWarning("Parent {ParentId} of {ChildId} could not be resumed: {Message}", b.WorkflowInstanceId, child.Id, e.Message);
            }
        }
    }

    public async Task<bool> TriggerAcceptsAsync(StoredTrigger trigger, IReadOnlyDictionary<string, object?> input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        if (!_materializer.TryGetCached(trigger.DefinitionVersionId, out var graph))
        {
            var definition = await FindVersionAsync(trigger.DefinitionVersionId, ct);
            if (definition is null) return false; // deleted meanwhile: it starts nothing
            graph = _materializer.Materialize(definition);
        }
        return !graph.ById.TryGetValue(trigger.ActivityId, out var activity) || activity is not ITriggerFilter filter
               || filter.Accepts(new LiteralTriggerIndexContext(trigger.DefinitionId), input);
    }

    private async Task<WorkflowInstance> LoadAsync(string instanceId, CancellationToken ct)
    {
        var instance = await _instances.FindAsync(instanceId, ct)
            ?? throw new WorkflowRequestException(WorkflowRequestException.NotFound, $"Workflow instance '{instanceId}' does not exist.");
        StateNormalizer.Normalize(instance.State);
        return instance;
    }

    private async Task<FlowchartGraph> GraphForAsync(WorkflowInstance instance, CancellationToken ct)
    {
        var definition = await FindVersionAsync(instance.DefinitionVersionId, ct)
            ?? throw new WorkflowRequestException(WorkflowRequestException.Conflict,
                $"Instance '{instance.Id}' belongs to definition version '{instance.DefinitionVersionId}', which was deleted; it cannot continue.");
        return _materializer.Materialize(definition);
    }

    internal static string NewId() => Guid.NewGuid().ToString("N")[..16];
}

/// <summary>State loaded from a store carries JSON elements; turn them back into plain values.</summary>
internal static class StateNormalizer
{
    public static void Normalize(WorkflowState s)
    {
        s.Variables = ValueConverter.NormalizeDictionary(s.Variables);
        s.Input = ValueConverter.NormalizeDictionary(s.Input);
        s.Output = ValueConverter.NormalizeDictionary(s.Output);
        s.Properties = ValueConverter.NormalizeDictionary(s.Properties);
        s.ActivityOutputs = s.ActivityOutputs.ToDictionary(p => p.Key, p => ValueConverter.NormalizeDictionary(p.Value));
        s.Bookmarks = s.Bookmarks.Select(b => b with { Payload = ValueConverter.NormalizeDictionary(b.Payload) }).ToList();
        s.Scheduled = s.Scheduled.Select(w => w.ResumeInput is null ? w : w with { ResumeInput = ValueConverter.NormalizeDictionary(w.ResumeInput) }).ToList();
    }
}
