using System.Text.Json.Nodes;
using Platform.Engine.Models;
using Platform.Server.Apis.Models;

namespace Platform.Server.Mapping;

/// <summary>Maps definition versions to Elsa's shapes, with the links the Studio needs.</summary>
public static class DefinitionMapper
{
    /// <summary>The list's links: rel <c>bulk-publish</c> enables "Create workflow" in the Studio.</summary>
    public static readonly IReadOnlyList<LinkModel> ListLinks =
        [new("/bulk-actions/publish/workflow-definitions/by-definition-ids", "bulk-publish", "POST")];

    /// <summary>The links of a definition: self, execute, publish, retract, delete.</summary>
    public static IReadOnlyList<LinkModel> Links(string definitionId)
    {
        var id = Uri.EscapeDataString(definitionId);
        return
        [
            new($"/workflow-definitions/by-definition-id/{id}", "self", "GET"),
            new($"/workflow-definitions/{id}/execute", "execute", "POST"),
            new($"/workflow-definitions/{id}/publish", "publish", "POST"),
            new($"/workflow-definitions/{id}/retract", "retract", "POST"),
            new($"/workflow-definitions/{id}", "delete", "DELETE"),
        ];
    }

    /// <summary>The full model; <paramref name="withLinks"/> is false for exports.</summary>
    public static WorkflowDefinitionModel ToModel(WorkflowDefinition d, bool withLinks = true)
    {
        ArgumentNullException.ThrowIfNull(d);
        // Copies: the Studio must always see node ids and non-null containers, even for definitions stored by other means.
        var root = DefinitionNormalizer.RenameFormerTypes(DefinitionNormalizer.NormalizeRoot((JsonObject)d.Root.DeepClone()));
        return new WorkflowDefinitionModel
        {
            Id = d.Id,
            DefinitionId = d.DefinitionId,
            Name = d.Name,
            Description = d.Description,
            CreatedAt = d.CreatedAt,
            Version = d.Version,
            ToolVersion = d.ToolVersion,
            Variables = (JsonArray)d.Variables.DeepClone(),
            Inputs = (JsonArray)d.Inputs.DeepClone(),
            Outputs = (JsonArray)d.Outputs.DeepClone(),
            Outcomes = (JsonArray)d.Outcomes.DeepClone(),
            CustomProperties = (JsonObject)d.CustomProperties.DeepClone(),
            IsReadonly = d.IsReadonly,
            IsSystem = d.IsSystem,
            IsLatest = d.IsLatest,
            IsPublished = d.IsPublished,
            Options = DefinitionNormalizer.NormalizeOptions((JsonObject)d.Options.DeepClone()),
            Root = root,
            Links = withLinks ? Links(d.DefinitionId) : null,
        };
    }

    /// <summary>The list item.</summary>
    public static WorkflowDefinitionSummaryModel ToSummary(WorkflowDefinition d) =>
        new(d.Id, d.DefinitionId, d.Name, d.Description, d.CreatedAt, d.Version, d.IsLatest, d.IsPublished, d.IsReadonly, d.IsSystem,
            "Json", true, d.ToolVersion, Links(d.DefinitionId));
}
