using Platform.Activities;
using Platform.Engine.Models;
using Platform.Server.Apis.Models;

namespace Platform.Server.Mapping;

/// <summary>Maps instances and activity execution records to Elsa's shapes.</summary>
public static class InstanceMapper
{
    /// <summary>The list item.</summary>
    public static WorkflowInstanceSummaryModel ToSummary(WorkflowInstance i) => new()
    {
        Id = i.Id, DefinitionId = i.DefinitionId, DefinitionVersionId = i.DefinitionVersionId, Version = i.Version, Status = i.Status,
        SubStatus = i.SubStatus, CorrelationId = i.CorrelationId, Name = i.Name, IncidentCount = i.IncidentCount, CreatedAt = i.CreatedAt,
        UpdatedAt = i.UpdatedAt, FinishedAt = i.FinishedAt,
    };

    /// <summary>The instance with its state.</summary>
    public static WorkflowInstanceModel ToModel(WorkflowInstance i) => new()
    {
        Id = i.Id, DefinitionId = i.DefinitionId, DefinitionVersionId = i.DefinitionVersionId, Version = i.Version, Status = i.Status,
        SubStatus = i.SubStatus, CorrelationId = i.CorrelationId, Name = i.Name, IncidentCount = i.IncidentCount, CreatedAt = i.CreatedAt,
        UpdatedAt = i.UpdatedAt, FinishedAt = i.FinishedAt, WorkflowState = ToState(i),
    };

    /// <summary>Elsa's WorkflowState of an instance.</summary>
    public static WorkflowStateModel ToState(WorkflowInstance i)
    {
        ArgumentNullException.ThrowIfNull(i);
        var s = i.State ?? new WorkflowState();
        return new WorkflowStateModel
        {
            Id = i.Id, DefinitionId = i.DefinitionId, DefinitionVersionId = i.DefinitionVersionId, DefinitionVersion = i.Version,
            CorrelationId = i.CorrelationId, Name = i.Name, Status = i.Status, SubStatus = i.SubStatus,
            Bookmarks = s.Bookmarks.Select(ToModel).ToList(),
            Incidents = s.Incidents.Select(ToModel).ToList(),
            Fault = s.Fault is null ? null : new WorkflowFaultModel(
                s.Incidents.LastOrDefault(x => x.ActivityId == s.Fault.ActivityId)?.Exception is { } e ? ToModel(e) : null,
                s.Fault.Message, s.Fault.ActivityId, s.Fault.Code),
            Input = s.Input, Output = s.Output, Properties = s.Properties,
            CreatedAt = i.CreatedAt, UpdatedAt = i.UpdatedAt, FinishedAt = i.FinishedAt,
        };
    }

    /// <summary>A bookmark.</summary>
    public static BookmarkModel ToModel(Bookmark b) =>
        new(b.Id, b.Name, b.Key, b.Payload, b.ActivityId, b.ActivityNodeId, b.ActivityInstanceId, b.CreatedAt, b.ResumeAt,
            AutoBurn: true, CallbackMethodName: null, new Dictionary<string, string>());

    /// <summary>An incident.</summary>
    public static IncidentModel ToModel(Incident x) =>
        new(x.ActivityId, x.ActivityNodeId, x.ActivityType, x.Message, x.Exception is null ? null : ToModel(x.Exception), x.Timestamp, x.Code);

    /// <summary>An exception.</summary>
    public static ExceptionModel ToModel(ExceptionState e) => new(e.Type, e.Message, e.StackTrace, null);

    /// <summary>An activity execution record; <paramref name="summary"/> leaves out state, payload and outputs.</summary>
    public static ActivityExecutionRecordModel ToModel(ActivityExecutionRecord r, bool summary = false) => new()
    {
        Id = r.Id, WorkflowInstanceId = r.WorkflowInstanceId, ActivityId = r.ActivityId, ActivityNodeId = r.ActivityNodeId,
        ActivityType = r.ActivityType, ActivityTypeVersion = r.ActivityTypeVersion, ActivityName = r.ActivityName ?? r.ActivityId,
        ActivityState = summary ? null : r.ActivityState,
        Payload = summary ? null : r.Payload,
        Outputs = summary ? null : r.Outputs,
        Exception = r.Exception is null ? null : ToModel(r.Exception),
        Outcomes = r.Outcomes,
        StartedAt = r.StartedAt, HasBookmarks = r.HasBookmarks, Status = r.Status,
        AggregateFaultCount = r.Status == ActivityStatus.Faulted ? 1 : 0,
        CompletedAt = r.CompletedAt,
    };
}
