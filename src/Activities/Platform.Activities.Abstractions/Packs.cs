namespace Platform.Activities;

/// <summary>
/// Starts workflows when something happens. The engine asks a trigger for its keys when a workflow is published
/// and starts the workflow when an event with a matching trigger name and key arrives.
/// </summary>
public interface ITrigger
{
    /// <summary>The keys under which this trigger is indexed, for example <c>GET:/orders</c> for an HTTP endpoint.
    /// Return a single null to match every event of the trigger's type.</summary>
    IEnumerable<string?> GetTriggerKeys(TriggerIndexContext context);
}

/// <summary>
/// A trigger that takes only some of the events under its key, for example messages whose text matches a pattern. The engine
/// asks it before starting an instance; when no trigger accepts an event, the event is treated as unhandled (a message gets
/// the channel's fallback reply).
/// </summary>
public interface ITriggerFilter
{
    /// <summary>True when this trigger starts a workflow for an event with this input. Inputs are read as literals.</summary>
    bool Accepts(TriggerIndexContext context, IReadOnlyDictionary<string, object?> input);
}

/// <summary>Evaluates a trigger's inputs when a workflow is published (literals only; no instance exists yet).</summary>
public abstract class TriggerIndexContext
{
    /// <summary>The workflow definition id.</summary>
    public abstract string DefinitionId { get; }

    /// <summary>The input's literal value converted to <typeparamref name="T"/>, or default.</summary>
    public abstract T? Get<T>(Input<T> input);
}

/// <summary>Runs another workflow; used by sub-workflow activities.</summary>
public interface IWorkflowInvoker
{
    /// <summary>Starts the latest published version of a workflow and runs it until it finishes or suspends.</summary>
    Task<WorkflowInvocationResult> InvokeAsync(WorkflowInvocationRequest request, CancellationToken cancellationToken);
}

/// <summary>A request to run a workflow.</summary>
/// <param name="DefinitionId">The workflow definition id.</param>
public sealed record WorkflowInvocationRequest(string DefinitionId)
{
    /// <summary>The workflow's input.</summary>
    public IDictionary<string, object?> Input { get; init; } = new Dictionary<string, object?>();
    /// <summary>An optional correlation id.</summary>
    public string? CorrelationId { get; init; }
    /// <summary>The instance that asked, if any.</summary>
    public string? ParentInstanceId { get; init; }
}

/// <summary>How a workflow run ended.</summary>
/// <param name="InstanceId">The new instance's id.</param>
/// <param name="SubStatus">Finished, Suspended, Faulted or Cancelled.</param>
/// <param name="Output">The workflow's output.</param>
/// <param name="Error">The fault message, when faulted.</param>
public sealed record WorkflowInvocationResult(string InstanceId, string SubStatus, IReadOnlyDictionary<string, object?> Output, string? Error);

/// <summary>
/// Marks an activity pack. The host registers a pack's activities with <c>AddActivitiesFrom&lt;TPack&gt;()</c>,
/// which finds every concrete <see cref="Activity"/> with <see cref="ActivityAttribute"/> in the pack's assembly.
/// </summary>
public interface IActivityPack
{
    /// <summary>The pack's name, shown in logs.</summary>
    string Name { get; }
}
