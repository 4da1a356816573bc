using System.Text.Json.Nodes;

namespace Platform.Engine.Models;

/// <summary>
/// What the engine stores of an instance whose first burst finishes it (no bookmark left). A workflow that suspends (creates
/// a bookmark) is always stored in full, whatever its mode.
/// </summary>
public enum WorkflowPersistence
{
    /// <summary>The instance and its journal are stored after every burst (the default, except for HTTP workflows).</summary>
    Full,
    /// <summary>A run that finishes in one burst is stored only when it faults; successful runs leave no instance or journal.</summary>
    OnFaultOnly,
    /// <summary>A run that finishes in one burst is never stored, not even when it faults (its fault is logged).</summary>
    None,
}

/// <summary>
/// Reads a workflow's <see cref="WorkflowPersistence"/> from its options. The Studio edits it as the workflow's
/// <c>Commit Strategy</c> (workflow Properties tab), which it stores as <c>options.commitStrategyName</c>; the server lists the three
/// modes under <c>/elsa/api/descriptors/commit-strategies/workflows</c>.
/// </summary>
public static class WorkflowPersistenceModes
{
    /// <summary>The workflow option that holds the mode (Elsa's commit strategy name).</summary>
    public const string OptionName = "commitStrategyName";

    /// <summary>The trigger type whose workflows default to <see cref="WorkflowPersistence.OnFaultOnly"/>.</summary>
    public const string HttpEndpointType = "Elsa.HttpEndpoint";

    /// <summary>The mode named in <paramref name="options"/>, or null when none (or an unknown name) is set.</summary>
    public static WorkflowPersistence? Parse(JsonObject? options)
    {
        if (options?[OptionName] is not JsonValue v || !v.TryGetValue<string>(out var name) || string.IsNullOrWhiteSpace(name)) return null;
        return Enum.TryParse<WorkflowPersistence>(name.Trim(), ignoreCase: true, out var mode) && Enum.IsDefined(mode) ? mode : null;
    }

    /// <summary>
    /// The mode a new instance runs with: the one set on the definition, else <see cref="WorkflowPersistence.OnFaultOnly"/>
    /// when it is started by an HTTP Endpoint trigger, else <see cref="WorkflowPersistence.Full"/>.
    /// </summary>
    public static WorkflowPersistence Resolve(WorkflowDefinition definition, string? triggerActivityType)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return Parse(definition.Options)
               ?? (string.Equals(triggerActivityType, HttpEndpointType, StringComparison.Ordinal) ? WorkflowPersistence.OnFaultOnly : WorkflowPersistence.Full);
    }
}
