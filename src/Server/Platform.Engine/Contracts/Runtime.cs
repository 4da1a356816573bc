using Platform.Engine.Models;

namespace Platform.Engine.Contracts;

/// <summary>Starts, resumes, triggers and cancels workflow instances. Thread-safe; one instance runs on one thread at a time.</summary>
public interface IWorkflowRuntime
{
    /// <summary>Creates an instance of a definition and runs it until it finishes, suspends or faults.</summary>
    Task<RunWorkflowResult> StartAsync(StartWorkflowRequest request, CancellationToken ct = default);

    /// <summary>Resumes an instance at one of its bookmarks.</summary>
    Task<RunWorkflowResult> ResumeAsync(ResumeWorkflowRequest request, CancellationToken ct = default);

    /// <summary>
    /// Delivers a stimulus: resumes every bookmark with this name and key, and starts every published workflow whose
    /// trigger has this name and key (or a null key).
    /// </summary>
    Task<IReadOnlyList<RunWorkflowResult>> TriggerAsync(TriggerRequest request, CancellationToken ct = default);

    /// <summary>Cancels a running or suspended instance. False when it is already finished or unknown.</summary>
    Task<bool> CancelAsync(string instanceId, CancellationToken ct = default);

    /// <summary>Continues an instance that has scheduled work left (after a crash). Used at start-up.</summary>
    Task<RunWorkflowResult?> ContinueAsync(string instanceId, CancellationToken ct = default);

    /// <summary>
    /// Runs a Faulted instance again from the activity that failed: clears the fault and runs that activity anew.
    /// Throws <see cref="WorkflowRequestException"/>: NotFound for an unknown id, Conflict when the instance is not faulted.
    /// </summary>
    Task<RunWorkflowResult> RetryAsync(string instanceId, CancellationToken ct = default);

    /// <summary>
    /// Whether a stored trigger takes an event with this input: true unless its activity is an <c>ITriggerFilter</c> that
    /// declines (a Message Received whose text pattern does not match). Uses the cached graph of the published version.
    /// </summary>
    Task<bool> TriggerAcceptsAsync(StoredTrigger trigger, IReadOnlyDictionary<string, object?> input, CancellationToken ct = default);
}

public sealed record StartWorkflowRequest(string DefinitionId)
{
    /// <summary>Defaults to Published; the Studio's "run" uses Latest.</summary>
    public VersionOptions VersionOptions { get; init; } = VersionOptions.Published;
    /// <summary>A specific version id instead of <see cref="DefinitionId"/> + <see cref="VersionOptions"/>.</summary>
    public string? DefinitionVersionId { get; init; }
    public IDictionary<string, object?> Input { get; init; } = new Dictionary<string, object?>();
    public string? CorrelationId { get; init; }
    /// <summary>Start at this trigger activity instead of the flowchart's start.</summary>
    public string? TriggerActivityId { get; init; }
    /// <summary>Use this id for the new instance.</summary>
    public string? InstanceId { get; init; }
    public string? ParentInstanceId { get; init; }
    public IDictionary<string, object?>? Properties { get; init; }
    /// <summary>The inbox message that causes this run; it is marked processed in the run's commit.</summary>
    public string? InboxMessageId { get; init; }
}

public sealed record ResumeWorkflowRequest(string InstanceId, string BookmarkId)
{
    public IDictionary<string, object?> Input { get; init; } = new Dictionary<string, object?>();
    /// <summary>The inbox message that causes this run; it is marked processed in the run's commit.</summary>
    public string? InboxMessageId { get; init; }
}

public sealed record TriggerRequest(string Name, string? Key)
{
    public IDictionary<string, object?> Input { get; init; } = new Dictionary<string, object?>();
    public string? CorrelationId { get; init; }
    /// <summary>When false, only bookmarks are resumed and no new workflow starts.</summary>
    public bool StartNew { get; init; } = true;
}

/// <summary>The instance after a run burst.</summary>
public sealed record RunWorkflowResult(WorkflowInstance Instance)
{
    public string InstanceId => Instance.Id;
    public WorkflowSubStatus SubStatus => Instance.SubStatus;
}

/// <summary>Thrown for requests that cannot be served: unknown definition, instance or bookmark. Maps to 404/400.</summary>
public sealed class WorkflowRequestException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
    public const string NotFound = "not-found";
    public const string Invalid = "invalid";
    public const string Conflict = "conflict";
}
