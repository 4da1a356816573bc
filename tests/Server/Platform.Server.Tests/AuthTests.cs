using System.Net;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using static Platform.Server.Tests.Infrastructure.ApiClient;

namespace Platform.Server.Tests;

/// <summary>Key handling that needs a server of its own: the generated admin key, bad key configuration and CORS.</summary>
public sealed class AuthTests
{
    [Fact]
    public async Task Should_GenerateAndReuseAnAdminKey_When_NoKeyIsConfigured()
    {
        // Arrange
        using var data = new TempDirectory("platform-auth");
        var settings = new Dictionary<string, string?> { ["Platform:DataDirectory"] = data.Path };
        var keyFile = data.File("admin-api-key");

        // Act: first start.
        string key;
        await using (var first = new PlatformServerFactory(settings))
        {
            using var anonymous = first.CreateClient(apiKey: null);
            using var denied = await anonymous.GetAsync($"{Api}/workflow-definitions");
            await denied.AssertProblemAsync(HttpStatusCode.Unauthorized);

            // Assert: a strong key, readable by the owner only, that opens the API as Admin.
            Assert.True(File.Exists(keyFile));
            key = (await File.ReadAllTextAsync(keyFile)).Trim();
            Assert.True(key.Length >= 40, "The generated key is too short.");
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            using var admin = first.CreateClient(key);
            await admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("generated-key")), publish: false);
        }

        // Second start: the same key still works.
        await using var second = new PlatformServerFactory(settings);
        using var again = second.CreateClient(key);
        await again.GetJsonAsync($"{Api}/workflow-definitions");
        Assert.Equal(key, (await File.ReadAllTextAsync(keyFile)).Trim());
    }

    [Theory]
    [InlineData("short", "Admin", "16 characters")]
    [InlineData("a-long-enough-key-0123456789", "Root", "Viewer, Operator, Designer, Admin")]
    [InlineData("", "Admin", "has no Key")]
    public void Should_RefuseToStart_When_AKeyIsMisconfigured(string key, string role, string message)
    {
        using var data = new TempDirectory("platform-auth");
        using var factory = new PlatformServerFactory(new Dictionary<string, string?>
        {
            ["Platform:DataDirectory"] = data.Path,
            ["Platform:ApiKeys:0:Key"] = key,
            ["Platform:ApiKeys:0:Name"] = "broken",
            ["Platform:ApiKeys:0:Role"] = role,
        });
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains(message, error.ToString());
        Assert.False(File.Exists(data.File("admin-api-key")), "No key may be generated when keys are configured.");
    }

    [Fact]
    public async Task Should_AllowConfiguredOriginAndExposeInstanceHeader_When_CorsIsConfigured()
    {
        using var data = new TempDirectory("platform-auth");
        var settings = PlatformServerFactory.WithKeys(data.Path);
        settings["Platform:Cors:AllowedOrigins:0"] = "https://studio.example.com";
        await using var factory = new PlatformServerFactory(settings);
        using var client = factory.CreateClient(apiKey: null);

        using var preflight = new HttpRequestMessage(HttpMethod.Options, $"{Api}/workflow-definitions/x/execute");
        preflight.Headers.Add("Origin", "https://studio.example.com");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        using var allowed = await client.SendAsync(preflight);
        Assert.True(allowed.IsSuccessStatusCode, $"Preflight failed: {(int)allowed.StatusCode}");
        Assert.Equal("https://studio.example.com", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Api}/package/version");
        request.Headers.Add("Origin", "https://studio.example.com");
        request.Headers.Authorization = new("ApiKey", PlatformServerFactory.AdminKey);
        using var response = await client.SendAsync(request);
        Assert.Contains("x-elsa-workflow-instance-id", string.Join(",", response.Headers.GetValues("Access-Control-Expose-Headers")));

        using var other = new HttpRequestMessage(HttpMethod.Get, $"{Api}/package/version");
        other.Headers.Add("Origin", "https://evil.example.com");
        other.Headers.Authorization = new("ApiKey", PlatformServerFactory.AdminKey);
        using var refused = await client.SendAsync(other);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Should_SendNoCorsHeaders_When_NoOriginIsConfigured()
    {
        using var data = new TempDirectory("platform-auth");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(data.Path));
        using var client = factory.CreateClient(PlatformServerFactory.AdminKey);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Api}/package/version");
        request.Headers.Add("Origin", "https://evil.example.com");
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
