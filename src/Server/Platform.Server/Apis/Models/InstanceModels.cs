using Platform.Engine.Models;

namespace Platform.Server.Apis.Models;

/// <summary>An instance in lists.</summary>
public class WorkflowInstanceSummaryModel
{
    public required string Id { get; init; }
    public required string DefinitionId { get; init; }
    public required string DefinitionVersionId { get; init; }
    public int Version { get; init; }
    public WorkflowStatus Status { get; init; }
    public WorkflowSubStatus SubStatus { get; init; }
    public string? CorrelationId { get; init; }
    public string? Name { get; init; }
    public int IncidentCount { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>An instance with its state (<c>GET /workflow-instances/{id}</c>).</summary>
public sealed class WorkflowInstanceModel : WorkflowInstanceSummaryModel
{
    public required WorkflowStateModel WorkflowState { get; init; }
}

/// <summary>Elsa's WorkflowState, as the instance viewer reads it.</summary>
public sealed class WorkflowStateModel
{
    public required string Id { get; init; }
    public required string DefinitionId { get; init; }
    public required string DefinitionVersionId { get; init; }
    public int DefinitionVersion { get; init; }
    public string? CorrelationId { get; init; }
    public string? Name { get; init; }
    public WorkflowStatus Status { get; init; }
    public WorkflowSubStatus SubStatus { get; init; }
    public required IReadOnlyList<BookmarkModel> Bookmarks { get; init; }
    public required IReadOnlyList<IncidentModel> Incidents { get; init; }
    public WorkflowFaultModel? Fault { get; init; }
    public IReadOnlyList<object> CompletionCallbacks { get; init; } = [];
    public IReadOnlyList<object> ActivityExecutionContexts { get; init; } = [];
    public required IReadOnlyDictionary<string, object?> Input { get; init; }
    public required IReadOnlyDictionary<string, object?> Output { get; init; }
    public required IReadOnlyDictionary<string, object?> Properties { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A bookmark an instance waits on.</summary>
public sealed record BookmarkModel(
    string Id,
    string Name,
    string? Hash,
    IDictionary<string, object?> Payload,
    string ActivityId,
    string ActivityNodeId,
    string ActivityInstanceId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ResumeAt,
    bool AutoBurn,
    string? CallbackMethodName,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>An incident (a fault recorded against an activity).</summary>
public sealed record IncidentModel(string ActivityId, string ActivityNodeId, string ActivityType, string Message, ExceptionModel? Exception, DateTimeOffset Timestamp, string Code);

/// <summary>An exception, as recorded.</summary>
public sealed record ExceptionModel(string Type, string Message, string? StackTrace, ExceptionModel? InnerException);

/// <summary>Why an instance faulted.</summary>
public sealed record WorkflowFaultModel(ExceptionModel? Exception, string Message, string? FaultedActivityId, string Code);

/// <summary>A page of instances.</summary>
public sealed record PagedInstancesResponse(IReadOnlyList<WorkflowInstanceSummaryModel> Items, long TotalCount);

/// <summary>The body (or query) of the instance list.</summary>
public sealed record ListInstancesRequest
{
    public string? SearchTerm { get; init; }
    public string? DefinitionId { get; init; }
    public IReadOnlyList<string>? DefinitionIds { get; init; }
    public string? CorrelationId { get; init; }
    public string? Status { get; init; }
    public IReadOnlyList<string>? Statuses { get; init; }
    public string? SubStatus { get; init; }
    public IReadOnlyList<string>? SubStatuses { get; init; }
    public int? Page { get; init; }
    public int? PageSize { get; init; }
    public string? OrderBy { get; init; }
    public string? OrderDirection { get; init; }
}

/// <summary>The instance's status (<c>GET /workflow-instances/{id}/execution-state</c>).</summary>
public sealed record ExecutionStateResponse(WorkflowStatus Status, WorkflowSubStatus SubStatus, WorkflowSubStatus WorkflowSubStatus, DateTimeOffset UpdatedAt);

/// <summary>A variable's current value.</summary>
public sealed record ResolvedVariableModel(string Id, string Name, object? Value);

/// <summary>The body of the journal (all optional; query values win).</summary>
public sealed record JournalRequest(int? Skip, int? Take, int? Page, int? PageSize, JournalFilter? Filter);

/// <summary>Restricts the journal to some activities.</summary>
public sealed record JournalFilter(IReadOnlyList<string>? ActivityIds, IReadOnlyList<string>? ActivityNodeIds);

/// <summary>Elsa's WorkflowExecutionLogRecord.</summary>
public sealed record ExecutionLogRecordModel(
    string Id,
    string ActivityInstanceId,
    string? ParentActivityInstanceId,
    string ActivityId,
    string ActivityType,
    int ActivityTypeVersion,
    string? ActivityName,
    string NodeId,
    DateTimeOffset Timestamp,
    long Sequence,
    string EventName,
    string? Message,
    string? Source,
    IReadOnlyDictionary<string, object?>? ActivityState,
    IReadOnlyDictionary<string, object?>? Payload);

/// <summary>A page of journal records.</summary>
public sealed record JournalResponse(IReadOnlyList<ExecutionLogRecordModel> Items, long TotalCount);

/// <summary>The body of <c>POST /activity-executions/report</c>.</summary>
public sealed record ActivityExecutionReportRequest(string? WorkflowInstanceId, IReadOnlyList<string>? ActivityIds, IReadOnlyList<string>? ActivityNodeIds);

/// <summary>Execution counts of one activity node.</summary>
public sealed record ActivityExecutionStatsModel(
    string ActivityId,
    string ActivityNodeId,
    int StartedCount,
    int CompletedCount,
    int UncompletedCount,
    bool IsBlocked,
    bool IsFaulted,
    IReadOnlyDictionary<string, object?> Metadata);

/// <summary><c>{stats}</c>.</summary>
public sealed record ActivityExecutionReportResponse(IReadOnlyList<ActivityExecutionStatsModel> Stats);

/// <summary>Elsa's ActivityExecutionRecord (the summary variant leaves out state, payload and outputs).</summary>
public sealed class ActivityExecutionRecordModel
{
    public required string Id { get; init; }
    public required string WorkflowInstanceId { get; init; }
    public required string ActivityId { get; init; }
    public required string ActivityNodeId { get; init; }
    public required string ActivityType { get; init; }
    public int ActivityTypeVersion { get; init; }
    public string? ActivityName { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, object?>? ActivityState { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, object?>? Payload { get; init; }
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, object?>? Outputs { get; init; }
    public IReadOnlyDictionary<string, object?> Properties { get; init; } = new Dictionary<string, object?>();
    public IReadOnlyDictionary<string, object?> Metadata { get; init; } = new Dictionary<string, object?>();
    public ExceptionModel? Exception { get; init; }
    public IReadOnlyList<string> Outcomes { get; init; } = [];
    public DateTimeOffset StartedAt { get; init; }
    public bool HasBookmarks { get; init; }
    public ActivityStatus Status { get; init; }
    public int AggregateFaultCount { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
}

/// <summary>The call stack of an activity execution.</summary>
public sealed record CallStackResponse(string ActivityExecutionId, IReadOnlyList<ActivityExecutionRecordModel> Items, long TotalCount);
