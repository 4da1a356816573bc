using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Platform.Testing;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>
/// The platform-pack template end to end: pack the SDK, create a pack with dotnet new, dotnet pack it, upload it to a
/// running server, run its activity in a published workflow and remove it. One test: it runs dotnet (about a minute).
/// </summary>
public sealed class TemplateTests(PackServer server) : IClassFixture<PackServer>
{
    [Fact]
    public async Task Should_Install_And_Run_A_Pack_When_It_Is_Made_From_The_Template_And_Packed()
    {
        // Arrange: the SDK package in a local feed, the template in a private hive, a private NuGet cache.
        using var work = new TempDirectory("platform-pack-template");
        var feed = work.CreateSubdirectory("feed");
        var env = new Dictionary<string, string> { ["NUGET_PACKAGES"] = work.File("nuget"), ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1", ["DOTNET_NOLOGO"] = "1" };
        await DotnetAsync(TestPaths.RepoRoot, env, "pack", TestPaths.InRepo("src", "Activities", "Platform.Activities.Abstractions"), "-o", feed, "-v", "q");
        var hive = work.File("hive");
        await DotnetAsync(work.Path, env, "new", "install", TestPaths.InRepo("templates", "content", "platform-pack"), "--debug:custom-hive", hive);
        await DotnetAsync(work.Path, env, "new", "platform-pack", "-n", "Acme.Weather", "--sdkFeed", feed, "--debug:custom-hive", hive);

        // Act
        var project = Path.Combine(work.Path, "Acme.Weather");
        await DotnetAsync(project, env, "pack", Path.Combine("src", "Acme.Weather"), "-c", "Release", "-o", work.File("out"));
        var bytes = await File.ReadAllBytesAsync(work.File("out", "Acme.Weather.1.0.0.nupkg"));
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

    private static async Task DotnetAsync(string directory, Dictionary<string, string> env, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (k, v) in env) start.Environment[k] = v;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"dotnet {string.Join(' ', args)} failed ({process.ExitCode}): {await stdout}{await stderr}");
    }
}
