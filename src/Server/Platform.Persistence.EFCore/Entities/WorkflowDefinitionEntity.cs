namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>workflow_definitions</c>: one definition version. The JSON parts are stored as text exactly as written.</summary>
public sealed class WorkflowDefinitionEntity
{
    public required string Id { get; set; }
    public required string DefinitionId { get; set; }
    public string? Name { get; set; }
    public string? Description { get; set; }
    public int Version { get; set; }
    public bool IsLatest { get; set; }
    public bool IsPublished { get; set; }
    public bool IsReadonly { get; set; }
    public bool IsSystem { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public required string ToolVersion { get; set; }
    /// <summary>The flowchart (JSON object).</summary>
    public required string Root { get; set; }
    /// <summary>JSON array.</summary>
    public required string Variables { get; set; }
    /// <summary>JSON array.</summary>
    public required string Inputs { get; set; }
    /// <summary>JSON array.</summary>
    public required string Outputs { get; set; }
    /// <summary>JSON array.</summary>
    public required string Outcomes { get; set; }
    /// <summary>JSON object.</summary>
    public required string Options { get; set; }
    /// <summary>JSON object.</summary>
    public required string CustomProperties { get; set; }
}
