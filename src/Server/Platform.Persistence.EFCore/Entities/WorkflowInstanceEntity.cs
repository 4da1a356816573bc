using Platform.Engine.Models;

namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>workflow_instances</c>: scalar columns for filtering and sorting, the execution state as JSON.</summary>
public sealed class WorkflowInstanceEntity
{
    public required string Id { get; set; }
    public required string DefinitionId { get; set; }
    public required string DefinitionVersionId { get; set; }
    public int Version { get; set; }
    public string? Name { get; set; }
    public string? CorrelationId { get; set; }
    public WorkflowStatus Status { get; set; }
    public WorkflowSubStatus SubStatus { get; set; }
    public int IncidentCount { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? ParentInstanceId { get; set; }
    /// <summary><see cref="WorkflowState"/> serialised with <see cref="Serialization.PlatformJson.Options"/>.</summary>
    public required string State { get; set; }
}
