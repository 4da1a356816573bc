using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>
/// The platform-pack template end to end: pack the SDK, create a pack with dotnet new, dotnet pack it, upload it to a
/// running server, run its activity in a published workflow and remove it. One test: it runs dotnet (about a minute, unless an
/// earlier run packed the same sources).
/// </summary>
public sealed class TemplateTests(PackServer server) : IClassFixture<PackServer>
{
    [Fact]
    public async Task Should_Install_And_Run_A_Pack_When_It_Is_Made_From_The_Template_And_Packed()
    {
        // Arrange: the SDK package in a local feed, the template in a private hive, a private NuGet cache; dotnet new platform-pack,
        // dotnet pack (once per run, or not at all when an earlier run packed the same sources: PackBuilds).
        var build = await PackBuilds.TemplatePackAsync();
        var bytes = await File.ReadAllBytesAsync(build.File("Acme.Weather.1.0.0.nupkg"));

        // Act
        var installed = await (await server.Admin.UploadAsync(bytes, "Acme.Weather.1.0.0.nupkg")).JsonAsync(HttpStatusCode.Created);
        var inPalette = (await server.Admin.ActivityTypesAsync()).Contains("Acme.Weather.Greet");
        var definitionId = await server.Admin.PublishAsync("Acme.Weather.Greet", new JsonObject { ["who"] = PackHttp.Literal("Ada") });
        using var run = await server.Admin.PostAsJsonAsync($"/elsa/api/workflow-definitions/{definitionId}/execute", new JsonObject { ["versionOptions"] = "Published" });
        var state = await run.JsonAsync(HttpStatusCode.OK);
        using var removed = await server.Admin.DeleteAsync("/api/packs/Acme.Weather");

        // Assert
        Assert.Equal("Acme.Weather", installed["displayName"]!.GetValue<string>());
        Assert.True(inPalette, "The template's activity is not in the descriptors.");
        Assert.Equal("Finished", state["workflowState"]!["subStatus"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
    }
}
