using Platform.Activities;

namespace Platform.Engine.Flowchart;

/// <summary>A connection from an activity's outcome port to another activity.</summary>
public sealed record Connection(string SourceId, string SourcePort, string TargetId, string TargetPort)
{
    /// <summary>A stable key, used to track join arrivals.</summary>
    public string Key => $"{SourceId}:{SourcePort}->{TargetId}";
}

/// <summary>
/// A materialised flowchart: activity objects by id and their connections. Graphs are cached per definition version and
/// shared by concurrent runs, so activities must not keep per-run state in fields.
/// </summary>
public sealed class FlowchartGraph
{
    private readonly Dictionary<string, List<Connection>> _outbound;
    private readonly Dictionary<string, List<Connection>> _inbound;

    public FlowchartGraph(string id, string nodeId, IReadOnlyList<Activity> activities, IReadOnlyList<Connection> connections,
        IReadOnlyDictionary<string, VariableDefinition> variables)
    {
        Id = id;
        NodeId = nodeId;
        Activities = activities;
        Connections = connections;
        Variables = variables;
        ById = activities.ToDictionary(a => a.Id, StringComparer.Ordinal);
        _outbound = connections.GroupBy(c => c.SourceId).ToDictionary(g => g.Key, g => g.ToList());
        _inbound = connections.GroupBy(c => c.TargetId).ToDictionary(g => g.Key, g => g.ToList());
    }

    public string Id { get; }
    public string NodeId { get; }
    public IReadOnlyList<Activity> Activities { get; }
    public IReadOnlyList<Connection> Connections { get; }
    public IReadOnlyDictionary<string, Activity> ById { get; }
    /// <summary>Declared workflow variables by name.</summary>
    public IReadOnlyDictionary<string, VariableDefinition> Variables { get; }

    public IReadOnlyList<Connection> Outbound(string activityId) => _outbound.TryGetValue(activityId, out var l) ? l : [];
    public IReadOnlyList<Connection> Inbound(string activityId) => _inbound.TryGetValue(activityId, out var l) ? l : [];

    /// <summary>
    /// Where a run without a trigger starts: the <see cref="IStartActivity"/> if there is one, else every activity without
    /// inbound connections (in document order).
    /// </summary>
    public IReadOnlyList<Activity> StartActivities()
    {
        var start = Activities.FirstOrDefault(a => a is IStartActivity);
        if (start is not null) return [start];
        return Activities.Where(a => Inbound(a.Id).Count == 0).ToList();
    }
}

/// <summary>A declared workflow variable.</summary>
public sealed record VariableDefinition(string Id, string Name, string TypeName, object? DefaultValue);
