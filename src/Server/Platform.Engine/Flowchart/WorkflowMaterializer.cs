using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Activities;
using Platform.Engine.Descriptors;
using Platform.Engine.Expressions;
using Platform.Engine.Models;

namespace Platform.Engine.Flowchart;

/// <summary>
/// Turns a definition's Elsa 3 flowchart JSON into a <see cref="FlowchartGraph"/> of activity objects, cached per version id.
/// </summary>
public sealed class WorkflowMaterializer
{
    private readonly ActivityRegistry _registry;
    private readonly ConcurrentDictionary<string, FlowchartGraph> _cache = new(StringComparer.Ordinal);

    public WorkflowMaterializer(ActivityRegistry registry)
    {
        _registry = registry;
        // Descriptors can change at run time (e.g. intent sets); drop cached graphs so they pick up the new shape.
        _registry.Changed += _ => _cache.Clear();
    }

    public FlowchartGraph Materialize(WorkflowDefinition definition) =>
        _cache.GetOrAdd(definition.Id, _ => Build(definition.Root, definition.Variables, out List<ValidationProblem> _));

    /// <summary>Drops the cached graph of a version (after it is saved again).</summary>
    public bool TryGetCached(string definitionVersionId, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out FlowchartGraph? graph) =>
        _cache.TryGetValue(definitionVersionId, out graph);

    public void Invalidate(string definitionVersionId)
    {
        _cache.TryRemove(definitionVersionId, out _);
        Invalidated?.Invoke(definitionVersionId);
    }

    /// <summary>Raised when a version is saved again, retracted or deleted, with its id: whoever caches it drops it.</summary>
    public event Action<string>? Invalidated;

    /// <summary>Builds a graph without caching and returns the problems found (unknown types, dangling connections…).</summary>
    public FlowchartGraph Build(JsonObject root, JsonArray? variables, out List<ValidationProblem> problems)
    {
        problems = [];
        var rootId = root["id"].Str() ?? "flowchart";
        var rootNodeId = root["nodeId"].Str() ?? $"Workflow1:{rootId}";
        var vars = ReadVariables(variables);
        var varIdToName = vars.Values.ToDictionary(v => v.Id, v => v.Name);
        var activities = new List<Activity>();
        foreach (var node in root["activities"] as JsonArray ?? [])
        {
            if (node is not JsonObject a) continue;
            var activity = CreateActivity(a, rootNodeId, varIdToName, problems);
            if (activity is not null) activities.Add(activity);
        }
        var ids = activities.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
        var connections = new List<Connection>();
        foreach (var node in root["connections"] as JsonArray ?? [])
        {
            var src = node?["source"]?["activity"].Str();
            var srcPort = node?["source"]?["port"].Str() ?? Activity.DoneOutcome;
            var dst = node?["target"]?["activity"].Str();
            var dstPort = node?["target"]?["port"].Str() ?? "In";
            if (src is null || dst is null || !ids.Contains(src) || !ids.Contains(dst))
            {
                problems.Add(new ValidationProblem($"A connection refers to an activity that does not exist ({src ?? "?"} → {dst ?? "?"}); it is ignored.", src));
                continue;
            }
            connections.Add(new Connection(src, srcPort, dst, dstPort));
        }
        return new FlowchartGraph(rootId, rootNodeId, activities, connections, vars);
    }

    private Activity? CreateActivity(JsonObject a, string parentNodeId, Dictionary<string, string> varIdToName, List<ValidationProblem> problems)
    {
        var type = a["type"].Str();
        var id = a["id"].Str();
        if (string.IsNullOrEmpty(type) || string.IsNullOrEmpty(id))
        {
            problems.Add(new ValidationProblem("An activity has no type or id; it is ignored.", id));
            return null;
        }
        var descriptor = _registry.Find(type);
        Activity activity;
        if (descriptor?.Factory is null)
        {
            problems.Add(new ValidationProblem(type == ActivityRegistry.FlowchartTypeName
                ? "Nested flowcharts are not supported yet; use a Run Workflow activity to call another workflow."
                : $"Activity type '{type}' is not installed on this server. Install its pack or replace the activity.", id));
            activity = new NotInstalledActivity();
        }
        else if (a["version"].Int() is { } storedVersion && storedVersion != descriptor.Version)
        {
            // A pack upgrade that changed an activity's type version: instances (new or suspended) fault on it with an
            // incident instead of running a shape they were not designed for. Same version: they run on the new code.
            var reason = $"Activity type '{type}' version {storedVersion} is used here, but the installed pack provides version {descriptor.Version}. " +
                $"Open the workflow in the designer, replace the activity with the new version and publish, or reinstall the pack version that provides version {storedVersion}.";
            problems.Add(new ValidationProblem(reason, id));
            activity = new NotInstalledActivity { Reason = reason };
            descriptor = null;
        }
        else activity = descriptor.Factory();

        activity.Id = id;
        activity.Type = type;
        activity.NodeId = a["nodeId"].Str() ?? $"{parentNodeId}:{id}";
        activity.Name = a["name"].Str();
        activity.Version = a["version"].Int() ?? 1;
        if (a["customProperties"] is JsonObject cp)
            activity.CustomProperties = (Dictionary<string, object?>)ValueConverter.FromElement(JsonSerializer.SerializeToElement(cp))!;

        if (descriptor?.ClrType is not null) ApplyProperties(activity, a, descriptor.ClrType, varIdToName, problems);
        return activity;
    }

