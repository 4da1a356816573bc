using Platform.Activities;

namespace Platform.Engine.Descriptors;

/// <summary>Describes an activity type for the Studio palette and for materialising activities from JSON.</summary>
public sealed record ActivityDescriptor
{
    /// <summary>The full type name, <c>{Namespace}.{Name}</c>.</summary>
    public required string TypeName { get; init; }
    public required string Namespace { get; init; }
    public required string Name { get; init; }
    public int Version { get; init; } = 1;
    public required string Category { get; init; }
    public required string DisplayName { get; init; }
    public string? Description { get; init; }
    public ActivityKind Kind { get; init; } = ActivityKind.Action;
    public IReadOnlyList<InputDescriptor> Inputs { get; init; } = [];
    public IReadOnlyList<OutputDescriptor> Outputs { get; init; } = [];
    /// <summary>The output ports (outcomes).</summary>
    public IReadOnlyList<string> Outcomes { get; init; } = [Activity.DoneOutcome];
    public bool IsContainer { get; init; }
    public bool IsBrowsable { get; init; } = true;
    public bool IsStart { get; init; }
    public bool IsTerminal { get; init; }
    /// <summary>True for a placeholder served for a type that is not installed.</summary>
    public bool IsPlaceholder { get; init; }
    public IReadOnlyDictionary<string, object?> CustomProperties { get; init; } = new Dictionary<string, object?>();
    /// <summary>The CLR type (null for the flowchart container and placeholders).</summary>
    public Type? ClrType { get; init; }
    /// <summary>Creates a new activity object; configured further from JSON by the materialiser.</summary>
    public Func<Activity>? Factory { get; init; }
}

public sealed record InputDescriptor
{
    /// <summary>The property name (PascalCase); in flowchart JSON the key is camelCase.</summary>
    public required string Name { get; init; }
    /// <summary>The type alias (String, Int32, Boolean, Double, Object, TimeSpan…).</summary>
    public required string TypeName { get; init; }
    public required Type ClrType { get; init; }
    public required string DisplayName { get; init; }
    public string? Description { get; init; }
    public float Order { get; init; }
    public required string UIHint { get; init; }
    public IReadOnlyList<string>? Options { get; init; }
    public object? DefaultValue { get; init; }
    public string DefaultSyntax { get; init; } = ExpressionTypes.Literal;
    public string? Category { get; init; }
    public bool IsSensitive { get; init; }
    /// <summary>True when the property is an <see cref="Input{T}"/> (an expression), false for a plain property.</summary>
    public bool IsWrapped { get; init; } = true;
}

public sealed record OutputDescriptor
{
    public required string Name { get; init; }
    public required string TypeName { get; init; }
    public required Type ClrType { get; init; }
    public required string DisplayName { get; init; }
    public string? Description { get; init; }
}
