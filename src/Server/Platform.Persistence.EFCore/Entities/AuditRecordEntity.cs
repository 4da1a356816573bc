namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>audit_records</c>: one append-only audit record (<see cref="Platform.Activities.IAuditRecords"/>), e.g. a device command.</summary>
public sealed class AuditRecordEntity
{
    public long Id { get; set; }
    public required string Kind { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Json { get; set; }
}
