using System.Text.Json.Nodes;

namespace Platform.Engine.Models;

/// <summary>
/// One version of a workflow definition, in Elsa 3 shape. <see cref="Root"/> is the flowchart JSON exactly as the Studio
/// saved it (designer positions and unknown properties round-trip).
/// </summary>
public sealed class WorkflowDefinition
{
    /// <summary>The version id (unique per version).</summary>
    public required string Id { get; set; }
    /// <summary>The definition id shared by all versions.</summary>
    public required string DefinitionId { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public int Version { get; set; } = 1;
    /// <summary>True on the newest version (the draft, or the published one when there is no newer draft).</summary>
    public bool IsLatest { get; set; } = true;
    /// <summary>True on the one version that triggers and executes by default.</summary>
    public bool IsPublished { get; set; }
    public bool IsReadonly { get; set; }
    public bool IsSystem { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public string ToolVersion { get; set; } = "3.8.0.0";
    public JsonObject Root { get; set; } = new();
    public JsonArray Variables { get; set; } = [];
    public JsonArray Inputs { get; set; } = [];
    public JsonArray Outputs { get; set; } = [];
    public JsonArray Outcomes { get; set; } = [];
    public JsonObject Options { get; set; } = new();
    public JsonObject CustomProperties { get; set; } = new();

    /// <summary>A deep copy (stores hand out copies so callers cannot mutate cached state).</summary>
    public WorkflowDefinition Clone() => new()
    {
        Id = Id, DefinitionId = DefinitionId, Name = Name, Description = Description, Version = Version, IsLatest = IsLatest,
        IsPublished = IsPublished, IsReadonly = IsReadonly, IsSystem = IsSystem, CreatedAt = CreatedAt, ToolVersion = ToolVersion,
        Root = (JsonObject)Root.DeepClone(), Variables = (JsonArray)Variables.DeepClone(), Inputs = (JsonArray)Inputs.DeepClone(),
        Outputs = (JsonArray)Outputs.DeepClone(), Outcomes = (JsonArray)Outcomes.DeepClone(), Options = (JsonObject)Options.DeepClone(),
        CustomProperties = (JsonObject)CustomProperties.DeepClone(),
    };
}

/// <summary>Which version of a definition to pick (Elsa's <c>versionOptions</c>).</summary>
public readonly record struct VersionOptions(string Kind, int? Version = null)
{
    public static readonly VersionOptions Latest = new("Latest");
    public static readonly VersionOptions Published = new("Published");
    public static readonly VersionOptions LatestOrPublished = new("LatestOrPublished");
    public static readonly VersionOptions LatestAndPublished = new("LatestAndPublished");
    public static readonly VersionOptions Draft = new("Draft");
    public static readonly VersionOptions All = new("All");
    public static VersionOptions SpecificVersion(int version) => new("Version", version);

    /// <summary>Parses Elsa's text form: Latest, Published, LatestOrPublished, LatestAndPublished, Draft, All, or a number.</summary>
    public static bool TryParse(string? text, out VersionOptions options)
    {
        options = LatestOrPublished;
        if (string.IsNullOrWhiteSpace(text)) return true;
        if (int.TryParse(text, out var v)) { options = SpecificVersion(v); return true; }
        foreach (var o in new[] { Latest, Published, LatestOrPublished, LatestAndPublished, Draft, All })
            if (string.Equals(o.Kind, text, StringComparison.OrdinalIgnoreCase)) { options = o; return true; }
        return false;
    }

    public bool Matches(WorkflowDefinition d) => Kind switch
    {
        "Latest" => d.IsLatest,
        "Published" => d.IsPublished,
        "LatestOrPublished" => d.IsLatest || d.IsPublished,
        "LatestAndPublished" => d.IsLatest && d.IsPublished,
        "Draft" => !d.IsPublished,
        "Version" => d.Version == Version,
        _ => true,
    };

    public override string ToString() => Kind == "Version" ? Version!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : Kind;
}
