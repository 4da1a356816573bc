using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities;
using Platform.Persistence.EFCore;
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
    public async Task Should_Copy_The_Old_Audit_Records_Into_The_Audit_Log_When_The_Database_Is_Migrated()
    {
        // Arrange: the database as it was before the fold, with a device command and a pack change in audit_records (at the
        // time of a seed entry, so that the timestamp is stored as the provider stores it).
        var store = Services.GetRequiredService<IAuditLogStore>();
        await store.AppendAsync([new AuditEntry { Timestamp = T0, Action = "test.seed" }], Ct);
        await using var db = await Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct);
        var migrations = db.Database.GetMigrations().ToList();
        var fold = migrations.Single(m => m.EndsWith("_FoldAuditRecords", StringComparison.Ordinal));
        var migrator = db.GetService<IMigrator>();
        await migrator.MigrateAsync(migrations[migrations.IndexOf(fold) - 1], Ct);
        var json = db.Database.ProviderName!.Contains("Npgsql", StringComparison.Ordinal) ? "CAST({1} AS json)" : "{1}";
        var insert = $"INSERT INTO audit_records (kind, at, json) SELECT {{0}}, timestamp, {json} FROM audit_log WHERE action = 'test.seed'";
        await db.Database.ExecuteSqlRawAsync(insert, ["device-commands",
            """{"timestamp":"2025-03-14T13:09:26Z","userId":"owner","channel":"web","deviceId":"front-door","device":"Front door","command":"unlock","result":"Rejected","confirmed":false,"actor":"tests-admin","actorKind":"key"}"""], Ct);
        await db.Database.ExecuteSqlRawAsync(insert, ["packs",
            """{"action":"upgrade","id":"Acme.Weather","version":"2.0.0","previousVersion":"1.0.0","by":"alice","sha512":"abc","source":"upload"}"""], Ct);

        // Act
        await migrator.MigrateAsync(cancellationToken: Ct);
        var copied = await store.QueryAsync(new AuditQuery { From = T0, To = T0.AddMilliseconds(1) }, Ct);

        // Assert: one audit_log entry per record, with the actor, target and outcome; the record as details.
        var device = Assert.Single(copied, e => e.Action == "device.command");
        Assert.Equal(("tests-admin", "key", "devices", "front-door", "denied", T0), (device.Actor, device.ActorKind, device.TargetType, device.TargetId, device.Outcome, device.Timestamp));
        Assert.Contains("\"userId\":\"owner\"", device.Details!.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        var pack = Assert.Single(copied, e => e.Action == "pack.upgrade");
        Assert.Equal(("alice", "packs", "Acme.Weather", "success"), (pack.Actor, pack.TargetType, pack.TargetId, pack.Outcome));
        Assert.False(db.Database.HasPendingModelChanges());
    }
}
