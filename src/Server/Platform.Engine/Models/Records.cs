namespace Platform.Engine.Models;

public enum ActivityStatus { Running, Completed, Canceled, Faulted }

/// <summary>The journal: one record per execution of an activity.</summary>
public sealed class ActivityExecutionRecord
{
    /// <summary>The activity instance id.</summary>
    public required string Id { get; set; }
    public required string WorkflowInstanceId { get; set; }
    public required string ActivityId { get; set; }
    public required string ActivityNodeId { get; set; }
    public required string ActivityType { get; set; }
    public int ActivityTypeVersion { get; set; } = 1;
    public string? ActivityName { get; set; }
    /// <summary>The evaluated inputs (sensitive inputs masked).</summary>
    public Dictionary<string, object?> ActivityState { get; set; } = new();
    /// <summary>Extra data the activity recorded (<c>AddJournalData</c>).</summary>
    public Dictionary<string, object?> Payload { get; set; } = new();
    public Dictionary<string, object?> Outputs { get; set; } = new();
    public List<string> Outcomes { get; set; } = [];
    public ExceptionState? Exception { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public bool HasBookmarks { get; set; }
    public ActivityStatus Status { get; set; } = ActivityStatus.Running;
    /// <summary>Order within the instance.</summary>
    public long Sequence { get; set; }
}

/// <summary>An indexed bookmark, for finding waiting instances by stimulus name and key.</summary>
public sealed class StoredBookmark
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

/// <summary>An indexed trigger of a published definition version.</summary>
public sealed class StoredTrigger
{
    public required string Id { get; set; }
    public required string DefinitionId { get; set; }
    public required string DefinitionVersionId { get; set; }
    public required string ActivityId { get; set; }
    public required string Name { get; set; }
    public string? Key { get; set; }
}

/// <summary>What one burst of execution changed, saved atomically (one transaction).</summary>
public sealed class WorkflowCommit
{
    public required WorkflowInstance Instance { get; init; }
    /// <summary>The instance's complete set of bookmarks after the burst (replaces the stored set).</summary>
    public required IReadOnlyList<StoredBookmark> Bookmarks { get; init; }
    /// <summary>Journal records created or changed in the burst (upsert by id).</summary>
    public required IReadOnlyList<ActivityExecutionRecord> Journal { get; init; }
    /// <summary>Messages queued in the burst (inserted; delivered after the commit).</summary>
    public IReadOnlyList<OutboxMessage> Outbox { get; init; } = [];
    /// <summary>The inbox message this burst processed, marked processed in the same transaction; or null.</summary>
    public string? ProcessedInboxMessageId { get; init; }
    /// <summary>
    /// False when the instance is not to be stored (a run that finished in one burst under <see cref="WorkflowPersistence.OnFaultOnly"/>
    /// or <see cref="WorkflowPersistence.None"/>): then only <see cref="Outbox"/> and the inbox mark are written, in one transaction,
    /// and <see cref="Bookmarks"/> and <see cref="Journal"/> must be empty.
    /// </summary>
    public bool IncludesInstance { get; init; } = true;
}

/// <summary>A page of results.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, long TotalCount);
