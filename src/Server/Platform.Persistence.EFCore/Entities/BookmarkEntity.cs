namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>bookmarks</c>; deleted with its instance.</summary>
public sealed class BookmarkEntity
{
    public required string Id { get; set; }
    public required string WorkflowInstanceId { get; set; }
    public required string Name { get; set; }
    public string? Key { get; set; }
    public required string ActivityId { get; set; }
    public required string ActivityInstanceId { get; set; }
    public string? CorrelationId { get; set; }
    public DateTimeOffset? ResumeAt { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
