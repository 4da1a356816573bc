namespace Platform.Activities;

/// <summary>The kind of an activity, as shown in the Studio.</summary>
public enum ActivityKind
{
    /// <summary>An ordinary step.</summary>
    Action,
    /// <summary>Starts a workflow when something happens (a message, an HTTP request, a timer).</summary>
    Trigger,
    /// <summary>A step that performs work outside the engine and may take long.</summary>
    Task,
    /// <summary>A step that always runs as a background job.</summary>
    Job,
}

/// <summary>
/// Marks a class as an activity and gives it a type name (<c>{Namespace}.{TypeName}</c>), a category and a description.
/// </summary>
/// <example><code>
/// [Activity("Platform", "AI", "Recognises the intent of a message.")]
/// public class RecognizeIntent : Activity { … }
/// </code></example>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class ActivityAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="namespace">The type name's namespace, for example <c>Platform</c> or <c>Elsa</c>.</param>
    /// <param name="category">The palette category in the Studio.</param>
    /// <param name="description">A one-line description shown in the Studio.</param>
    public ActivityAttribute(string @namespace, string category, string? description = null)
    {
        Namespace = @namespace;
        Category = category;
        Description = description;
    }

    /// <summary>The type name's namespace.</summary>
    public string Namespace { get; }

    /// <summary>The palette category.</summary>
    public string Category { get; }

    /// <summary>A one-line description.</summary>
    public string? Description { get; }

    /// <summary>The type name without namespace; defaults to the class name.</summary>
    public string? TypeName { get; set; }

    /// <summary>The display name; defaults to the class name split into words.</summary>
    public string? DisplayName { get; set; }

    /// <summary>The kind of activity.</summary>
    public ActivityKind Kind { get; set; } = ActivityKind.Action;

    /// <summary>The activity's version; stored with every use so old definitions keep loading.</summary>
    public int Version { get; set; } = 1;

    /// <summary>When false, the activity is not offered in the palette.</summary>
    public bool IsBrowsable { get; set; } = true;
}

/// <summary>Declares the outcomes (output ports) of a flowchart activity.</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class FlowNodeAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="outcomes">The outcome names, for example <c>"Done", "Error"</c>.</param>
    public FlowNodeAttribute(params string[] outcomes) => Outcomes = outcomes;

    /// <summary>The outcome names.</summary>
    public IReadOnlyList<string> Outcomes { get; }
}

/// <summary>Describes an input property of an activity.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class InputAttribute : Attribute
{
    /// <summary>A description shown in the Studio.</summary>
    public string? Description { get; set; }

    /// <summary>The display name; defaults to the property name.</summary>
    public string? DisplayName { get; set; }

    /// <summary>The editor in the Studio: one of <see cref="UIHints"/>; empty picks the editor that suits the input's type.</summary>
    public string? UIHint { get; set; }

    /// <summary>The choices for a <c>dropdown</c>.</summary>
    public string[]? Options { get; set; }

    /// <summary>The default value as literal text.</summary>
    public object? DefaultValue { get; set; }

    /// <summary>The default expression syntax: <c>Literal</c>, <c>JavaScript</c> or <c>Liquid</c>.</summary>
    public string DefaultSyntax { get; set; } = "Literal";

    /// <summary>The position in the property panel.</summary>
    public float Order { get; set; }

    /// <summary>A category to group inputs in the property panel.</summary>
    public string? Category { get; set; }

    /// <summary>When true the value is a secret and is never written to the journal.</summary>
    public bool IsSensitive { get; set; }
}

/// <summary>Describes an output property of an activity.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OutputAttribute : Attribute
{
    /// <summary>A description shown in the Studio.</summary>
    public string? Description { get; set; }

    /// <summary>The display name; defaults to the property name.</summary>
    public string? DisplayName { get; set; }
}
