using Platform.Engine.Models;

namespace Platform.Engine.Contracts;

/// <summary>Filter for definition queries. Null fields do not filter.</summary>
public sealed record WorkflowDefinitionFilter
{
    public string? Id { get; init; }
    public string? DefinitionId { get; init; }
    public IReadOnlyCollection<string>? DefinitionIds { get; init; }
    public VersionOptions? VersionOptions { get; init; }
    public string? Name { get; init; }
    /// <summary>Case-insensitive substring of name or description.</summary>
    public string? SearchTerm { get; init; }
    public bool? IsSystem { get; init; }
}

public sealed record PageArgs(int Skip = 0, int Take = 100);

/// <summary>Stores definition versions.</summary>
public interface IWorkflowDefinitionStore
{
    Task<WorkflowDefinition?> FindAsync(WorkflowDefinitionFilter filter, CancellationToken ct = default);
    /// <summary>Ordered by name, then definition id, then version.</summary>
    Task<Page<WorkflowDefinition>> FindManyAsync(WorkflowDefinitionFilter filter, PageArgs page, CancellationToken ct = default);
    /// <summary>Inserts or updates each version (by <see cref="WorkflowDefinition.Id"/>) in one transaction.</summary>
    Task SaveManyAsync(IEnumerable<WorkflowDefinition> definitions, CancellationToken ct = default);
    /// <summary>Deletes the matching versions; returns how many.</summary>
    Task<int> DeleteManyAsync(WorkflowDefinitionFilter filter, CancellationToken ct = default);
}

/// <summary>Filter for instance queries. Null fields do not filter.</summary>
public sealed record WorkflowInstanceFilter
{
    public string? Id { get; init; }
    public IReadOnlyCollection<string>? Ids { get; init; }
    public string? DefinitionId { get; init; }
    public IReadOnlyCollection<string>? DefinitionIds { get; init; }
    public string? DefinitionVersionId { get; init; }
    public string? CorrelationId { get; init; }
    public IReadOnlyCollection<WorkflowStatus>? Statuses { get; init; }
    public IReadOnlyCollection<WorkflowSubStatus>? SubStatuses { get; init; }
    /// <summary>Case-insensitive substring of name, id, correlation id or definition id.</summary>
    public string? SearchTerm { get; init; }
}

public enum InstanceOrderBy { CreatedAt, UpdatedAt, FinishedAt, Name }

/// <summary>Stores instances; state is saved through <see cref="IWorkflowCommitStore"/>.</summary>
public interface IWorkflowInstanceStore
{
    Task<WorkflowInstance?> FindAsync(string id, CancellationToken ct = default);
    Task<Page<WorkflowInstance>> FindManyAsync(WorkflowInstanceFilter filter, PageArgs page, InstanceOrderBy orderBy = InstanceOrderBy.CreatedAt,
        bool descending = true, CancellationToken ct = default);
    /// <summary>Deletes instances with their bookmarks and journal; returns how many instances.</summary>
    Task<int> DeleteManyAsync(WorkflowInstanceFilter filter, CancellationToken ct = default);
}

/// <summary>Saves one burst of execution atomically.</summary>
public interface IWorkflowCommitStore
{
    Task CommitAsync(WorkflowCommit commit, CancellationToken ct = default);
}

public interface IBookmarkStore
{
    /// <summary>Bookmarks with this name; when <paramref name="key"/> is not null, only those with this key.</summary>
    Task<IReadOnlyList<StoredBookmark>> FindAsync(string name, string? key, CancellationToken ct = default);
    Task<IReadOnlyList<StoredBookmark>> FindByInstanceAsync(string workflowInstanceId, CancellationToken ct = default);
    Task<StoredBookmark?> FindByIdAsync(string bookmarkId, CancellationToken ct = default);
    /// <summary>Bookmarks whose <see cref="StoredBookmark.ResumeAt"/> is at or before <paramref name="before"/>.</summary>
    Task<IReadOnlyList<StoredBookmark>> FindDueAsync(DateTimeOffset before, int take, CancellationToken ct = default);
}

public interface ITriggerStore
{
    /// <summary>Replaces all triggers of a definition (all its versions) with these.</summary>
    Task ReplaceAsync(string definitionId, IReadOnlyList<StoredTrigger> triggers, CancellationToken ct = default);
    /// <summary>Triggers with this name whose key equals <paramref name="key"/> or is null.</summary>
    Task<IReadOnlyList<StoredTrigger>> FindAsync(string name, string? key, CancellationToken ct = default);
    /// <summary>All triggers with this name (for example every cron trigger).</summary>
    Task<IReadOnlyList<StoredTrigger>> FindByNameAsync(string name, CancellationToken ct = default);
}

public sealed record ActivityExecutionFilter
{
    public string? WorkflowInstanceId { get; init; }
    public string? ActivityNodeId { get; init; }
    public string? ActivityId { get; init; }
}

public interface IActivityExecutionStore
{
    Task<ActivityExecutionRecord?> FindAsync(string id, CancellationToken ct = default);
    /// <summary>Ordered by <see cref="ActivityExecutionRecord.Sequence"/>.</summary>
    Task<Page<ActivityExecutionRecord>> FindManyAsync(ActivityExecutionFilter filter, PageArgs page, CancellationToken ct = default);
}