    private static void ApplyProperties(Activity activity, JsonObject a, Type clrType, Dictionary<string, string> varIdToName, List<ValidationProblem> problems)
    {
        var info = ActivityTypeInfo.For(clrType);
        foreach (var input in info.Inputs)
        {
            var node = a[input.JsonName] ?? a[input.Property.Name];
            try
            {
                if (input.IsWrapped)
                {
                    var expression = node is JsonObject o && o["expression"] is JsonObject e
                        ? new Expression(e["type"].Str() ?? ExpressionTypes.Literal, ValueConverter.Normalize(e["value"]))
                        : null;
                    if (expression is null && input.Property.GetValue(activity) is not null) continue; // keep the class default
                    var wrapped = Activator.CreateInstance(input.Property.PropertyType, expression ?? Expression.Literal(null));
                    input.Property.SetValue(activity, wrapped);
                }
                else if (node is not null)
                {
                    input.Property.SetValue(activity, node.Deserialize(input.ValueType, ValueConverter.JsonOptions));
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or NotSupportedException)
            {
                problems.Add(new ValidationProblem($"Input '{input.Property.Name}' is malformed: {ex.Message}", activity.Id));
            }
        }
        foreach (var output in info.Outputs)
        {
            var node = a[char.ToLowerInvariant(output.Name[0]) + output.Name[1..]];
            var varRef = node?["memoryReference"]?["id"].Str();
            if (output.GetValue(activity) is null) output.SetValue(activity, Activator.CreateInstance(output.PropertyType));
            if (varRef is not null && output.GetValue(activity) is { } o)
                o.GetType().GetProperty(nameof(Output<object>.VariableName))!.SetValue(o, varIdToName.GetValueOrDefault(varRef, varRef));
        }
    }

    private static Dictionary<string, VariableDefinition> ReadVariables(JsonArray? variables)
    {
        var result = new Dictionary<string, VariableDefinition>(StringComparer.Ordinal);
        foreach (var v in variables ?? [])
        {
            var name = v?["name"].Str();
            if (string.IsNullOrEmpty(name)) continue;
            var id = v?["id"].Str() ?? name;
            var typeName = v?["typeName"].Str() ?? "Object";
            object? value = ValueConverter.Normalize(v?["value"]);
            if (value is string s && s.Length > 0 && typeName != "String")
            {
                try { value = ValueConverter.Convert(s, TypeAliases.Resolve(typeName)); } catch (Exception e) when (e is FormatException or JsonException or InvalidCastException) { }
            }
            result[name] = new VariableDefinition(id, name, typeName, value);
        }
        return result;
    }
}

/// <summary>Tolerant readers: a value of the wrong JSON type reads as null instead of throwing.</summary>
internal static class JsonNodeReading
{
    public static string? Str(this JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    public static int? Int(this JsonNode? node) =>
        node is JsonValue v ? (v.TryGetValue<int>(out var i) ? i : v.TryGetValue<string>(out var s) && int.TryParse(s, out var j) ? j : null) : null;
}

/// <summary>A problem found while reading a flowchart.</summary>
public sealed record ValidationProblem(string Message, string? ActivityId);

/// <summary>
/// Stands in for an activity type that is not installed, or installed in an incompatible type version; faults (also when a
/// suspended bookmark of it is resumed) with a message that says how to fix it.
/// </summary>
public sealed class NotInstalledActivity : Activity
{
    /// <summary>Why the activity cannot run; null for "not installed".</summary>
    public string? Reason { get; init; }

    /// <inheritdoc />
    protected internal override ValueTask ExecuteAsync(ActivityExecutionContext context) => throw Fault();

    /// <inheritdoc />
    protected internal override ValueTask ResumeAsync(ActivityExecutionContext context) => throw Fault();

    private ActivityFaultException Fault() => new(FaultCodes.Configuration,
        Reason ?? $"Activity type '{Type}' is not installed on this server. Install the pack that provides it, or replace the activity in the designer.",
        nonRetryable: true);
}
