using System.Text.Json.Nodes;
using Platform.Engine.Models;

namespace Platform.Engine.Contracts;

/// <summary>
/// Manages definition versions with Elsa semantics: a definition has at most one published version and at most one
/// draft (the latest). Saving over a published latest version creates a new draft version.
/// </summary>
public interface IWorkflowDefinitionService
{
    /// <summary>Saves the Studio's model (Elsa's <c>SaveWorkflowDefinitionRequest.model</c>), optionally publishing it.</summary>
    Task<SaveDefinitionResult> SaveAsync(JsonObject model, bool publish, CancellationToken ct = default);
    Task<PublishDefinitionResult> PublishAsync(string definitionId, CancellationToken ct = default);
    /// <summary>Unpublishes the published version; null when none.</summary>
    Task<WorkflowDefinition?> RetractAsync(string definitionId, CancellationToken ct = default);
    /// <summary>Deletes all versions and the definition's triggers; false when unknown.</summary>
    Task<bool> DeleteAsync(string definitionId, CancellationToken ct = default);
    /// <summary>Deletes one version; false when unknown or when it is the only version.</summary>
    Task<bool> DeleteVersionAsync(string id, CancellationToken ct = default);
    Task<WorkflowDefinition?> GetAsync(string definitionId, VersionOptions versionOptions, CancellationToken ct = default);
    Task<WorkflowDefinition?> GetByIdAsync(string id, CancellationToken ct = default);
    /// <summary>Checks a model: unknown activity types, broken connections, SQL with interpolated expressions (via validators).</summary>
    Task<IReadOnlyList<ValidationError>> ValidateAsync(JsonObject model, CancellationToken ct = default);
    /// <summary>Copies a version's content into a new draft (Elsa "revert").</summary>
    Task<WorkflowDefinition?> RevertAsync(string definitionId, int version, CancellationToken ct = default);
}

public sealed record SaveDefinitionResult(WorkflowDefinition Definition, bool AlreadyPublished, int ConsumingWorkflowCount);
public sealed record PublishDefinitionResult(WorkflowDefinition Definition, bool AlreadyPublished);

public sealed record ValidationError(string Message, string? ActivityId = null);

/// <summary>Thrown by <see cref="IWorkflowDefinitionService.SaveAsync"/> when validation fails; maps to 400.</summary>
public sealed class WorkflowValidationException(IReadOnlyList<ValidationError> errors)
    : Exception("The workflow is not valid: " + string.Join("; ", errors.Select(e => e.ActivityId is null ? e.Message : $"{e.ActivityId}: {e.Message}")))
{
    public IReadOnlyList<ValidationError> Errors { get; } = errors;
}

/// <summary>Extra checks run when a definition is saved (packs add their own, e.g. the database pack rejects SQL that interpolates).</summary>
public interface IWorkflowValidator
{
    IEnumerable<ValidationError> Validate(Flowchart.FlowchartGraph graph);
}
