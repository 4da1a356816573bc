using Microsoft.Extensions.DependencyInjection;
using Platform.Activities;
using static Platform.Persistence.Tests.TestData;

namespace Platform.Persistence.Tests;

public abstract partial class PersistenceContractTests
{
    protected IConfigurationDocuments Documents => Services.GetRequiredService<IConfigurationDocuments>();

    [Fact]
    public async Task Should_Find_A_Document_Under_Any_Case_When_It_Was_Saved()
    {
        // Arrange
        await Documents.SaveAsync("devices", "Kitchen-Light", """{"id":"Kitchen-Light","name":"Kitchen"}""", Ct);

        // Act
        var found = await Documents.FindAsync("devices", "KITCHEN-light", Ct);
        var otherKind = await Documents.FindAsync("intent-sets", "kitchen-light", Ct);

        // Assert
        Assert.NotNull(found);
        Assert.Equal("Kitchen-Light", found.Id);
        Assert.Equal("""{"id":"Kitchen-Light","name":"Kitchen"}""", found.Json);
        Assert.Null(otherKind);
    }

    [Fact]
    public async Task Should_Change_The_Revision_And_Keep_One_Row_When_A_Document_Is_Saved_Again()
    {
        // Arrange
        var first = await Documents.SaveAsync("devices", "lamp", """{"v":1}""", Ct);

        // Act
        var second = await Documents.SaveAsync("devices", "LAMP", """{"v":2}""", Ct);
        var revisions = await Documents.ListRevisionsAsync("devices", Ct);
        var all = await Documents.ListAsync("devices", Ct);

        // Assert
        Assert.NotEqual(first.Revision, second.Revision);
        var only = Assert.Single(revisions);
        Assert.Equal(second.Revision, only.Revision);
        Assert.Equal("LAMP", only.Id);
        Assert.Equal("""{"v":2}""", Assert.Single(all).Json);
    }

    [Fact]
    public async Task Should_Give_A_New_Revision_When_A_Deleted_Document_Is_Created_Again()
    {
        // Arrange
        var first = await Documents.SaveAsync("data-sources", "crm", """{"v":1}""", Ct);

        // Act
        var deleted = await Documents.DeleteAsync("data-sources", "CRM", Ct);
        var deletedAgain = await Documents.DeleteAsync("data-sources", "crm", Ct);
        var again = await Documents.SaveAsync("data-sources", "crm", """{"v":1}""", Ct);

        // Assert
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.NotEqual(first.Revision, again.Revision);
        Assert.Equal(again.Revision, Assert.Single(await Documents.ListRevisionsAsync("data-sources", Ct)).Revision);
    }

    [Fact]
    public async Task Should_See_Another_Nodes_Change_When_The_Cache_Refreshes()
    {
        // Arrange: two caches over one database stand for two nodes.
        using var nodeA = new ConfigurationDocumentCache<string>(Documents, "notes", s => s.Split(':')[0], s => $"\"{s}\"",
            json => System.Text.Json.JsonSerializer.Deserialize<string>(json)!, TimeSpan.Zero);
        using var nodeB = new ConfigurationDocumentCache<string>(Documents, "notes", s => s.Split(':')[0], s => $"\"{s}\"",
            json => System.Text.Json.JsonSerializer.Deserialize<string>(json)!, TimeSpan.Zero);
        Assert.Empty(await nodeB.ListAsync(Ct));
        var changed = new List<string>();
        nodeB.Changed += changed.Add;

        // Act
        await nodeA.SaveAsync("greeting:hello", Ct);
        await nodeB.RefreshAsync(Ct);
        var afterSave = await nodeB.FindAsync("GREETING", Ct);
        await nodeA.SaveAsync("greeting:hi", Ct);
        await nodeB.RefreshAsync(Ct);
        var afterUpdate = await nodeB.FindAsync("greeting", Ct);
        await nodeA.DeleteAsync("greeting", Ct);
        await nodeB.RefreshAsync(Ct);
        await nodeB.RefreshAsync(Ct); // nothing changed since: no event

        // Assert
        Assert.Equal("greeting:hello", afterSave);
        Assert.Equal("greeting:hi", afterUpdate);
        Assert.Null(await nodeB.FindAsync("greeting", Ct));
        Assert.Equal(["greeting", "greeting", "greeting"], changed);
    }

    [Fact]
    public async Task Should_Read_The_Latest_Audit_Records_Newest_First_When_Several_Were_Appended()
    {
        // Arrange
        var records = Services.GetRequiredService<IAuditRecords>();
        for (var i = 0; i < 3; i++) await records.AppendAsync("device-commands", T0.AddSeconds(i), $$"""{"n":{{i}}}""", Ct);
        await records.AppendAsync("other", T0.AddMinutes(1), """{"n":9}""", Ct);

        // Act
        var latest = await records.ReadLatestAsync("device-commands", 2, Ct);

        // Assert
        Assert.Equal(["""{"n":2}""", """{"n":1}"""], latest);
        Assert.Empty(await records.ReadLatestAsync("device-commands", 0, Ct));
    }
}
