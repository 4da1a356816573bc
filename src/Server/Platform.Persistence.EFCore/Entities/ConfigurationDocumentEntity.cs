namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>configuration_documents</c>: one intent set, device, data source… shared by all nodes
/// (<see cref="Platform.Activities.IConfigurationDocuments"/>). <see cref="Key"/> is the id in lower case (ids are case-insensitive).</summary>
public sealed class ConfigurationDocumentEntity
{
    public required string Kind { get; set; }
    public required string Key { get; set; }
    public required string Id { get; set; }
    public required string Json { get; set; }
    public long Revision { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
