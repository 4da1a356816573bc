using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Server.Security;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using static Platform.Server.Tests.Infrastructure.ApiClient;

namespace Platform.Server.Tests;

/// <summary>
/// Local user accounts and the browser cookie (issue 16, part 1): the first-start link, password sign-in with lockout, the
/// users API, and the cookie's CSRF guard. Each test starts its own server (the link exists only while there is no user).
/// </summary>
public sealed class UserSignInTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string Password = "Correct-horse-42";

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("PostgreSql")]
    public async Task Should_CreateTheFirstAdminThroughTheOneTimeLink_When_NoUserExists(string provider)
    {
        // Arrange: a fresh server (no user) whose log is captured.
        using var dir = new TempDirectory("platform-users");
        var connectionString = provider == "PostgreSql" ? await postgres.CreateDatabaseAsync("identity") : null;
        var log = new CapturedLog();
        await using var root = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path, provider, connectionString));
        await using var factory = root.WithWebHostBuilder(b => b.ConfigureLogging(l => l.AddProvider(log)));
        using var browser = Browser(factory);

        // The link is in a file only the server's user can read; the log shows it masked.
        var linkFile = dir.File("first-sign-in-link");
        await WaitForAsync(() => File.Exists(linkFile));
        var link = (await File.ReadAllTextAsync(linkFile, TestContext.Current.CancellationToken)).Trim();
        var token = link[(link.IndexOf("#link=", StringComparison.Ordinal) + "#link=".Length)..];
        Assert.True(token.Length >= 40, link);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(linkFile));
        await WaitForAsync(() => log.Contains("one-time sign-in link"));
        Assert.False(log.Contains(token), "The full first-start token was logged.");

        // Act: the link signs in as Admin once; a second use is refused.
        var me = await browser.PostJsonAsync("/api/auth/link", new JsonObject { ["token"] = token });
        Assert.Equal("link", me["method"]!.GetValue<string>());
        Assert.Equal("Admin", me["roles"]![0]!.GetValue<string>());
        using var again = await Browser(factory).PostAsJsonAsync("/api/auth/link", new { token }, TestContext.Current.CancellationToken);
        await again.AssertProblemAsync(HttpStatusCode.Unauthorized);

        // The bearer sets the first admin's name and password and is then signed in as that user.
        var created = await browser.PostJsonAsync("/api/auth/setup", new JsonObject { ["userName"] = "first-admin", ["password"] = Password },
            HttpStatusCode.Created);
        Assert.Equal("first-admin", created["name"]!.GetValue<string>());

        // Assert: the cookie alone opens the Elsa API and our API; the link cannot create a second admin.
        var whoAmI = await browser.GetJsonAsync("/api/auth/me");
        Assert.Equal("password", whoAmI["method"]!.GetValue<string>());
        await browser.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("cookie")), publish: false);
        await browser.GetJsonAsync($"{Api}/workflow-definitions");
        using var setupAgain = await browser.PostAsJsonAsync("/api/auth/setup", new { userName = "second", password = Password }, TestContext.Current.CancellationToken);
        await setupAgain.AssertProblemAsync(HttpStatusCode.Forbidden);

        // Sign out: the cookie no longer opens anything.
        using var signOut = await browser.PostAsync("/api/auth/signout", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
        using var after = await browser.GetAsync($"{Api}/workflow-definitions", TestContext.Current.CancellationToken);
        await after.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Should_LockTheAccount_When_FivePasswordsInARowAreWrong()
    {
        using var dir = new TempDirectory("platform-users");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path));
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);
        await admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = "locky", ["password"] = Password, ["role"] = "Operator" }, HttpStatusCode.Created);
        using var browser = Browser(factory);

        for (var i = 0; i < 5; i++)
        {
            using var wrong = await browser.PostAsJsonAsync("/api/auth/signin", new { userName = "locky", password = "wrong-password-1A" }, TestContext.Current.CancellationToken);
            await wrong.AssertProblemAsync(HttpStatusCode.Unauthorized);
        }

        // The right password no longer helps; an Admin's password reset unlocks the account.
        using var locked = await browser.PostAsJsonAsync("/api/auth/signin", new { userName = "locky", password = Password }, TestContext.Current.CancellationToken);
        var problem = await locked.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("locked", problem["title"]!.GetValue<string>());
        var user = (await admin.GetFromJsonAsync<JsonArray>("/api/users", TestContext.Current.CancellationToken))!.Single(u => u!["userName"]!.GetValue<string>() == "locky")!;
        Assert.NotNull(user["lockedOutUntil"]?.GetValue<DateTimeOffset>());
        using var reset = await admin.PutAsJsonAsync($"/api/users/{user["id"]}/password", new { password = "Another-horse-43" }, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        var me = await browser.PostJsonAsync("/api/auth/signin", new JsonObject { ["userName"] = "locky", ["password"] = "Another-horse-43" });
        Assert.Equal("Operator", me["roles"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_RecordWhoSignedInAndWhoFailed_When_PasswordsAreTried()
    {
        using var dir = new TempDirectory("platform-users");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path));
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);
        await admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = "audra", ["password"] = Password, ["role"] = "Viewer" }, HttpStatusCode.Created);
        using var browser = Browser(factory);
        var ct = TestContext.Current.CancellationToken;

        using (var wrong = await browser.PostAsJsonAsync("/api/auth/signin", new { userName = "audra", password = "wrong-password-1A" }, ct))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        await browser.PostJsonAsync("/api/auth/signin", new JsonObject { ["userName"] = "audra", ["password"] = Password });
        await factory.Services.GetRequiredService<AuditLogWriter>().FlushAsync(ct);

        var signIns = (await admin.GetJsonAsync("/api/audit?action=POST%20/api/auth/signin&pageSize=10"))["items"]!.AsArray()
            .Select(i => i!.AsObject()).OrderBy(i => (long)i["id"]!).ToList();
        Assert.Equal(2, signIns.Count);
        Assert.Equal(("denied", 401, (string?)null), ((string?)signIns[0]["outcome"], (int)signIns[0]["status"]!, (string?)signIns[0]["actor"]));
        Assert.Equal("audra", (string?)JsonNode.Parse((string)signIns[0]["details"]!)!["userName"]);
        Assert.Equal(("success", 200, "audra", "user"), ((string?)signIns[1]["outcome"], (int)signIns[1]["status"]!, (string?)signIns[1]["actor"], (string?)signIns[1]["actorKind"]));
    }

    [Fact]
    public async Task Should_AuditTheLockoutAndTheSignOut_When_AUserFailsAndSignsOut()
    {
        using var dir = new TempDirectory("platform-users");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path));
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);
        await admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = "lola", ["password"] = Password, ["role"] = "Operator" }, HttpStatusCode.Created);
        using var browser = Browser(factory);
        var ct = TestContext.Current.CancellationToken;

        // A session that signs out, then five wrong passwords that lock the account, then the right one (refused: locked).
        await browser.PostJsonAsync("/api/auth/signin", new JsonObject { ["userName"] = "lola", ["password"] = Password });
        using (var signOut = await browser.PostAsync("/api/auth/signout", null, ct)) Assert.Equal(HttpStatusCode.NoContent, signOut.StatusCode);
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await browser.PostAsJsonAsync("/api/auth/signin", new { userName = "lola", password = "wrong-password-1A" }, ct);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        }
        using (var locked = await browser.PostAsJsonAsync("/api/auth/signin", new { userName = "lola", password = Password }, ct))
            Assert.Equal(HttpStatusCode.Forbidden, locked.StatusCode);
        await factory.Services.GetRequiredService<AuditLogWriter>().FlushAsync(ct);

        // The sign-out names the user; the lockout has its own entry; each failure says why.
        var signOuts = (await admin.GetJsonAsync("/api/audit?action=/api/auth/signout&pageSize=10"))["items"]!.AsArray();
        Assert.Equal(("lola", "user", "success"), (signOuts.Single()!.Str("actor"), signOuts.Single()!.Str("actorKind"), signOuts.Single()!.Str("outcome")));
        var lockout = (await admin.GetJsonAsync($"/api/audit?action={Platform.Server.Apis.AuthApi.LockoutAuditAction}&pageSize=10"))["items"]!.AsArray().Single()!;
        Assert.Equal(("lola", "denied", "users"), (lockout.Str("actor"), lockout.Str("outcome"), lockout.Str("targetType")));
        Assert.NotNull(JsonNode.Parse(lockout.Str("details"))!["lockedUntil"]);
        var reasons = (await admin.GetJsonAsync("/api/audit?action=POST%20/api/auth/signin&pageSize=20"))["items"]!.AsArray()
            .Select(i => i!.AsObject()).OrderBy(i => (long)i["id"]!).Select(i => (string?)JsonNode.Parse(i.Str("details"))!["reason"]).ToList();
        Assert.Equal([null, "wrong-password", "wrong-password", "wrong-password", "wrong-password", "wrong-password", "locked-out"], reasons);
    }

    [Fact]
    public async Task Should_ApplyRolesDisableAndDelete_When_AnAdminManagesUsers()
    {
        using var dir = new TempDirectory("platform-users");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path));
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);
        var ct = TestContext.Current.CancellationToken;

        // An Operator user reads through the cookie but may not change anything.
        var op = await admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = "olga", ["password"] = Password, ["role"] = "Operator" }, HttpStatusCode.Created);
        using var olga = Browser(factory);
        await olga.PostJsonAsync("/api/auth/signin", new JsonObject { ["userName"] = "olga", ["password"] = Password });
        await olga.GetJsonAsync($"{Api}/workflow-definitions");
        using var refused = await olga.PostAsJsonAsync($"{Api}/workflow-definitions", Workflows.HelloWorld(Workflows.UniqueName("op")), ct);
        await refused.AssertProblemAsync(HttpStatusCode.Forbidden);
        using var noUsers = await olga.GetAsync("/api/users", ct);
        await noUsers.AssertProblemAsync(HttpStatusCode.Forbidden);

        // Bad input is a 4xx that says what to send.
        using var badRole = await admin.PostAsJsonAsync("/api/users", new { userName = "x", password = Password, role = "Root" }, ct);
        Assert.Contains("Admin, Designer, Operator, Viewer", (await badRole.AssertProblemAsync(HttpStatusCode.BadRequest))["detail"]!.GetValue<string>());
        using var weak = await admin.PostAsJsonAsync("/api/users", new { userName = "weak", password = "short", role = "Viewer" }, ct);
        await weak.AssertProblemAsync(HttpStatusCode.BadRequest);
        using var duplicate = await admin.PostAsJsonAsync("/api/users", new { userName = "olga", password = Password, role = "Viewer" }, ct);
        await duplicate.AssertProblemAsync(HttpStatusCode.Conflict);

        // Promoted to Admin, she signs in again and may write; the last enabled Admin cannot be demoted, disabled or deleted.
        var id = op["id"]!.GetValue<string>();
        using var promote = await admin.PutAsJsonAsync($"/api/users/{id}/role", new { role = "Admin" }, ct);
        Assert.Equal("Admin", (await promote.ReadJsonAsync(HttpStatusCode.OK))["role"]!.GetValue<string>());
        await olga.PostJsonAsync("/api/auth/signin", new JsonObject { ["userName"] = "olga", ["password"] = Password });
        await olga.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("promoted")), publish: false);
        using var demote = await admin.PutAsJsonAsync($"/api/users/{id}/role", new { role = "Viewer" }, ct);
        await demote.AssertProblemAsync(HttpStatusCode.Conflict);
        using var lastDelete = await admin.DeleteAsync($"/api/users/{id}", ct);
        await lastDelete.AssertProblemAsync(HttpStatusCode.Conflict);

        // A disabled account cannot sign in; a deleted one is gone.
        var viewer = await admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = "vic", ["password"] = Password, ["role"] = "Viewer" }, HttpStatusCode.Created);
        var vicId = viewer["id"]!.GetValue<string>();
        using var disable = await admin.PutAsJsonAsync($"/api/users/{vicId}/disabled", new { disabled = true }, ct);
        Assert.True((await disable.ReadJsonAsync(HttpStatusCode.OK))["disabled"]!.GetValue<bool>());
        using var vic = Browser(factory);
        using var disabled = await vic.PostAsJsonAsync("/api/auth/signin", new { userName = "vic", password = Password }, ct);
        await disabled.AssertProblemAsync(HttpStatusCode.Forbidden);
        using var delete = await admin.DeleteAsync($"/api/users/{vicId}", ct);
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        var names = (await admin.GetFromJsonAsync<JsonArray>("/api/users", ct))!.Select(u => u!["userName"]!.GetValue<string>()).ToList();
        Assert.Equal(new[] { "olga" }, names);
    }

    [Fact]
    public async Task Should_RefuseCrossSiteRequests_When_TheyCarryTheSignInCookie()
    {
        using var dir = new TempDirectory("platform-users");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path));
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);
        await admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = "ada", ["password"] = Password, ["role"] = "Admin" }, HttpStatusCode.Created);
        using var browser = Browser(factory);
        var ct = TestContext.Current.CancellationToken;

        // A form posted from another site cannot sign anyone in (login CSRF) ...
        using var form = new HttpRequestMessage(HttpMethod.Post, "/api/auth/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["userName"] = "ada", ["password"] = Password }),
        };
        form.Headers.Add("Origin", "https://evil.example");
        form.Headers.Add("Sec-Fetch-Site", "cross-site");
        using var csrfSignIn = await browser.SendAsync(form, ct);
        await csrfSignIn.AssertProblemAsync(HttpStatusCode.Forbidden);

        // ... the same form from our own page can; the cookie is HttpOnly and SameSite=Strict.
        using var ownForm = new HttpRequestMessage(HttpMethod.Post, "/api/auth/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["userName"] = "ada", ["password"] = Password }),
        };
        ownForm.Headers.Add("Origin", "http://localhost");
        ownForm.Headers.Add("Sec-Fetch-Site", "same-origin");
        using var signedIn = await browser.SendAsync(ownForm, ct);
        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        var cookie = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("platform.auth=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        // A cross-site write with the cookie is refused.
        using var write = new HttpRequestMessage(HttpMethod.Post, $"{Api}/workflow-definitions") { Content = JsonContent.Create(Workflows.HelloWorld(Workflows.UniqueName("csrf"))) };
        write.Headers.Add("Origin", "https://evil.example");
        using var csrfWrite = await browser.SendAsync(write, ct);
        await csrfWrite.AssertProblemAsync(HttpStatusCode.Forbidden);
    }

    /// <summary>A client that keeps cookies, like a browser (no API key).</summary>
    private static HttpClient Browser(WebApplicationFactory<Program> factory) =>
        factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true, AllowAutoRedirect = false });

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting.");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    private sealed class CapturedLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public bool Contains(string text) => _lines.Any(l => l.Contains(text, StringComparison.Ordinal));

        public ILogger CreateLogger(string categoryName) => new Logger(_lines);

        public void Dispose() { }

        private sealed class Logger(ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue(formatter(state, exception));
        }
    }
}
