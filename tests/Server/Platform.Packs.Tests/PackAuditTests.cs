using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities;
using Platform.Testing;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>
/// Every install, upgrade, disable, enable and removal is written to the audit trail (<c>audit_log</c>, target type
/// <c>packs</c>) with who did it: the API key's name over the API and from a feed, <c>drop-folder</c> for dropped packages.
/// </summary>
public sealed class PackAuditTests(PackServer server) : IClassFixture<PackServer>
{
    private static string Id() => "Tests.Audit" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>
    /// The pack changes in the audit trail (<c>audit_log</c>, target type <c>packs</c>), oldest first, as one shape: a change over
    /// the API is the request's own entry (the key as actor, the change in its details: <c>pack</c>, <c>packId</c>, ...); one from
    /// the drop folder is a <c>pack.install</c>/<c>pack.upgrade</c> entry. Entries are written in the background: this waits
    /// up to 10 s for at least <paramref name="atLeast"/>.
    /// </summary>
    private static async Task<List<JsonObject>> AuditAsync(PackServer on, string id, int atLeast = 1)
    {
        var store = on.Factory.Services.GetRequiredService<IAuditLogStore>();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var entries = await store.QueryAsync(new AuditQuery { TargetType = PackManager.AuditTargetType, Take = 1000 }, TestContext.Current.CancellationToken);
            var changes = entries.OrderBy(e => e.Id).Select(ToChange).Where(c => c?["id"]?.GetValue<string>() == id).Select(c => c!).ToList();
            if (changes.Count >= atLeast || DateTime.UtcNow > deadline) return changes;
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    private static JsonObject? ToChange(AuditEntry entry)
    {
        if (entry.Details is null || JsonNode.Parse(entry.Details) is not JsonObject details) return null;
        if (details["pack"] is { } action) // the request's entry
            return new JsonObject
            {
                ["action"] = action.GetValue<string>(), ["id"] = details["packId"]?.GetValue<string>(), ["version"] = details["version"]?.GetValue<string>(),
                ["previousVersion"] = details["previousVersion"]?.GetValue<string>(), ["by"] = entry.Actor, ["sha512"] = details["sha512"]?.GetValue<string>(),
                ["source"] = details["source"]?.GetValue<string>(),
            };
        return entry.Action.StartsWith("pack.", StringComparison.Ordinal) ? details : null;
    }

    private static string[] Actions(IEnumerable<JsonObject> records) =>
        records.Select(r => $"{r["action"]!.GetValue<string>()} {r["version"]!.GetValue<string>()} by {r["by"]!.GetValue<string>()}").ToArray();

    [Fact]
    public async Task Should_Record_Who_Did_It_When_A_Pack_Is_Installed_Upgraded_Disabled_Enabled_And_Removed_Over_The_Api()
    {
        // Arrange
        var id = Id();

        // Act
        await (await server.Admin.UploadAsync(TestPacks.Greeter(id, "1.0.0"))).JsonAsync(HttpStatusCode.Created);
        await (await server.Admin.UploadAsync(TestPacks.Greeter(id, "1.1.0", "Hi"))).JsonAsync(HttpStatusCode.OK);
        await (await server.Admin.PostAsync($"/api/packs/{id}/disable", null)).JsonAsync(HttpStatusCode.OK);
        await (await server.Admin.PostAsync($"/api/packs/{id}/enable", null)).JsonAsync(HttpStatusCode.OK);
        using var removed = await server.Admin.DeleteAsync($"/api/packs/{id}");
        using var refused = await server.Operator.DeleteAsync($"/api/packs/{id}");

        // Assert
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var records = await AuditAsync(server, id, atLeast: 5);
        Assert.Equal(["install 1.0.0 by packs-admin", "upgrade 1.1.0 by packs-admin", "disable 1.1.0 by packs-admin", "enable 1.1.0 by packs-admin",
            "remove 1.1.0 by packs-admin"], Actions(records));
        Assert.Equal("1.0.0", records[1]["previousVersion"]!.GetValue<string>());
        Assert.Equal(128, records[0]["sha512"]!.GetValue<string>().Length);
        Assert.Equal("upload", records[0]["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_Record_The_Key_And_The_Feed_When_A_Pack_Is_Installed_By_Id()
    {
        // Arrange: a server with a local folder feed (the shared server has no source configured).
        using var feed = new TempDirectory("packs-audit-feed");
        var id = Id();
        await File.WriteAllBytesAsync(feed.File($"{id}.1.0.0.nupkg"), TestPacks.Greeter(id, "1.0.0"));
        await using var withFeed = new PackServer(new Dictionary<string, string> { ["Platform:Packs:Sources:0"] = feed.Path });
        await withFeed.InitializeAsync();

        // Act
        using var response = await withFeed.Admin.PostAsync("/api/packs", new StringContent($$"""{"id": "{{id}}"}""", System.Text.Encoding.UTF8, "application/json"));
        await response.JsonAsync(HttpStatusCode.Created);

        // Assert
        var record = Assert.Single(await AuditAsync(withFeed, id));
        Assert.Equal(["install 1.0.0 by packs-admin"], Actions([record]));
        Assert.Equal($"feed:{feed.Path}", record["source"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_Record_The_Drop_Folder_When_Dropped_Packages_Install_And_Upgrade_A_Pack()
    {
        // Arrange
        var id = Id();
        var folder = Directory.CreateDirectory(Path.Combine(server.DataDirectory, "packs")).FullName;

        // Act
        await DropAsync(folder, id, "1.0.0");
        await DropAsync(folder, id, "2.0.0");

        // Assert: the listing shows a version just before its audit record is written, so wait for the second record.
        var records = await AuditAsync(server, id, atLeast: 2);
        Assert.Equal(["install 1.0.0 by drop-folder", "upgrade 2.0.0 by drop-folder"], Actions(records));
        Assert.All(records, r => Assert.Equal("drop-folder", r["source"]!.GetValue<string>()));
    }

    /// <summary>Drops the package (written beside, then renamed in) and waits until the server lists that version.</summary>
    private async Task DropAsync(string folder, string id, string version)
    {
        var file = Path.Combine(folder, $"{id}.{version}.nupkg");
        await File.WriteAllBytesAsync(file + ".tmp", TestPacks.Greeter(id, version), TestContext.Current.CancellationToken);
        File.Move(file + ".tmp", file);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await server.Admin.GetAsync($"/api/packs/{id}", TestContext.Current.CancellationToken);
            if (response.StatusCode == HttpStatusCode.OK && (await response.JsonAsync(HttpStatusCode.OK))["version"]!.GetValue<string>() == version) return;
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.Fail($"The dropped {id} {version} was not installed within 30 s (is it in {folder} still, or renamed .failed?).");
    }
}
