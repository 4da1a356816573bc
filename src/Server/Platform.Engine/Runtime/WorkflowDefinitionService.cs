using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Platform.Activities;
using Platform.Engine.Contracts;
using Platform.Engine.Descriptors;
using Platform.Engine.Expressions;
using Platform.Engine.Flowchart;
using Platform.Engine.Models;

namespace Platform.Engine.Runtime;

/// <inheritdoc />
public sealed class WorkflowDefinitionService : IWorkflowDefinitionService
{
    private readonly IWorkflowDefinitionStore _store;
    private readonly ITriggerStore _triggers;
    private readonly WorkflowMaterializer _materializer;
    private readonly IEnumerable<IWorkflowValidator> _validators;
    private readonly IEnumerable<IWorkflowPublicationHandler> _handlers;
    private readonly TimeProvider _clock;
    private readonly ILogger<WorkflowDefinitionService> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);

    public WorkflowDefinitionService(IWorkflowDefinitionStore store, ITriggerStore triggers, WorkflowMaterializer materializer,
        IEnumerable<IWorkflowValidator> validators, IEnumerable<IWorkflowPublicationHandler> handlers, TimeProvider clock,
        ILogger<WorkflowDefinitionService> logger)
    {
        _store = store;
        _triggers = triggers;
        _materializer = materializer;
        _validators = validators;
        _handlers = handlers;
        _clock = clock;
        _logger = logger;
    }

    public Task<SaveDefinitionResult> SaveAsync(JsonObject model, bool publish, CancellationToken ct = default) =>
        SaveAsync(model, publish, newVersion: false, ct);

    private async Task<SaveDefinitionResult> SaveAsync(JsonObject model, bool publish, bool newVersion, CancellationToken ct)
    {
        var errors = await ValidateAsync(model, ct);
        if (errors.Count > 0) throw new WorkflowValidationException(errors);

        await _gate.WaitAsync(ct);
        try
        {
            var definitionId = Str(model["definitionId"]) is { Length: > 0 } d ? d : WorkflowRuntime.NewId();
            var latest = await _store.FindAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId, VersionOptions = VersionOptions.Latest }, ct);
            var changed = new List<WorkflowDefinition>();
            WorkflowDefinition target;
            if (latest is null || latest.IsPublished || newVersion)
            {
                if (latest is not null) { latest.IsLatest = false; changed.Add(latest); }
                target = new WorkflowDefinition
                {
                    Id = WorkflowRuntime.NewId(), DefinitionId = definitionId, Version = (latest?.Version ?? 0) + 1, CreatedAt = _clock.GetUtcNow(),
                };
            }
            else target = latest;
            Apply(target, model);
            target.IsLatest = true;
            changed.Add(target);

            var alreadyPublished = false;
            List<StoredTrigger>? triggers = null;
            if (publish)
            {
                var all = await _store.FindManyAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId }, new PageArgs(0, int.MaxValue), ct);
                foreach (var v in all.Items.Where(v => v.IsPublished && v.Id != target.Id)) { v.IsPublished = false; changed.Add(v); }
                alreadyPublished = target.IsPublished;
                target.IsPublished = true;
                triggers = IndexTriggers(target);
            }
            await _store.SaveManyAsync(changed.DistinctBy(v => v.Id), ct);
            _materializer.Invalidate(target.Id);
            if (triggers is not null) await OnPublishedAsync(target, triggers, ct);
            return new SaveDefinitionResult(target, alreadyPublished, 0);
        }
        finally { _gate.Release(); }
    }

    public async Task<PublishDefinitionResult> PublishAsync(string definitionId, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var all = await _store.FindManyAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId }, new PageArgs(0, int.MaxValue), ct);
            var latest = all.Items.FirstOrDefault(v => v.IsLatest) ?? all.Items.MaxBy(v => v.Version)
                ?? throw new WorkflowRequestException(WorkflowRequestException.NotFound, $"Workflow definition '{definitionId}' does not exist.");
            if (latest.IsPublished) return new PublishDefinitionResult(latest, true);
            var changed = all.Items.Where(v => v.IsPublished).ToList();
            foreach (var v in changed) v.IsPublished = false;
            latest.IsPublished = true;
            changed.Add(latest);
            var triggers = IndexTriggers(latest);
            await _store.SaveManyAsync(changed, ct);
            await OnPublishedAsync(latest, triggers, ct);
            return new PublishDefinitionResult(latest, false);
        }
        finally { _gate.Release(); }
    }

    public async Task<WorkflowDefinition?> RetractAsync(string definitionId, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var published = await _store.FindAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId, VersionOptions = VersionOptions.Published }, ct);
            if (published is null) return null;
            published.IsPublished = false;
            await _store.SaveManyAsync([published], ct);
            _materializer.Invalidate(published.Id);
            await _triggers.ReplaceAsync(definitionId, [], ct);
            foreach (var h in _handlers) await h.OnRetractedAsync(definitionId, ct);
            return published;
        }
        finally { _gate.Release(); }
    }

    public async Task<bool> DeleteAsync(string definitionId, CancellationToken ct = default)
    {
        var versions = await _store.FindManyAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId }, new PageArgs(0, int.MaxValue), ct);
        var n = await _store.DeleteManyAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId }, ct);
        foreach (var v in versions.Items) _materializer.Invalidate(v.Id);
        if (n == 0) return false;
        await _triggers.ReplaceAsync(definitionId, [], ct);
        foreach (var h in _handlers) await h.OnRetractedAsync(definitionId, ct);
        return true;
    }

    public async Task<bool> DeleteVersionAsync(string id, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var version = await _store.FindAsync(new WorkflowDefinitionFilter { Id = id }, ct);
            if (version is null) return false;
            var all = await _store.FindManyAsync(new WorkflowDefinitionFilter { DefinitionId = version.DefinitionId }, new PageArgs(0, int.MaxValue), ct);
            if (all.Items.Count <= 1) return false;
            await _store.DeleteManyAsync(new WorkflowDefinitionFilter { Id = id }, ct);
            _materializer.Invalidate(id);
            if (version.IsLatest && all.Items.Where(v => v.Id != id).MaxBy(v => v.Version) is { } newest)
            {
                newest.IsLatest = true;
                await _store.SaveManyAsync([newest], ct);
            }
            if (version.IsPublished)
            {
                await _triggers.ReplaceAsync(version.DefinitionId, [], ct);
                foreach (var h in _handlers) await h.OnRetractedAsync(version.DefinitionId, ct);
            }
            return true;
        }
        finally { _gate.Release(); }
    }

    public Task<WorkflowDefinition?> GetAsync(string definitionId, VersionOptions versionOptions, CancellationToken ct = default) =>
        _store.FindAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId, VersionOptions = versionOptions }, ct);

    public Task<WorkflowDefinition?> GetByIdAsync(string id, CancellationToken ct = default) =>
        _store.FindAsync(new WorkflowDefinitionFilter { Id = id }, ct);

    public Task<IReadOnlyList<ValidationError>> ValidateAsync(JsonObject model, CancellationToken ct = default)
    {
        var errors = new List<ValidationError>();
        if (model["root"] is JsonObject root)
        {
            var graph = _materializer.Build(root, model["variables"] as JsonArray, out _);
            foreach (var v in _validators) errors.AddRange(v.Validate(graph));
        }
        return Task.FromResult<IReadOnlyList<ValidationError>>(errors);
    }

    public async Task<WorkflowDefinition?> RevertAsync(string definitionId, int version, CancellationToken ct = default)
    {
        var source = await _store.FindAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId, VersionOptions = VersionOptions.SpecificVersion(version) }, ct);
        if (source is null) return null;
        // Always a new version: the current draft stays in the history, so reverting never loses work.
        var model = ToModel(source);
        var result = await SaveAsync(model, publish: false, newVersion: true, ct);
        return result.Definition;
    }

    /// <summary>The Studio's model shape of a definition (as saved).</summary>
    public static JsonObject ToModel(WorkflowDefinition d) => new()
    {
        ["definitionId"] = d.DefinitionId, ["name"] = d.Name, ["description"] = d.Description,
        ["variables"] = d.Variables.DeepClone(), ["inputs"] = d.Inputs.DeepClone(), ["outputs"] = d.Outputs.DeepClone(),
        ["outcomes"] = d.Outcomes.DeepClone(), ["options"] = d.Options.DeepClone(), ["customProperties"] = d.CustomProperties.DeepClone(),
        ["root"] = d.Root.DeepClone(),
    };

    private async Task OnPublishedAsync(WorkflowDefinition definition, List<StoredTrigger> triggers, CancellationToken ct)
    {
        await _triggers.ReplaceAsync(definition.DefinitionId, triggers, ct);
        foreach (var h in _handlers) await h.OnPublishedAsync(definition, triggers, ct);
        _logger.LogInformation("Published workflow {DefinitionId} v{Version} with {TriggerCount} trigger(s).", definition.DefinitionId, definition.Version, triggers.Count);
    }

    private List<StoredTrigger> IndexTriggers(WorkflowDefinition definition)
    {
        var graph = _materializer.Build(definition.Root, definition.Variables, out _);
        var result = new List<StoredTrigger>();
        foreach (var activity in graph.Activities)
        {
            if (activity is not ITrigger trigger) continue;
            var canStart = graph.Inbound(activity.Id).Count == 0
                           || (activity.CustomProperties.TryGetValue("canStartWorkflow", out var cs) && cs is true);
            if (!canStart) continue;
            foreach (var key in trigger.GetTriggerKeys(new LiteralTriggerIndexContext(definition.DefinitionId)).Distinct())
                result.Add(new StoredTrigger
                {
                    Id = WorkflowRuntime.NewId(), DefinitionId = definition.DefinitionId, DefinitionVersionId = definition.Id,
                    ActivityId = activity.Id, Name = activity.Type, Key = key,
                });
        }
        return result;
    }

    /// <summary>Fills a version from the Studio's model, assigning node ids and replacing nulls with empty values.</summary>
    private static void Apply(WorkflowDefinition target, JsonObject model)
    {
        target.Name = Str(model["name"]) ?? target.Name ?? "Workflow " + target.DefinitionId;
        target.Description = Str(model["description"]);
        target.Variables = model["variables"] is JsonArray vars ? (JsonArray)vars.DeepClone() : [];
        target.Inputs = model["inputs"] is JsonArray ins ? (JsonArray)ins.DeepClone() : [];
        target.Outputs = model["outputs"] is JsonArray outs ? (JsonArray)outs.DeepClone() : [];
        target.Outcomes = model["outcomes"] is JsonArray ocs ? (JsonArray)ocs.DeepClone() : [];
        target.CustomProperties = model["customProperties"] is JsonObject cp ? (JsonObject)cp.DeepClone() : new JsonObject();
        var options = model["options"] is JsonObject o ? (JsonObject)o.DeepClone() : new JsonObject();
        options["activationStrategyType"] ??= "Elsa.Workflows.ActivationStrategies.AllowAlways";
        options["usableAsActivity"] ??= false;
        options["autoUpdateConsumingWorkflows"] ??= false;
        options["activityCategory"] ??= "Workflows";
        target.Options = options;
        if (model["toolVersion"] is JsonValue tv && Str(tv) is { } tvs) target.ToolVersion = tvs;
        var root = model["root"] is JsonObject r ? (JsonObject)r.DeepClone()
            : new JsonObject { ["type"] = "Elsa.Flowchart", ["version"] = 1, ["id"] = WorkflowRuntime.NewId(), ["name"] = "Flowchart1" };
        AssignNodeIds(root, null);
        target.Root = root;
    }

    /// <summary>Properties that may hold one nested activity, and lists that may hold several (Elsa's containers).</summary>
    private static readonly string[] NestedActivityProperties = ["body", "root", "then", "else"];
    private static readonly string[] NestedActivityLists = ["activities", "branches"];

    /// <summary>
    /// Every activity needs a nodeId ("Workflow1:&lt;rootId&gt;:&lt;childId&gt;") and non-null metadata/customProperties;
    /// a flowchart needs activity and connection arrays. Nested activities are handled recursively.
    /// </summary>
    public static void AssignNodeIds(JsonObject activity, string? parentNodeId)
    {
        if (Str(activity["id"]) is not { Length: > 0 } id || string.IsNullOrWhiteSpace(id)) activity["id"] = id = WorkflowRuntime.NewId();
        var nodeId = parentNodeId is null ? $"Workflow1:{id}" : $"{parentNodeId}:{id}";
        activity["nodeId"] = nodeId;
        if (activity["metadata"] is not JsonObject) activity["metadata"] = new JsonObject();
        if (activity["customProperties"] is not JsonObject) activity["customProperties"] = new JsonObject();
        activity["version"] ??= 1;
        if (Str(activity["type"]) == ActivityRegistry.FlowchartTypeName)
        {
            if (activity["activities"] is not JsonArray) activity["activities"] = new JsonArray();
            if (activity["connections"] is not JsonArray) activity["connections"] = new JsonArray();
        }
        foreach (var list in NestedActivityLists)
            if (activity[list] is JsonArray items)
                foreach (var child in items.OfType<JsonObject>().Where(IsActivity)) AssignNodeIds(child, nodeId);
        foreach (var property in NestedActivityProperties)
            if (activity[property] is JsonObject nested && IsActivity(nested)) AssignNodeIds(nested, nodeId);
    }

    private static bool IsActivity(JsonObject node) => Str(node["type"]) is { Length: > 0 };

    private static string? Str(JsonNode? n) => n.Str();
}
