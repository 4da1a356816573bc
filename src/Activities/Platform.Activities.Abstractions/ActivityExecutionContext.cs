using Microsoft.Extensions.Logging;

namespace Platform.Activities;

/// <summary>
/// Everything an activity sees while it runs: its evaluated inputs, the workflow's variables, services, the clock,
/// and the means to complete with outcomes or to suspend on a bookmark. Created by the engine.
/// </summary>
public abstract class ActivityExecutionContext : IServiceProvider
{
    /// <summary>The running activity.</summary>
    public abstract Activity Activity { get; }

    /// <summary>The id of this execution of the activity (unique per run of an activity).</summary>
    public abstract string ActivityInstanceId { get; }

    /// <summary>The workflow instance id.</summary>
    public abstract string WorkflowInstanceId { get; }

    /// <summary>The workflow definition id.</summary>
    public abstract string DefinitionId { get; }

    /// <summary>The instance's correlation id (a conversation id, an order number…), settable by activities.</summary>
    public abstract string? CorrelationId { get; set; }

    /// <summary>Cancelled when the instance is cancelled or the host shuts down.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>The current time from the engine's <see cref="TimeProvider"/>.</summary>
    public abstract DateTimeOffset UtcNow { get; }

    /// <summary>The workflow's input (for a trigger, what triggered it).</summary>
    public abstract IReadOnlyDictionary<string, object?> WorkflowInput { get; }

    /// <summary>True when this activity is the trigger that started the workflow: it should complete at once.</summary>
    public abstract bool IsTriggerOfWorkflow { get; }

    /// <summary>While resuming: what the resumer passed. Empty otherwise.</summary>
    public abstract IReadOnlyDictionary<string, object?> ResumeInput { get; }

    /// <summary>While resuming: the bookmark being resumed. Null otherwise.</summary>
    public abstract Bookmark? ResumedBookmark { get; }

    /// <summary>A property bag persisted with the instance, shared by all activities of the instance.</summary>
    public abstract IDictionary<string, object?> Properties { get; }

    /// <summary>A logger for this activity.</summary>
    public abstract ILogger Logger { get; }

    /// <inheritdoc />
    public abstract object? GetService(Type serviceType);

    /// <summary>Gets a service or faults the activity with a message that says what to register.</summary>
    public T GetRequiredService<T>() where T : notnull =>
        (T?)GetService(typeof(T)) ?? throw new ActivityFaultException(FaultCodes.Configuration,
            $"Activity '{Activity.Type}' needs the service {typeof(T).FullName}, which is not registered. " +
            "Enable the feature or pack that provides it in the server's configuration.", nonRetryable: true);

    /// <summary>The evaluated value of an input.</summary>
    public abstract T? Get<T>(Input<T> input);

    /// <summary>Evaluates an expression now (for inputs an activity evaluates lazily, such as switch cases).</summary>
    public abstract ValueTask<object?> EvaluateAsync(Expression expression, Type? targetType = null);

    /// <summary>Sets an output (called by <see cref="Output{T}.Set"/>).</summary>
    public abstract void SetOutput(object output, object? value);

    /// <summary>Gets a workflow variable, or null.</summary>
    public abstract object? GetVariable(string name);

    /// <summary>Gets a workflow variable converted to <typeparamref name="T"/>.</summary>
    public abstract T? GetVariable<T>(string name);

    /// <summary>Sets a workflow variable.</summary>
    public abstract void SetVariable(string name, object? value);

    /// <summary>Sets a named value of the workflow's output.</summary>
    public abstract void SetWorkflowOutput(string name, object? value);

    /// <summary>Completes the activity; the flowchart follows the connections of these outcomes.</summary>
    public abstract void Complete(params string[] outcomes);

    /// <summary>Suspends the activity until the bookmark is resumed; then <see cref="Activity.ResumeAsync"/> runs.</summary>
    public abstract Bookmark CreateBookmark(BookmarkRequest request);

    /// <summary>Adds data to this execution's journal record (shown in the instance viewer).</summary>
    public abstract void AddJournalData(string key, object? value);

    /// <summary>
    /// Reports how far a long-running activity has got. The latest report is kept in the journal record (<c>progress</c>) and,
    /// for activities that run in the background, saved in the instance while they run (property <c>backgroundProgress</c>).
    /// </summary>
    /// <param name="percent">From 0 to 100 (values outside are clamped).</param>
    /// <param name="message">What the activity is doing, for people watching the instance.</param>
    public virtual void ReportProgress(double percent, string? message = null) =>
        AddJournalData("progress", new Dictionary<string, object?> { ["percent"] = Math.Clamp(percent, 0, 100), ["message"] = message });

    /// <summary>
    /// Queues a message for delivery after this run burst is committed (see <see cref="OutboxMessageRequest"/>).
    /// Returns the outbox message id, which is stable across delivery retries.
    /// </summary>
    public abstract string AddOutboxMessage(OutboxMessageRequest request);
}
