namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>triggers</c>: an indexed trigger of a published definition version.</summary>
public sealed class TriggerEntity
{
    public required string Id { get; set; }
    public required string DefinitionId { get; set; }
    public required string DefinitionVersionId { get; set; }
    public required string ActivityId { get; set; }
    public required string Name { get; set; }
    public string? Key { get; set; }
}
