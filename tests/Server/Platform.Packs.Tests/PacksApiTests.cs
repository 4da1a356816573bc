using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>/api/packs on a running server: install, palette, run, upgrade, remove, roles and bad uploads.</summary>
public sealed class PacksApiTests(PackServer server) : IClassFixture<PackServer>
{
    private static string Id() => "Tests.Api" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Should_Offer_And_Run_The_Activity_When_A_Pack_Is_Uploaded_Then_Upgraded_And_Removed()
    {
        // Arrange
        var id = Id();
        var type = $"{id}.Greet";

        // Act: install v1 and run it
        var installed = await (await server.Admin.UploadAsync(TestPacks.Greeter(id, "1.0.0", "Hello"))).JsonAsync(HttpStatusCode.Created);
        var inPalette = (await server.Admin.ActivityTypesAsync()).Contains(type);
        var definitionId = await server.Admin.PublishAsync(type, new JsonObject { ["who"] = PackHttp.Literal("Ada") });
        var first = await ExecuteAsync(definitionId);

        // upgrade to v2 (same activity type version) and run again
        var upgraded = await (await server.Admin.UploadAsync(TestPacks.Greeter(id, "2.0.0", "Hi"))).JsonAsync(HttpStatusCode.OK);
        var second = await ExecuteAsync(definitionId);
        var listed = await (await server.Operator.GetAsync("/api/packs")).Content.ReadFromJsonAsync<JsonArray>();

        // remove
        using var deleted = await server.Admin.DeleteAsync($"/api/packs/{id}");
        var afterDelete = (await server.Admin.ActivityTypesAsync()).Contains(type);

        // Assert
        Assert.Equal("Enabled", installed["state"]!.GetValue<string>());
        Assert.True(inPalette, "The pack's activity is not in the descriptors after the upload.");
        Assert.Contains("Hello, Ada", first);
        Assert.Equal("2.0.0", upgraded["version"]!.GetValue<string>());
        Assert.Contains("Hi, Ada", second);
        var pack = listed!.Single(p => p!["id"]!.GetValue<string>() == id)!;
        Assert.Equal("2.0.0", pack["version"]!.GetValue<string>());
        Assert.Equal("packs-admin", pack["installedBy"]!.GetValue<string>());
        Assert.Equal("weather-key", pack["permissions"]!["secrets"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.False(afterDelete, "The pack's activity is still in the descriptors after the removal.");
    }

    private async Task<string> ExecuteAsync(string definitionId)
    {
        using var response = await server.Admin.PostAsJsonAsync($"/elsa/api/workflow-definitions/{definitionId}/execute", new JsonObject { ["versionOptions"] = "Published" });
        var body = await response.JsonAsync(HttpStatusCode.OK);
        Assert.Equal("Finished", body["workflowState"]!["subStatus"]!.GetValue<string>());
        return body.ToJsonString();
    }

    [Fact]
    public async Task Should_Resume_On_The_New_Version_Or_Raise_An_Incident_When_A_Suspended_Instance_Meets_An_Upgrade()
    {
        // Arrange: two instances suspended in v1's Wait activity (type version 1).
        var id = Id();
        var type = $"{id}.Wait";
        await (await server.Admin.UploadAsync(WaitPack(id, "1.0.0", typeVersion: 1))).JsonAsync(HttpStatusCode.Created);
        var definitionId = await server.Admin.PublishAsync(type);
        var runtime = server.Factory.Services.GetRequiredService<IWorkflowRuntime>();
        var a = await runtime.StartAsync(new StartWorkflowRequest(definitionId));
        var b = await runtime.StartAsync(new StartWorkflowRequest(definitionId));
        Assert.Equal(WorkflowSubStatus.Suspended, a.SubStatus);

        // Act: v2 keeps type version 1 (compatible); v3 changes it to 2 (incompatible).
        await (await server.Admin.UploadAsync(WaitPack(id, "2.0.0", typeVersion: 1))).JsonAsync(HttpStatusCode.OK);
        var resumedA = await runtime.ResumeAsync(new ResumeWorkflowRequest(a.InstanceId, a.Instance.State.Bookmarks.Single().Id));
        await (await server.Admin.UploadAsync(WaitPack(id, "3.0.0", typeVersion: 2))).JsonAsync(HttpStatusCode.OK);
        var resumedB = await runtime.ResumeAsync(new ResumeWorkflowRequest(b.InstanceId, b.Instance.State.Bookmarks.Single().Id));

        // Assert
        Assert.Equal(WorkflowSubStatus.Finished, resumedA.SubStatus);
        Assert.Contains("resumed by 2.0.0", JsonSerializer.Serialize(resumedA.Instance.State.ActivityOutputs));
        Assert.Equal(WorkflowSubStatus.Faulted, resumedB.SubStatus);
        var incident = Assert.Single(resumedB.Instance.State.Incidents);
        Assert.Contains("version 1 is used here, but the installed pack provides version 2", incident.Message);
    }

    private static byte[] WaitPack(string id, string version, int typeVersion)
    {
        var code = $$"""
            using System.Threading.Tasks;
            using Platform.Activities;
            namespace {{id}};
            [Activity("{{id}}", "Test packs", "Waits to be resumed.", Version = {{typeVersion}})]
            public class Wait : Activity
            {
                [Output] public Output<string> Text { get; set; } = new();
                protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
                {
                    context.CreateBookmark(new BookmarkRequest("Tests.Wait"));
                    return ValueTask.CompletedTask;
                }
                protected override ValueTask ResumeAsync(ActivityExecutionContext context)
                {
                    Text.Set(context, "resumed by {{version}}");
                    context.Complete("Done");
                    return ValueTask.CompletedTask;
                }
            }
            """;
        return TestPacks.Package(id, version, new Dictionary<string, byte[]> { [id] = TestPacks.Compile(id, code) }, TestPacks.Manifest(id, version));
    }

    [Fact]
    public async Task Should_Answer_403_When_An_Operator_Key_Installs_Disables_Or_Removes()
    {
        // Arrange
        var id = Id();
        var bytes = TestPacks.Greeter(id, "1.0.0");

        // Act
        using var upload = await server.Operator.UploadAsync(bytes);
        using var disable = await server.Operator.PostAsync($"/api/packs/{id}/disable", null);
        using var delete = await server.Operator.DeleteAsync($"/api/packs/{id}");
        using var list = await server.Operator.GetAsync("/api/packs");

        // Assert
        Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, disable.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, delete.StatusCode);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
    }

    [Fact]
    public async Task Should_Answer_400_With_How_To_Fix_It_When_The_Upload_Is_Not_A_Pack()
    {
        // Arrange
        var id = Id();
        var noManifest = TestPacks.Package(id, "1.0.0", new Dictionary<string, byte[]> { [id] = TestPacks.Compile(id, TestPacks.GreetCode(id, "Hi")) }, null);

        // Act
        using var notZip = await server.Admin.UploadAsync("hello"u8.ToArray(), "hello.txt");
        using var withoutManifest = await server.Admin.UploadAsync(noManifest);
        using var wrongField = await server.Admin.UploadAsync(TestPacks.Greeter(id, "1.0.0"), field: "package");
        using var noBody = await server.Admin.PostAsync("/api/packs", null);
        using var noSource = await server.Admin.PostAsJsonAsync("/api/packs", new { id });
        using var unknown = await server.Admin.PostAsync($"/api/packs/{id}/enable", null);

        // Assert
        Assert.Contains("not a NuGet package", (await notZip.ProblemAsync(HttpStatusCode.BadRequest))["title"]!.GetValue<string>());
        Assert.Contains("pack.json", (await withoutManifest.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!.GetValue<string>());
        Assert.Contains("'file'", (await wrongField.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!.GetValue<string>());
        await noBody.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("Platform:Packs:Sources", (await noSource.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!.GetValue<string>());
        await unknown.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Should_Install_A_Package_When_It_Is_Dropped_Into_The_Data_Directory()
    {
        // Arrange
        var id = Id();
        var folder = Path.Combine(server.DataDirectory, "packs");
        Directory.CreateDirectory(folder);

        // Act
        await File.WriteAllBytesAsync(Path.Combine(folder, $"{id}.1.0.0.nupkg.tmp"), TestPacks.Greeter(id, "1.0.0"));
        File.Move(Path.Combine(folder, $"{id}.1.0.0.nupkg.tmp"), Path.Combine(folder, $"{id}.1.0.0.nupkg"));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        JsonObject? pack = null;
        while (pack is null && DateTime.UtcNow < deadline)
        {
            using var response = await server.Admin.GetAsync($"/api/packs/{id}");
            if (response.StatusCode == HttpStatusCode.OK) pack = await response.JsonAsync(HttpStatusCode.OK);
            else await Task.Delay(100);
        }

        // Assert
        Assert.NotNull(pack);
        Assert.Equal("drop-folder", pack["installedBy"]!.GetValue<string>());
        Assert.Contains($"{id}.Greet", await server.Admin.ActivityTypesAsync());
        Assert.False(File.Exists(Path.Combine(folder, $"{id}.1.0.0.nupkg")), "The dropped file is left behind after the install.");
    }
}
