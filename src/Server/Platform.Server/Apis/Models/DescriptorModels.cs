using Platform.Activities;

namespace Platform.Server.Apis.Models;

// Elsa 3.8 descriptor shapes, as the Studio reads them (camelCase on the wire).

/// <summary>A list wrapper: <c>{items, count}</c>.</summary>
public sealed record ListResponse<T>(IReadOnlyList<T> Items)
{
    /// <summary>The number of items.</summary>
    public int Count => Items.Count;
}

/// <summary>Elsa's activity descriptor.</summary>
public sealed record ActivityDescriptorModel(
    string TypeName,
    string Namespace,
    string Name,
    int Version,
    string Category,
    string DisplayName,
    string Description,
    IReadOnlyList<InputDescriptorModel> Inputs,
    IReadOnlyList<OutputDescriptorModel> Outputs,
    ActivityKind Kind,
    IReadOnlyList<PortModel> Ports,
    IReadOnlyDictionary<string, object?> CustomProperties,
    IReadOnlyDictionary<string, object?> ConstructionProperties,
    bool IsContainer,
    bool IsBrowsable,
    bool IsStart,
    bool IsTerminal);

/// <summary>Elsa's input descriptor.</summary>
public sealed record InputDescriptorModel(
    string Name,
    string TypeName,
    string DisplayName,
    string Description,
    float Order,
    bool IsBrowsable,
    bool IsSynthetic,
    bool IsWrapped,
    string UiHint,
    string? Category,
    object? DefaultValue,
    string DefaultSyntax,
    bool IsReadOnly,
    bool IsSensitive,
    string? StorageDriverType,
    IReadOnlyDictionary<string, object?>? UiSpecifications);

/// <summary>Elsa's output descriptor.</summary>
public sealed record OutputDescriptorModel(string Name, string TypeName, string DisplayName, string Description, float Order, bool IsBrowsable, bool IsSynthetic);

/// <summary>An outcome port.</summary>
public sealed record PortModel(string Name, string DisplayName, string Type, bool IsBrowsable);

/// <summary>The items of a dropdown.</summary>
public sealed record SelectList(IReadOnlyList<SelectListItem> Items, bool IsFlagsEnum);

/// <summary>One dropdown item.</summary>
public sealed record SelectListItem(string Text, string Value);

/// <summary>An expression syntax offered in the property editors.</summary>
public sealed record ExpressionDescriptorModel(string Type, string DisplayName, bool IsSerializable, bool IsBrowsable, IReadOnlyDictionary<string, object?> Properties);

/// <summary>A variable type offered in the variables editor.</summary>
public sealed record VariableDescriptorModel(string TypeName, string DisplayName, string Category, string? Description);

/// <summary>A storage driver for variables.</summary>
public sealed record StorageDriverModel(string TypeName, string DisplayName, int Priority, bool Deprecated);

/// <summary>A named strategy (activation, incident, log persistence, commit).</summary>
public sealed record StrategyModel(string TypeName, string DisplayName, string Description);

/// <summary>A commit strategy.</summary>
public sealed record CommitStrategyModel(string Name, string DisplayName, string Description);

/// <summary><c>{items}</c> without a count, as some Elsa endpoints answer.</summary>
public sealed record ItemsResponse<T>(IReadOnlyList<T> Items);

/// <summary>The package version.</summary>
public sealed record PackageVersionModel(string PackageVersion);
