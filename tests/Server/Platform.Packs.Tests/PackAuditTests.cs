using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities;
using Platform.Testing;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>
/// Every install, upgrade, disable, enable and removal is written to the audit records of the platform database (kind
/// <c>packs</c>) with who did it: the API key's name over the API and from a feed, <c>drop-folder</c> for dropped packages.
/// </summary>
public sealed class PackAuditTests(PackServer server) : IClassFixture<PackServer>
{
    private static string Id() => "Tests.Audit" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The pack's audit records, oldest first.</summary>
    private async Task<List<JsonObject>> AuditAsync(string id)
    {
        var records = await server.Factory.Services.GetRequiredService<IAuditRecords>().ReadLatestAsync(PackManager.AuditKind, 1000, TestContext.Current.CancellationToken);
        return records.Select(r => JsonNode.Parse(r)!.AsObject()).Where(r => r["id"]?.GetValue<string>() == id).Reverse().ToList();
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
        var records = await AuditAsync(id);
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
        var records = await withFeed.Factory.Services.GetRequiredService<IAuditRecords>().ReadLatestAsync(PackManager.AuditKind, 10, TestContext.Current.CancellationToken);
        var record = JsonNode.Parse(Assert.Single(records))!.AsObject();
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
        var records = await AuditAsync(id);
        for (var deadline = DateTime.UtcNow.AddSeconds(30); records.Count < 2 && DateTime.UtcNow < deadline; records = await AuditAsync(id))
            await Task.Delay(100, TestContext.Current.CancellationToken);
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
