using System.Reflection;

namespace Platform.Activities;

/// <summary>
/// The base class of every activity. Inputs are <see cref="Input{T}"/> properties, outputs are <see cref="Output{T}"/>
/// properties and outcomes are declared with <see cref="FlowNodeAttribute"/>.
/// </summary>
/// <remarks>
/// Services come from the context (<see cref="ActivityExecutionContext.GetRequiredService{T}"/>), not from the constructor:
/// activities are created from workflow JSON. Use <see cref="ActivityExecutionContext.UtcNow"/>, never <c>DateTime.Now</c>.
/// </remarks>
/// <example><code>
/// [Activity("Platform", "Text", "Upper-cases a text.")]
/// [FlowNode("Done", "Empty")]
/// public class Upper : Activity
/// {
///     [Input(Description = "The text.")] public Input&lt;string&gt; Text { get; set; } = new("");
///     [Output] public Output&lt;string&gt; Result { get; set; } = new();
///     protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
///     {
///         var text = Text.Get(context) ?? "";
///         Result.Set(context, text.ToUpperInvariant());
///         context.Complete(text.Length == 0 ? "Empty" : "Done");
///         return ValueTask.CompletedTask;
///     }
/// }
/// </code></example>
public abstract class Activity
{
    /// <summary>The outcome every activity has unless it declares others.</summary>
    public const string DoneOutcome = "Done";

    /// <summary>The activity's id inside its flowchart.</summary>
    public string Id { get; set; } = "";

    /// <summary>The designer's node id, <c>Workflow1:{flowchartId}:{id}</c>.</summary>
    public string NodeId { get; set; } = "";

    /// <summary>The name given in the designer.</summary>
    public string? Name { get; set; }

    /// <summary>The type name, <c>{Namespace}.{TypeName}</c>.</summary>
    public string Type { get; set; } = "";

    /// <summary>The type version.</summary>
    public int Version { get; set; } = 1;

    /// <summary>Custom properties from the designer (for example <c>canStartWorkflow</c>).</summary>
    public IDictionary<string, object?> CustomProperties { get; set; } = new Dictionary<string, object?>();

    /// <summary>Runs the activity. Call <see cref="ActivityExecutionContext.Complete"/> to pick outcomes, or
    /// <see cref="ActivityExecutionContext.CreateBookmark"/> to suspend; returning without either completes with <c>Done</c>.</summary>
    protected internal abstract ValueTask ExecuteAsync(ActivityExecutionContext context);

    /// <summary>Called when a bookmark of this activity is resumed. <see cref="ActivityExecutionContext.ResumeInput"/>
    /// holds what the resumer passed. The default completes with <c>Done</c>.</summary>
    protected internal virtual ValueTask ResumeAsync(ActivityExecutionContext context)
    {
        context.Complete(DoneOutcome);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// The activity's outcomes (its output ports). The default reads <see cref="FlowNodeAttribute"/>, or <c>Done</c>.
    /// Override for dynamic ports (for example one port per switch case).
    /// </summary>
    public virtual IReadOnlyList<string> GetOutcomes()
    {
        var attr = GetType().GetCustomAttribute<FlowNodeAttribute>();
        return attr?.Outcomes ?? [DoneOutcome];
    }
}
