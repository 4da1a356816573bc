using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;

namespace Platform.Server.Tests;

/// <summary>Issue 16's small holes: L1 (numeric provider), L2 (dashboard POSTs), L4 (file modes), L5 (headers, cookie).</summary>
public sealed class SecurityHardeningTests(SqliteServerFixture server) : IClassFixture<SqliteServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Answer_400_When_A_Data_Source_Provider_Is_A_Number()
    {
        var name = "num" + Guid.NewGuid().ToString("N")[..8];
        using var post = await server.Admin.PostRawAsync("/api/data-sources",
            $$"""{"name":"{{name}}","provider":12345,"connectionString":"Data Source=x.db"}""");
        var problem = await post.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("PostgreSql, Sqlite", problem.Str("detail"));

        using var put = await server.Admin.PutAsync($"/api/data-sources/{name}",
            new StringContent("""{"provider":"12345","connectionString":"Data Source=x.db"}""", Encoding.UTF8, "application/json"), Ct);
        await put.AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Should_Answer_415_Not_500_When_A_Dashboard_Post_Is_Not_A_Form()
    {
        using var response = await server.Admin.PostAsync("/hangfire/recurring/trigger",
            new StringContent("""{"jobs[]":"x"}""", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task Should_Keep_The_Raw_Key_Out_Of_The_Dashboard_Cookie_When_Signing_In()
    {
        using var browser = server.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var signIn = await browser.GetAsync($"/hangfire?key={PlatformServerFactory.AdminKey}", Ct);
        var cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));
        Assert.DoesNotContain(PlatformServerFactory.AdminKey, Uri.UnescapeDataString(cookie));

        using var dashboard = await browser.GetAsync("/hangfire", Ct);
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/hangfire")]
    [InlineData("/api/channels")]
    [InlineData("/health")]
    public async Task Should_Send_Security_Headers_When_Serving_Any_Page(string path)
    {
        using var response = await server.Admin.GetAsync(path, Ct);

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains(response.Headers.GetValues("Referrer-Policy").Single(), new[] { "same-origin", "no-referrer" }); // the Studio sets the stricter one itself
        Assert.Contains("frame-ancestors 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("SAMEORIGIN", response.Headers.GetValues("X-Frame-Options").Single());
    }

    [Fact]
    public async Task Should_Keep_The_Chat_Pages_Own_Framing_Policy()
    {
        using var response = await server.Admin.GetAsync("/chat", Ct);
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("connect-src", csp); // the chat page's own policy, not the default
        Assert.False(response.Headers.Contains("X-Frame-Options"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Should_Keep_Data_Files_Private_When_The_Server_Runs()
    {
        await server.Admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("modes")), publish: false); // writes: the WAL exists

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(server.DataDirectory));
        var files = Directory.GetFiles(server.DataDirectory);
        Assert.Contains(files, f => f.EndsWith("platform.db", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("platform.db-wal", StringComparison.Ordinal));
        Assert.All(files, f => Assert.True((File.GetUnixFileMode(f) & ~(UnixFileMode.UserRead | UnixFileMode.UserWrite)) == 0,
            $"{Path.GetFileName(f)} is {File.GetUnixFileMode(f)}"));
    }
}
