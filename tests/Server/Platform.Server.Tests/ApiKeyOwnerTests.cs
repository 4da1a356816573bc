using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Server.Security;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>
/// API keys belong to a user or a service account (issue 16, item 2): a signed-in user creates, sees and revokes their own keys,
/// an Admin all of them; a key never has a higher role than its creator; disabling or deleting a user revokes the user's keys at
/// once; the audit trail names the key and its owner.
/// </summary>
public sealed class ApiKeyOwnerTests
{
    private const string Password = "Correct-horse-42";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Keep_Each_Users_Keys_To_Themselves_And_Revoke_Them_When_The_User_Is_Disabled_Or_Deleted()
    {
        // Arrange: two users, each signed in with a cookie.
        using var dir = new TempDirectory("platform-key-owners");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path));
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);
        var ursulaId = (await admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = "ursula", ["password"] = Password, ["role"] = "Operator" },
            HttpStatusCode.Created)).Str("id");
        var victorId = (await admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = "victor", ["password"] = Password, ["role"] = "Viewer" },
            HttpStatusCode.Created)).Str("id");
        using var ursula = await SignInAsync(factory, "ursula");
        using var victor = await SignInAsync(factory, "victor");

        // Act: each creates a key for themselves; Ursula may not create one above her role.
        var ursulaKey = await ursula.PostJsonAsync("/api/keys", new JsonObject { ["name"] = "ursula laptop", ["role"] = "Operator" }, HttpStatusCode.Created);
        var victorKey = await victor.PostJsonAsync("/api/keys", new JsonObject { ["name"] = "victor script", ["role"] = "Viewer" }, HttpStatusCode.Created);
        using (var higher = await ursula.PostAsJsonAsync("/api/keys", new { name = "too strong", role = "Designer" }, Ct))
            Assert.Contains("higher role than its creator", (await higher.AssertProblemAsync(HttpStatusCode.Forbidden)).Str("title"));
        using (var forOthers = await ursula.PostAsJsonAsync("/api/keys", new { name = "for a robot", role = "Viewer", owner = "robot" }, Ct))
            await forOthers.AssertProblemAsync(HttpStatusCode.Forbidden);

        // Assert: the owner is the signed-in user; each user sees only their own keys, cannot revoke another's; an Admin sees all.
        Assert.Equal(("ursula", "user", "Operator"), (ursulaKey.Str("owner"), ursulaKey.Str("ownerKind"), ursulaKey.Str("role")));
        Assert.Equal(["ursula laptop"], await KeyNamesAsync(ursula));
        Assert.Equal(["victor script"], await KeyNamesAsync(victor));
        using (var notHers = await ursula.DeleteAsync($"/api/keys/{victorKey.Str("id")}", Ct)) await notHers.AssertProblemAsync(HttpStatusCode.NotFound);
        var all = (await admin.GetJsonAsync("/api/keys"))["value"]!.AsArray().Select(k => k!.AsObject()).ToList();
        Assert.Contains(all, k => k.Str("name") == "ursula laptop" && k.Str("owner") == "ursula" && k.Str("ownerKind") == "user" && k["lastUsedAt"] is null);
        Assert.Contains(all, k => k.Str("name") == "victor script" && k.Str("owner") == "victor");

        // The keys work; the audit trail names the key and its owner.
        using var laptop = factory.CreateClient(ursulaKey.Str("key"));
        using var script = factory.CreateClient(victorKey.Str("key"));
        using (var run = await laptop.PostAsJsonAsync("/elsa/api/workflow-definitions/no-such-workflow/execute", new JsonObject(), Ct))
            Assert.Equal(HttpStatusCode.NotFound, run.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/api/channels", Ct)).StatusCode);
        await factory.Services.GetRequiredService<AuditLogWriter>().FlushAsync(Ct);
        var entry = (await admin.GetJsonAsync("/api/audit?actor=ursula%20laptop&pageSize=10"))["items"]!.AsArray().First()!;
        Assert.Equal("key", entry.Str("actorKind"));
        Assert.Equal("user ursula", JsonNode.Parse(entry.Str("details"))!.Str("keyOwner"));

        // A user revokes their own key; disabling Ursula and deleting Victor revoke theirs at once.
        var spare = await ursula.PostJsonAsync("/api/keys", new JsonObject { ["name"] = "ursula spare", ["role"] = "Viewer" }, HttpStatusCode.Created);
        using (var own = await ursula.DeleteAsync($"/api/keys/{spare.Str("id")}", Ct)) Assert.Equal(HttpStatusCode.NoContent, own.StatusCode);
        using (var disable = await admin.PutAsJsonAsync($"/api/users/{ursulaId}/disabled", new { disabled = true }, Ct)) Assert.Equal(HttpStatusCode.OK, disable.StatusCode);
        using (var refused = await laptop.GetAsync("/api/channels", Ct))
            Assert.Contains("revoked", (await refused.AssertProblemAsync(HttpStatusCode.Unauthorized)).Str("title"));
        using (var delete = await admin.DeleteAsync($"/api/users/{victorId}", Ct)) Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using (var refused = await script.GetAsync("/api/channels", Ct)) await refused.AssertProblemAsync(HttpStatusCode.Unauthorized);
        var statuses = (await admin.GetJsonAsync("/api/keys"))["value"]!.AsArray().ToDictionary(k => k!.Str("name"), k => k!.Str("status"));
        Assert.Equal("revoked", statuses["ursula laptop"]);
        Assert.Equal("revoked", statuses["victor script"]);
    }

    [Fact]
    public async Task Should_Give_Keys_To_Service_Accounts_And_Users_When_An_Admin_Names_The_Owner()
    {
        using var dir = new TempDirectory("platform-key-owners");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(dir.Path));
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);
        await admin.PostJsonAsync("/api/users", new JsonObject { ["userName"] = "dora", ["password"] = Password, ["role"] = "Designer" }, HttpStatusCode.Created);

        // An Admin key without an owner: a service account named like the key; with an owner: that service account or user.
        var plain = await admin.PostJsonAsync("/api/keys", new JsonObject { ["name"] = "nightly backup", ["role"] = "Operator" }, HttpStatusCode.Created);
        var robot = await admin.PostJsonAsync("/api/keys", new JsonObject { ["name"] = "robot 1", ["role"] = "Viewer", ["owner"] = "robots" }, HttpStatusCode.Created);
        var doras = await admin.PostJsonAsync("/api/keys", new JsonObject { ["name"] = "dora ci", ["role"] = "Designer", ["owner"] = "dora", ["ownerKind"] = "user" },
            HttpStatusCode.Created);

        Assert.Equal(("nightly backup", "service"), (plain.Str("owner"), plain.Str("ownerKind")));
        Assert.Equal(("robots", "service"), (robot.Str("owner"), robot.Str("ownerKind")));
        Assert.Equal(("dora", "user"), (doras.Str("owner"), doras.Str("ownerKind")));
        using (var above = await admin.PostAsJsonAsync("/api/keys", new { name = "dora admin", role = "Admin", owner = "dora", ownerKind = "user" }, Ct))
            Assert.Contains("Designer", (await above.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("title"));
        using (var nobody = await admin.PostAsJsonAsync("/api/keys", new { name = "ghost", role = "Viewer", owner = "ghost", ownerKind = "user" }, Ct))
            Assert.Contains("ownerKind", (await nobody.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"));
        using (var badKind = await admin.PostAsJsonAsync("/api/keys", new { name = "x", role = "Viewer", owner = "x", ownerKind = "group" }, Ct))
            await badKind.AssertProblemAsync(HttpStatusCode.BadRequest);

        // Dora sees the key an Admin made for her; demoting her revokes the keys above her new role.
        using var dora = await SignInAsync(factory, "dora");
        Assert.Equal(["dora ci"], await KeyNamesAsync(dora));
        var doraId = (await admin.GetJsonAsync("/api/users"))["value"]!.AsArray().Single(u => u!.Str("userName") == "dora")!.Str("id");
        using (var demote = await admin.PutAsJsonAsync($"/api/users/{doraId}/role", new { role = "Viewer" }, Ct)) Assert.Equal(HttpStatusCode.OK, demote.StatusCode);
        using var ci = factory.CreateClient(doras.Str("key"));
        using (var refused = await ci.GetAsync("/api/channels", Ct)) await refused.AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    private static async Task<HttpClient> SignInAsync(WebApplicationFactory<Program> factory, string user)
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true, AllowAutoRedirect = false });
        await client.PostJsonAsync("/api/auth/signin", new JsonObject { ["userName"] = user, ["password"] = Password });
        return client;
    }

    private static async Task<List<string>> KeyNamesAsync(HttpClient client) =>
        (await client.GetJsonAsync("/api/keys"))["value"]!.AsArray().Select(k => k!.Str("name")).ToList();
}
