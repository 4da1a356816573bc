using Platform.Engine.Models;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Serialization;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>Copies between engine models and rows. Every call makes new objects, so callers never share state with the store.</summary>
internal static class EntityMapper
{
    public static WorkflowDefinitionEntity ToEntity(WorkflowDefinition d) => new()
    {
        Id = d.Id, DefinitionId = d.DefinitionId, Name = d.Name, Description = d.Description, Version = d.Version, IsLatest = d.IsLatest,
        IsPublished = d.IsPublished, IsReadonly = d.IsReadonly, IsSystem = d.IsSystem, CreatedAt = d.CreatedAt, ToolVersion = d.ToolVersion,
        Root = PlatformJson.Write(d.Root), Variables = PlatformJson.Write(d.Variables), Inputs = PlatformJson.Write(d.Inputs),
        Outputs = PlatformJson.Write(d.Outputs), Outcomes = PlatformJson.Write(d.Outcomes), Options = PlatformJson.Write(d.Options),
        CustomProperties = PlatformJson.Write(d.CustomProperties),
    };

    public static WorkflowDefinition ToModel(WorkflowDefinitionEntity e) => new()
    {
        Id = e.Id, DefinitionId = e.DefinitionId, Name = e.Name, Description = e.Description, Version = e.Version, IsLatest = e.IsLatest,
        IsPublished = e.IsPublished, IsReadonly = e.IsReadonly, IsSystem = e.IsSystem, CreatedAt = e.CreatedAt, ToolVersion = e.ToolVersion,
        Root = PlatformJson.ReadObject(e.Root), Variables = PlatformJson.ReadArray(e.Variables), Inputs = PlatformJson.ReadArray(e.Inputs),
        Outputs = PlatformJson.ReadArray(e.Outputs), Outcomes = PlatformJson.ReadArray(e.Outcomes), Options = PlatformJson.ReadObject(e.Options),
        CustomProperties = PlatformJson.ReadObject(e.CustomProperties),
    };

    public static WorkflowInstanceEntity ToEntity(WorkflowInstance i) => new()
    {
        Id = i.Id, DefinitionId = i.DefinitionId, DefinitionVersionId = i.DefinitionVersionId, Version = i.Version, Name = i.Name,
        CorrelationId = i.CorrelationId, Status = i.Status, SubStatus = i.SubStatus, IncidentCount = i.IncidentCount, CreatedAt = i.CreatedAt,
        UpdatedAt = i.UpdatedAt, FinishedAt = i.FinishedAt, ParentInstanceId = i.ParentInstanceId, State = PlatformJson.Serialize(i.State),
    };

    public static WorkflowInstance ToModel(WorkflowInstanceEntity e) => new()
    {
        Id = e.Id, DefinitionId = e.DefinitionId, DefinitionVersionId = e.DefinitionVersionId, Version = e.Version, Name = e.Name,
        CorrelationId = e.CorrelationId, Status = e.Status, SubStatus = e.SubStatus, IncidentCount = e.IncidentCount, CreatedAt = e.CreatedAt,
        UpdatedAt = e.UpdatedAt, FinishedAt = e.FinishedAt, ParentInstanceId = e.ParentInstanceId,
        State = PlatformJson.Deserialize(e.State, static () => new WorkflowState()),
    };

    public static BookmarkEntity ToEntity(StoredBookmark b) => new()
    {
        Id = b.Id, WorkflowInstanceId = b.WorkflowInstanceId, Name = b.Name, Key = b.Key, ActivityId = b.ActivityId,
        ActivityInstanceId = b.ActivityInstanceId, CorrelationId = b.CorrelationId, ResumeAt = b.ResumeAt, CreatedAt = b.CreatedAt,
    };

    public static StoredBookmark ToModel(BookmarkEntity e) => new()
    {
        Id = e.Id, WorkflowInstanceId = e.WorkflowInstanceId, Name = e.Name, Key = e.Key, ActivityId = e.ActivityId,
        ActivityInstanceId = e.ActivityInstanceId, CorrelationId = e.CorrelationId, ResumeAt = e.ResumeAt, CreatedAt = e.CreatedAt,
    };

    public static TriggerEntity ToEntity(StoredTrigger t) => new()
    {
        Id = t.Id, DefinitionId = t.DefinitionId, DefinitionVersionId = t.DefinitionVersionId, ActivityId = t.ActivityId, Name = t.Name, Key = t.Key,
    };

    public static StoredTrigger ToModel(TriggerEntity e) => new()
    {
        Id = e.Id, DefinitionId = e.DefinitionId, DefinitionVersionId = e.DefinitionVersionId, ActivityId = e.ActivityId, Name = e.Name, Key = e.Key,
    };

    public static ActivityExecutionEntity ToEntity(ActivityExecutionRecord r) => new()
    {
        Id = r.Id, WorkflowInstanceId = r.WorkflowInstanceId, ActivityId = r.ActivityId, ActivityNodeId = r.ActivityNodeId, ActivityType = r.ActivityType,
        ActivityTypeVersion = r.ActivityTypeVersion, ActivityName = r.ActivityName, ActivityState = PlatformJson.Serialize(r.ActivityState),
        Payload = PlatformJson.Serialize(r.Payload), Outputs = PlatformJson.Serialize(r.Outputs), Outcomes = PlatformJson.Serialize(r.Outcomes),
        Exception = r.Exception is null ? null : PlatformJson.Serialize(r.Exception), StartedAt = r.StartedAt, CompletedAt = r.CompletedAt,
        HasBookmarks = r.HasBookmarks, Status = r.Status, Sequence = r.Sequence,
    };

    public static ActivityExecutionRecord ToModel(ActivityExecutionEntity e) => new()
    {
        Id = e.Id, WorkflowInstanceId = e.WorkflowInstanceId, ActivityId = e.ActivityId, ActivityNodeId = e.ActivityNodeId, ActivityType = e.ActivityType,
        ActivityTypeVersion = e.ActivityTypeVersion, ActivityName = e.ActivityName,
        ActivityState = PlatformJson.Deserialize(e.ActivityState, static () => new Dictionary<string, object?>()),
        Payload = PlatformJson.Deserialize(e.Payload, static () => new Dictionary<string, object?>()),
        Outputs = PlatformJson.Deserialize(e.Outputs, static () => new Dictionary<string, object?>()),
        Outcomes = PlatformJson.Deserialize(e.Outcomes, static () => new List<string>()),
        Exception = e.Exception is null ? null : PlatformJson.Deserialize<ExceptionState?>(e.Exception, static () => null),
        StartedAt = e.StartedAt, CompletedAt = e.CompletedAt, HasBookmarks = e.HasBookmarks, Status = e.Status, Sequence = e.Sequence,
    };
}
