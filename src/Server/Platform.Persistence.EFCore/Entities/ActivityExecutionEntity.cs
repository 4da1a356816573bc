using Platform.Engine.Models;

namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>activity_executions</c> (the journal); deleted with its instance.</summary>
public sealed class ActivityExecutionEntity
{
    public required string Id { get; set; }
    public required string WorkflowInstanceId { get; set; }
    public required string ActivityId { get; set; }
    public required string ActivityNodeId { get; set; }
    public required string ActivityType { get; set; }
    public int ActivityTypeVersion { get; set; }
    public string? ActivityName { get; set; }
    /// <summary>JSON object.</summary>
    public required string ActivityState { get; set; }
    /// <summary>JSON object.</summary>
    public required string Payload { get; set; }
    /// <summary>JSON object.</summary>
    public required string Outputs { get; set; }
    /// <summary>JSON array of strings.</summary>
    public required string Outcomes { get; set; }
    /// <summary>JSON object, or null.</summary>
    public string? Exception { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public bool HasBookmarks { get; set; }
    public ActivityStatus Status { get; set; }
    public long Sequence { get; set; }
}
