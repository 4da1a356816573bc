using System.Text.Json.Nodes;

namespace Platform.Server.Apis.Models;

/// <summary>A HATEOAS link; the Studio grants editing from rel <c>publish</c> and "Create workflow" from rel <c>bulk-publish</c>.</summary>
public sealed record LinkModel(string Href, string Rel, string Method);

/// <summary>A workflow definition version in Elsa shape.</summary>
public sealed class WorkflowDefinitionModel
{
    public required string Id { get; init; }
    public required string DefinitionId { get; init; }
    public string? Name { get; init; }
    public string? Description { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public int Version { get; init; }
    public required string ToolVersion { get; init; }
    public required JsonArray Variables { get; init; }
    public required JsonArray Inputs { get; init; }
    public required JsonArray Outputs { get; init; }
    public required JsonArray Outcomes { get; init; }
    public required JsonObject CustomProperties { get; init; }
    public bool IsReadonly { get; init; }
    public bool IsSystem { get; init; }
    public bool IsLatest { get; init; }
    public bool IsPublished { get; init; }
    public string MaterializerName { get; init; } = "Json";
    public string ProviderName { get; init; } = "Default";
    public required JsonObject Options { get; init; }
    public required JsonObject Root { get; init; }
    /// <summary>Null in exports.</summary>
    public IReadOnlyList<LinkModel>? Links { get; init; }
}

/// <summary>A definition version in lists.</summary>
public sealed record WorkflowDefinitionSummaryModel(
    string Id,
    string DefinitionId,
    string? Name,
    string? Description,
    DateTimeOffset CreatedAt,
    int Version,
    bool IsLatest,
    bool IsPublished,
    bool IsReadonly,
    bool IsSystem,
    string MaterializerName,
    bool IsMaterializerAvailable,
    string ToolVersion,
    IReadOnlyList<LinkModel> Links);

/// <summary>A page of definitions.</summary>
public sealed record PagedDefinitionsResponse(IReadOnlyList<WorkflowDefinitionSummaryModel> Items, long TotalCount, IReadOnlyList<LinkModel> Links);

/// <summary>The body of <c>POST /workflow-definitions</c>.</summary>
public sealed record SaveWorkflowDefinitionRequest(JsonObject? Model, bool? Publish);

/// <summary>The answer of save and publish.</summary>
public sealed record SaveWorkflowDefinitionResponse(WorkflowDefinitionModel WorkflowDefinition, bool AlreadyPublished, int ConsumingWorkflowCount);

/// <summary><c>{count}</c>.</summary>
public sealed record CountResponse(long Count);

/// <summary><c>{isUnique}</c>.</summary>
public sealed record IsNameUniqueResponse(bool IsUnique);

/// <summary><c>{consumingWorkflowDefinitionIds}</c>.</summary>
public sealed record ConsumersResponse(IReadOnlyList<string> ConsumingWorkflowDefinitionIds);

/// <summary>The body of the definition bulk actions.</summary>
public sealed record DefinitionIdsRequest(IReadOnlyList<string>? DefinitionIds);

/// <summary>The body of bulk version deletion.</summary>
public sealed record IdsRequest(IReadOnlyList<string>? Ids);

/// <summary>The answer of bulk publish / retract.</summary>
public sealed record BulkPublishResponse(
    IReadOnlyList<string> Published,
    IReadOnlyList<string> AlreadyPublished,
    IReadOnlyList<string> NotFound,
    IReadOnlyList<string> Skipped,
    IReadOnlyList<string> UpdatedConsumers,
    IReadOnlyList<string> Failed,
    IReadOnlyDictionary<string, IReadOnlyList<string>> Warnings);

/// <summary>The answer of bulk retract.</summary>
public sealed record BulkRetractResponse(IReadOnlyList<string> Retracted, IReadOnlyList<string> NotPublished, IReadOnlyList<string> NotFound, IReadOnlyList<string> Failed);

/// <summary><c>{deleted}</c>.</summary>
public sealed record DeletedResponse(int Deleted);

/// <summary><c>{cancelled}</c>.</summary>
public sealed record CancelledResponse(int Cancelled);

/// <summary>The body of <c>POST /workflow-definitions/{id}/execute</c>.</summary>
public sealed record ExecuteWorkflowRequest(string? VersionOptions, JsonObject? Input, string? CorrelationId, string? TriggerActivityId, string? Name);

/// <summary>The answer of execute: the new instance's state.</summary>
public sealed record ExecuteWorkflowResponse(WorkflowStateModel WorkflowState);
