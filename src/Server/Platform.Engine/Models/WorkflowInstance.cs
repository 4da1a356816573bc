using Platform.Activities;

namespace Platform.Engine.Models;

public enum WorkflowStatus { Running, Finished }

public enum WorkflowSubStatus { Pending, Executing, Suspended, Finished, Cancelled, Faulted }

/// <summary>A run of a workflow definition version; <see cref="State"/> holds everything needed to resume it.</summary>
public sealed class WorkflowInstance
{
    public required string Id { get; set; }
    public required string DefinitionId { get; set; }
    public required string DefinitionVersionId { get; set; }
    public int Version { get; set; }
    public string? Name { get; set; }
    public string? CorrelationId { get; set; }
    public WorkflowStatus Status { get; set; } = WorkflowStatus.Running;
    public WorkflowSubStatus SubStatus { get; set; } = WorkflowSubStatus.Pending;
    public int IncidentCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? ParentInstanceId { get; set; }
    public WorkflowState State { get; set; } = new();
}

/// <summary>The serialisable execution state of an instance.</summary>
public sealed class WorkflowState
{
    public Dictionary<string, object?> Variables { get; set; } = new();
    public Dictionary<string, object?> Input { get; set; } = new();
    public Dictionary<string, object?> Output { get; set; } = new();
    public Dictionary<string, object?> Properties { get; set; } = new();
    /// <summary>Outputs by activity id, then output name (for <c>getOutput(activityId, name)</c>).</summary>
    public Dictionary<string, Dictionary<string, object?>> ActivityOutputs { get; set; } = new();
    public List<Bookmark> Bookmarks { get; set; } = [];
    public List<Incident> Incidents { get; set; } = [];
    /// <summary>Work not yet done; non-empty only while running (lets a crashed run continue).</summary>
    public List<WorkItem> Scheduled { get; set; } = [];
    /// <summary>For join activities: the inbound connections that have arrived.</summary>
    public Dictionary<string, List<string>> JoinArrivals { get; set; } = new();
    public WorkflowFault? Fault { get; set; }
    public long JournalSequence { get; set; }
}

/// <summary>A scheduled step: run an activity, or resume one on a bookmark.</summary>
public sealed record WorkItem(string ActivityId)
{
    public string? ViaConnection { get; init; }
    public string? BookmarkId { get; init; }
    public Dictionary<string, object?>? ResumeInput { get; init; }
    public bool IsTrigger { get; init; }
}

public sealed record Incident(string ActivityId, string ActivityNodeId, string ActivityType, string Code, string Message, DateTimeOffset Timestamp)
{
    public ExceptionState? Exception { get; init; }
}

public sealed record WorkflowFault(string Message, string? ActivityId, string Code);

public sealed record ExceptionState(string Type, string Message, string? StackTrace)
{
    public static ExceptionState From(Exception e) => new(e.GetType().FullName ?? e.GetType().Name, e.Message, e.StackTrace);
}
