namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>audit_log</c>: one append-only audit trail entry (<see cref="Platform.Activities.AuditEntry"/>).</summary>
public sealed class AuditLogEntity
{
    public long Id { get; set; }
    public DateTimeOffset Timestamp { get; set; }
    public required string Action { get; set; }
    public string? Actor { get; set; }
    public required string ActorKind { get; set; }
    public string? IpAddress { get; set; }
    public string? TargetType { get; set; }
    public string? TargetId { get; set; }
    public required string Outcome { get; set; }
    public int Status { get; set; }
    public string? Details { get; set; }
}
