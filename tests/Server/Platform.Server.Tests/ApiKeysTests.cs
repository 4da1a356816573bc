using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Server.Tests.Infrastructure;

namespace Platform.Server.Tests;

/// <summary>API keys managed at run time through <c>/api/keys</c>, and the lockout after unknown keys (issue 16, parts 2 and 4).</summary>
public sealed class ApiKeysTests(RolesServerFixture server) : IClassFixture<RolesServerFixture>
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<JsonObject> CreateAsync(HttpClient admin, string name, string role, DateTimeOffset? expiresAt = null)
    {
        var body = new JsonObject { ["name"] = name, ["role"] = role };
        if (expiresAt is { } e) body["expiresAt"] = e.ToString("O");
        using var response = await admin.PostAsJsonAsync("/api/keys", body, Ct);
        var created = await response.ReadJsonAsync(HttpStatusCode.Created);
        Assert.Equal($"/api/keys/{created.Str("id")}", response.Headers.Location?.OriginalString);
        return created;
    }

    [Fact]
    public async Task Should_Create_Use_Rotate_And_Revoke_A_Key_When_An_Admin_Manages_Keys()
    {
        // Arrange
        using var admin = server.Client(PlatformServerFactory.AdminKey);
        var expires = DateTimeOffset.UtcNow.AddDays(30);

        // Act: create an Operator key, shown once.
        var created = await CreateAsync(admin, "nightly job", "operator", expires);
        var id = created.Str("id");
        var key = created.Str("key");

        // Assert: the key works with its role (may run, may not design or manage keys).
        Assert.StartsWith("pk_", key);
        Assert.True(key.Length >= 40, "The key is too short.");
        Assert.Equal("Operator", created.Str("role"));
        Assert.Equal("nightly job", created.Str("name"));
        Assert.StartsWith(created.Str("prefix"), key);
        Assert.Equal("tests-admin", created.Str("createdBy"));
        Assert.Equal(expires.ToUnixTimeSeconds(), DateTimeOffset.Parse(created.Str("expiresAt"), System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeSeconds());
        using (var job = server.Client(key))
        {
            await job.GetJsonAsync("/api/channels");
            using var run = await job.PostAsJsonAsync("/elsa/api/workflow-definitions/no-such-workflow/execute", new JsonObject(), Ct);
            Assert.Equal(HttpStatusCode.NotFound, run.StatusCode); // allowed to run; the workflow does not exist
            using var design = await job.PostAsJsonAsync("/api/intents", new JsonObject(), Ct);
            await design.AssertProblemAsync(HttpStatusCode.Forbidden);
            Assert.Empty((await job.GetJsonAsync("/api/keys"))["value"]!.AsArray()); // a non-Admin key sees no keys (users see their own)
            using var keys = await job.PostAsJsonAsync("/api/keys", new JsonObject { ["name"] = "more", ["role"] = "Viewer" }, Ct);
            await keys.AssertProblemAsync(HttpStatusCode.Forbidden); // only Admins and signed-in users create keys
        }

        // The list shows the key without any secret, with its last use.
        var listed = await ListedAsync(admin, id);
        Assert.Null(listed["key"]);
        Assert.Null(listed["hash"]);
        Assert.DoesNotContain(key, listed.ToJsonString());
        Assert.Equal("active", listed.Str("status"));
        Assert.NotNull(listed["lastUsedAt"]);

        // Rotate: a new secret, shown once; the old one stops working at once.
        var rotated = await admin.PostJsonAsync($"/api/keys/{id}/rotate", null);
        var newKey = rotated.Str("key");
        Assert.NotEqual(key, newKey);
        Assert.Equal(id, rotated.Str("id"));
        using (var old = server.Client(key))
        {
            using var refused = await old.GetAsync("/api/channels", Ct);
            Assert.Contains("not valid", (await refused.AssertProblemAsync(HttpStatusCode.Unauthorized)).Str("title"));
        }
        using var current = server.Client(newKey);
        await current.GetJsonAsync("/api/channels");

        // Revoke: 204, then the key gets a 401 that says it was revoked.
        using (var revoke = await admin.DeleteAsync($"/api/keys/{id}", Ct)) Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        using (var revoked = await current.GetAsync("/api/channels", Ct))
            Assert.Contains("revoked", (await revoked.AssertProblemAsync(HttpStatusCode.Unauthorized)).Str("title"));
        Assert.Equal("revoked", (await ListedAsync(admin, id)).Str("status"));
        using (var again = await admin.PostAsync($"/api/keys/{id}/rotate", null, Ct)) await again.AssertProblemAsync(HttpStatusCode.Conflict);
        using (var unknown = await admin.DeleteAsync("/api/keys/no-such-key", Ct)) await unknown.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"role":"Viewer"}""", "name")]
    [InlineData("""{"name":"x","role":"Root"}""", "Viewer, Operator, Designer, Admin")]
    [InlineData("""{"name":"x"}""", "Viewer, Operator, Designer, Admin")]
    [InlineData("""{"name":"x","role":"Viewer","expiresAt":"2001-01-01T00:00:00Z"}""", "future")]
    public async Task Should_Answer_400_That_Says_How_To_Fix_It_When_A_Key_Request_Is_Wrong(string body, string hint)
    {
        // Arrange
        using var admin = server.Client(PlatformServerFactory.AdminKey);

        // Act
        using var response = await admin.PostAsync("/api/keys", new StringContent(body, Encoding.UTF8, "application/json"), Ct);

        // Assert
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(hint, problem.Str("detail"));
    }

    [Fact]
    public async Task Should_Answer_401_Saying_It_Expired_When_A_Key_Is_Past_Its_Expiry()
    {
        // Arrange: a key that expires in three seconds.
        using var admin = server.Client(PlatformServerFactory.AdminKey);
        var created = await CreateAsync(admin, "short-lived", "Viewer", DateTimeOffset.UtcNow.AddSeconds(3));
        using var client = server.Client(created.Str("key"));

        // Act: it works until it expires.
        await client.GetJsonAsync("/api/channels");
        var expired = await EventuallyAsync(async () =>
        {
            using var r = await client.GetAsync("/api/channels", Ct);
            return r.StatusCode == HttpStatusCode.Unauthorized;
        });

        // Assert
        Assert.True(expired, "The key still worked after its expiry.");
        using var response = await client.GetAsync("/api/channels", Ct);
        Assert.Contains("expired", (await response.AssertProblemAsync(HttpStatusCode.Unauthorized)).Str("title"));
        Assert.Equal("expired", (await ListedAsync(admin, created.Str("id"))).Str("status"));
    }

    [Fact]
    public async Task Should_Reject_A_Revoked_Key_On_Another_Node_When_It_Was_Revoked_On_One()
    {
        // Arrange: a second node on the same database; a key created on the first works on the second.
        await using var second = RolesServerFixture.Start(server.Settings);
        using var admin = server.Client(PlatformServerFactory.AdminKey);
        var created = await CreateAsync(admin, "shared", "Viewer");
        using var onSecond = RolesServerFixture.Client(second, created.Str("key"));
        Assert.True(await EventuallyAsync(async () => await StatusAsync(onSecond, "/api/channels") == HttpStatusCode.OK), "The new key never worked on the second node.");

        // Act: revoke on the first node.
        using (var revoke = await admin.DeleteAsync($"/api/keys/{created.Str("id")}", Ct)) Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        // Assert: refused on the second node within the refresh interval; its use there was recorded for the list.
        Assert.True(await EventuallyAsync(async () => await StatusAsync(onSecond, "/api/channels") == HttpStatusCode.Unauthorized),
            "The revoked key still works on the second node.");
        using var secondAdmin = RolesServerFixture.Client(second, PlatformServerFactory.AdminKey);
        var listedThere = (await secondAdmin.GetJsonAsync("/api/keys"))["value"]!.AsArray().Single(k => k!["id"]!.GetValue<string>() == created.Str("id"))!;
        Assert.Equal("revoked", listedThere.Str("status"));
        Assert.NotNull(listedThere["lastUsedAt"]);
    }

    [Fact]
    public async Task Should_Lock_Out_An_Address_With_429_When_It_Sends_Too_Many_Unknown_Keys()
    {
        // Arrange
        using var guesser = server.Client("guessed-key-0123456789abcdef", "203.0.113.7");
        using var adminFromGuesser = server.Client(PlatformServerFactory.AdminKey, "203.0.113.7");
        using var adminElsewhere = server.Client(PlatformServerFactory.AdminKey, "198.51.100.20");

        // Act: the allowed number of unknown keys, then a good key from the same address.
        for (var i = 0; i < RolesServerFixture.MaxFailures; i++)
        {
            using var refused = await guesser.GetAsync("/api/channels", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
        using var locked = await adminFromGuesser.GetAsync("/api/channels", Ct);
        using var dashboard = await adminFromGuesser.GetAsync("/hangfire", Ct);
        using var elsewhere = await adminElsewhere.GetAsync("/api/channels", Ct);

        // Assert: 429 with Retry-After for the address (API and dashboard), others unaffected.
        var problem = await locked.AssertProblemAsync(HttpStatusCode.TooManyRequests);
        Assert.Contains("Platform:Security:Lockout", problem.Str("detail"));
        var retryAfter = int.Parse(locked.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 500, 600);
        Assert.Equal(HttpStatusCode.TooManyRequests, dashboard.StatusCode);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
    }

    private static async Task<JsonObject> ListedAsync(HttpClient admin, string id) =>
        (await admin.GetJsonAsync("/api/keys"))["value"]!.AsArray().Single(k => k!["id"]!.GetValue<string>() == id)!.AsObject();

    private static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, Ct);
        return response.StatusCode;
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var until = DateTime.UtcNow + Soon;
        while (DateTime.UtcNow < until)
        {
            if (await condition()) return true;
            await Task.Delay(100, Ct);
        }
        return await condition();
    }
}
