using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>
/// <c>POST /api/packs/inspect</c>: a package's manifest, permissions, SHA-512 and signature, read without installing it (what the
/// Studio's Packs page shows before a pack is enabled).
/// </summary>
public sealed class PackInspectApiTests(PackServer server) : IClassFixture<PackServer>
{
    private static string Id() => "Tests.Inspect" + Guid.NewGuid().ToString("N")[..8];

    private static async Task<HttpResponseMessage> InspectAsync(HttpClient client, byte[] bytes, string fileName = "pack.nupkg", string field = "file")
    {
        using var form = new MultipartFormDataContent();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(content, field, fileName);
        return await client.PostAsync("/api/packs/inspect", form);
    }

    private static byte[] PackWithEveryPermission(string id, string version)
    {
        var manifest = TestPacks.Manifest(id, version);
        manifest["permissions"] = new JsonObject
        {
            ["network"] = new JsonArray("api.weather.example", "*.example.com"),
            ["secrets"] = new JsonArray("weather-key"),
            ["dataSources"] = new JsonArray("shop"),
            ["mqtt"] = new JsonArray("devices/+/state"),
            ["fileSystem"] = true,
        };
        return TestPacks.Package(id, version, new Dictionary<string, byte[]> { [id] = TestPacks.Compile(id, TestPacks.GreetCode(id, "Hello")) }, manifest);
    }

    [Fact]
    public async Task Should_Show_The_Manifest_Permissions_And_Hash_Without_Installing_When_A_Package_Is_Inspected()
    {
        // Arrange
        var id = Id();
        var bytes = PackWithEveryPermission(id, "1.2.0");

        // Act
        var inspected = await (await InspectAsync(server.Admin, bytes)).JsonAsync(HttpStatusCode.OK);
        using var afterwards = await server.Admin.GetAsync($"/api/packs/{id}");
        var palette = await server.Admin.ActivityTypesAsync();

        // Assert: what the pack is and may reach.
        var manifest = inspected["manifest"]!;
        Assert.Equal(id, manifest["id"]!.GetValue<string>());
        Assert.Equal("1.2.0", manifest["version"]!.GetValue<string>());
        Assert.Equal(id + " pack", manifest["displayName"]!.GetValue<string>());
        Assert.Equal("Tests", manifest["author"]!.GetValue<string>());
        Assert.Equal("shared", manifest["isolation"]!.GetValue<string>());
        var permissions = manifest["permissions"]!;
        Assert.Equal(["api.weather.example", "*.example.com"], permissions["network"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("weather-key", permissions["secrets"]![0]!.GetValue<string>());
        Assert.Equal("shop", permissions["dataSources"]![0]!.GetValue<string>());
        Assert.Equal("devices/+/state", permissions["mqtt"]![0]!.GetValue<string>());
        Assert.True(permissions["fileSystem"]!.GetValue<bool>());
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData(bytes)), inspected["sha512"]!.GetValue<string>());
        Assert.Equal(id, inspected["assemblies"]![0]!.GetValue<string>());
        Assert.False(inspected["signature"]!["signed"]!.GetValue<bool>());
        Assert.False(inspected["signature"]!["required"]!.GetValue<bool>());
        Assert.True(inspected["signature"]!["trusted"]!.GetValue<bool>());
        Assert.Null(inspected["installedVersion"]);
        // Nothing was installed or loaded.
        Assert.Equal(HttpStatusCode.NotFound, afterwards.StatusCode);
        Assert.DoesNotContain($"{id}.Greet", palette);
    }

    [Fact]
    public async Task Should_Name_The_Installed_Version_When_An_Upgrade_Is_Inspected()
    {
        // Arrange
        var id = Id();
        await (await server.Admin.UploadAsync(TestPacks.Greeter(id, "1.0.0"))).JsonAsync(HttpStatusCode.Created);

        // Act
        var inspected = await (await InspectAsync(server.Admin, TestPacks.Greeter(id, "2.0.0", "Hi"))).JsonAsync(HttpStatusCode.OK);
        var listed = await (await server.Admin.GetAsync($"/api/packs/{id}")).JsonAsync(HttpStatusCode.OK);

        // Assert
        Assert.Equal("2.0.0", inspected["manifest"]!["version"]!.GetValue<string>());
        Assert.Equal("1.0.0", inspected["installedVersion"]!.GetValue<string>());
        Assert.Equal("Enabled", inspected["installedState"]!.GetValue<string>());
        Assert.Equal("1.0.0", listed["version"]!.GetValue<string>()); // still v1: inspecting installs nothing
    }

    [Fact]
    public async Task Should_Answer_400_With_How_To_Fix_It_When_The_Inspected_File_Is_Not_A_Pack()
    {
        // Arrange
        var id = Id();
        var noManifest = TestPacks.Package(id, "1.0.0", new Dictionary<string, byte[]> { [id] = TestPacks.Compile(id, TestPacks.GreetCode(id, "Hi")) }, null);
        var badManifest = TestPacks.Manifest(id, "1.0.0");
        badManifest["permissions"]!["network"] = new JsonArray("https://api.example.com/path");
        var badPermissions = TestPacks.Package(id, "1.0.0", new Dictionary<string, byte[]> { [id] = TestPacks.Compile(id, TestPacks.GreetCode(id, "Hi")) }, badManifest);

        // Act
        using var notZip = await InspectAsync(server.Admin, "hello"u8.ToArray(), "hello.txt");
        using var brokenZip = await InspectAsync(server.Admin, [(byte)'P', (byte)'K', 3, 4, 0, 0, 0], "broken.nupkg");
        using var withoutManifest = await InspectAsync(server.Admin, noManifest);
        using var withBadPermissions = await InspectAsync(server.Admin, badPermissions);
        using var wrongField = await InspectAsync(server.Admin, TestPacks.Greeter(id, "1.0.0"), field: "package");
        using var json = await server.Admin.PostAsJsonAsync("/api/packs/inspect", new { id });
        using var asOperator = await InspectAsync(server.Operator, TestPacks.Greeter(id, "1.0.0"));

        // Assert
        Assert.Contains("not a NuGet package", (await notZip.ProblemAsync(HttpStatusCode.BadRequest))["title"]!.GetValue<string>());
        Assert.Contains("not a valid NuGet package", (await brokenZip.ProblemAsync(HttpStatusCode.BadRequest))["title"]!.GetValue<string>());
        Assert.Contains("pack.json", (await withoutManifest.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!.GetValue<string>());
        Assert.Contains("not a host", (await withBadPermissions.ProblemAsync(HttpStatusCode.BadRequest))["title"]!.GetValue<string>());
        Assert.Contains("'file'", (await wrongField.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!.GetValue<string>());
        Assert.Contains("multipart", (await json.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Forbidden, asOperator.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Admin.GetAsync($"/api/packs/{id}")).StatusCode);
    }
}
