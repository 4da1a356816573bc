using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities.Data;
using Platform.Activities.Security;
using Platform.Messaging;
using Platform.Persistence.EFCore;
using Platform.Persistence.EFCore.Entities;
using Platform.Server.Observability;
using Platform.Server.Security;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>
/// Secret keys with ids and their rotation (issue 16, item 6): values under the old key are read after a new key becomes
/// active, <c>POST /api/secrets/rotate</c> and the <c>rotate-secrets</c> command re-encrypt them all, the old key can then be
/// removed, a value under a removed key fails with a message naming it, and a web chat token survives the rotation.
/// </summary>
public sealed class SecretRotationTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly string KeyA = SecretProtector.GenerateKey();
    private static readonly string KeyB = SecretProtector.GenerateKey();
    private static readonly string KeyC = SecretProtector.GenerateKey();
    private const string WebhookSecret = "webhook-signing-secret-0123456789";
    private const string ConnectionString = "Data Source=crm.db;Password=crm-password-42";

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("PostgreSql")]
    public async Task Should_Read_Rotate_And_Keep_Every_Secret_Readable_When_A_New_Key_Replaces_The_Old_One(string provider)
    {
        // Arrange: a server with the single key A (as every installation so far) stores a channel secret and a data source,
        // and a visitor gets a web chat token.
        using var data = new TempDirectory("platform-secrets");
        var connectionString = provider == "PostgreSql" ? await postgres.CreateDatabaseAsync("secrets") : null;
        var settings = PlatformServerFactory.WithKeys(data.Path, provider, connectionString);
        string chatToken;
        await using (var onlyA = Server(settings, ("Platform:Secrets:Key", KeyA)))
        {
            using var admin = onlyA.CreateClient(PlatformServerFactory.AdminKey);
            await CreateChannelAndDataSourceAsync(admin, "hook-a", "crm-a");
            await admin.PostJsonAsync("/api/channels", new JsonObject { ["name"] = "chat-a", ["kind"] = "WebChat", ["settings"] = new JsonObject() }, HttpStatusCode.Created);
            chatToken = (await ConnectChatAsync(onlyA, "chat-a", null)).Token;
            Assert.Equal([SecretProtector.DefaultKeyId, SecretProtector.DefaultKeyId], await StoredKeyIdsAsync(onlyA));
        }

        // Act 1: key B is added and made active; A stays configured.
        await using (var both = Server(settings, ("Platform:Secrets:Key", KeyA), ("Platform:Secrets:Keys:b", KeyB), ("Platform:Secrets:ActiveKeyId", "b")))
        {
            using var admin = both.CreateClient(PlatformServerFactory.AdminKey);
            // Values under A are read; new values are written under B.
            await AssertReadableAsync(both, "hook-a", "crm-a");
            await CreateChannelAndDataSourceAsync(admin, "hook-b", "crm-b");
            Assert.Equal(["b", "b", SecretProtector.DefaultKeyId, SecretProtector.DefaultKeyId], (await StoredKeyIdsAsync(both)).Order(StringComparer.Ordinal));

            // Rotation re-encrypts everything under B, in batches, and says how many; a second run changes nothing.
            var report = await admin.PostJsonAsync("/api/secrets/rotate", null);
            var again = await admin.PostJsonAsync("/api/secrets/rotate", null);
            using var refused = await both.CreateClient(PlatformServerFactory.OperatorKey).PostAsync("/api/secrets/rotate", null, Ct);

            // Assert 1
            Assert.Equal(("b", 2, 2, 0), (report.Str("activeKeyId"), (int)report["rotated"]!, (int)report["current"]!, (int)report["unreadable"]!));
            Assert.Equal((0, 4), ((int)again["rotated"]!, (int)again["current"]!));
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.All(await StoredKeyIdsAsync(both), id => Assert.Equal("b", id));
            await AssertReadableAsync(both, "hook-a", "crm-a");
            await AssertReadableAsync(both, "hook-b", "crm-b");

            // The chat token from before the rotation (under A) still resumes; the resume brings a token under B.
            var resumed = await ConnectChatAsync(both, "chat-a", chatToken);
            Assert.True(resumed.Resumed);
            Assert.StartsWith("b.", resumed.Token, StringComparison.Ordinal);
            chatToken = resumed.Token;

            // The rotation is in the audit trail with its counts and who asked.
            await both.Services.GetRequiredService<AuditLogWriter>().FlushAsync(Ct);
            var audit = (await admin.GetJsonAsync("/api/audit?action=/api/secrets/rotate"))["items"]!.AsArray();
            var entry = audit.Last(i => i.Str("outcome") == "success")!;
            Assert.Equal(("tests-admin", "secrets"), (entry.Str("actor"), entry.Str("targetType")));
            Assert.Equal(2, (int)JsonNode.Parse(entry.Str("details"))!["rotated"]!);
        }

        // Act 2: key A is removed; B is the only key.
        await using (var onlyB = Server(settings, ("Platform:Secrets:Keys:b", KeyB)))
        {
            // Assert 2: everything is still readable, and the token issued under B still resumes.
            await AssertReadableAsync(onlyB, "hook-a", "crm-a");
            await AssertReadableAsync(onlyB, "hook-b", "crm-b");
            Assert.True((await ConnectChatAsync(onlyB, "chat-a", chatToken)).Resumed);
        }

        // Act 3: a server that has only key C cannot read values under B, and says which key is missing.
        await using var onlyC = Server(settings, ("Platform:Secrets:Keys:c", KeyC));
        using var adminC = onlyC.CreateClient(PlatformServerFactory.AdminKey);
        using var response = await adminC.GetAsync("/api/data-sources/crm-a", Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.Conflict);
        var error = await Assert.ThrowsAsync<SecretDecryptionException>(() => onlyC.Services.GetRequiredService<IChannelStore>().FindAsync("hook-a", Ct));
        var rotation = await adminC.PostJsonAsync("/api/secrets/rotate", null);

        // Assert 3
        Assert.Contains("key 'b'", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Contains("Platform:Secrets:Keys:b", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("b", error.MissingKeyId);
        Assert.Equal((0, 4), ((int)rotation["rotated"]!, (int)rotation["unreadable"]!));
        Assert.Contains(rotation["problems"]!.AsArray(), p => p!.GetValue<string>().Contains("'b'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Sqlite")]
    [InlineData("PostgreSql")]
    public async Task Should_Rotate_Every_Stored_Secret_When_The_Rotate_Secrets_Command_Runs(string provider)
    {
        // Arrange: values stored under key A by a server.
        using var data = new TempDirectory("platform-secrets-command");
        var connectionString = provider == "PostgreSql" ? await postgres.CreateDatabaseAsync("secretscmd") : null;
        var settings = PlatformServerFactory.WithKeys(data.Path, provider, connectionString);
        await using (var onlyA = Server(settings, ("Platform:Secrets:Keys:a", KeyA)))
        {
            await CreateChannelAndDataSourceAsync(onlyA.CreateClient(PlatformServerFactory.AdminKey), "hook", "crm");
            Assert.All(await StoredKeyIdsAsync(onlyA), id => Assert.Equal("a", id));
        }
        string[] Args(params string[] keys)
        {
            var args = new List<string> { "rotate-secrets", $"--Platform:DataDirectory={data.Path}", $"--Platform:Database:Provider={provider}" };
            if (connectionString is not null) args.Add($"--ConnectionStrings:Platform={connectionString}");
            return [.. args, .. keys];
        }

        // Act: the command with A and B (active), twice.
        using var output = new StringWriter();
        using var errors = new StringWriter();
        var first = await ServerCommands.RotateSecretsAsync(Args($"--Platform:Secrets:Keys:a={KeyA}", $"--Platform:Secrets:Keys:b={KeyB}", "--Platform:Secrets:ActiveKeyId=b"), output, errors, Ct);
        var firstOutput = output.ToString();
        var second = await ServerCommands.RotateSecretsAsync(Args($"--Platform:Secrets:Keys:a={KeyA}", $"--Platform:Secrets:Keys:b={KeyB}", "--Platform:Secrets:ActiveKeyId=b"), output, errors, Ct);

        // Assert: 2 rotated, then none; a server with only B reads them.
        Assert.Equal((0, 0), (first, second));
        Assert.Contains("Rotated 2 secrets to key 'b'", firstOutput, StringComparison.Ordinal);
        Assert.Contains("Rotated 0 secrets to key 'b'", output.ToString()[firstOutput.Length..], StringComparison.Ordinal);
        Assert.Equal("", errors.ToString());
        await using var onlyB = Server(settings, ("Platform:Secrets:Keys:b", KeyB));
        Assert.All(await StoredKeyIdsAsync(onlyB), id => Assert.Equal("b", id));
        await AssertReadableAsync(onlyB, "hook", "crm");
    }

    [Fact]
    public void Should_Name_The_Missing_Key_When_A_Value_Was_Encrypted_Under_A_Key_That_Is_Not_Configured()
    {
        // Arrange
        var a = SecretProtector.FromOptions(new SecretProtectionOptions { Key = KeyA });
        var ab = SecretProtector.FromOptions(new SecretProtectionOptions { Key = KeyA, Keys = { ["b"] = KeyB } });
        var onlyB = SecretProtector.FromOptions(new SecretProtectionOptions { Keys = { ["b"] = KeyB } });
        var underA = a.Protect("secret", "field");
        var underB = ab.Protect("secret", "field");

        // Act
        var missingDefault = Assert.Throws<SecretDecryptionException>(() => onlyB.Unprotect(underA, "field"));
        var missingB = Assert.Throws<SecretDecryptionException>(() => a.Unprotect(underB, "field"));
        var several = Assert.Throws<SecretKeyException>(() => SecretProtector.FromOptions(new SecretProtectionOptions { Keys = { ["b"] = KeyB, ["c"] = KeyC } }));
        var badId = Assert.Throws<SecretKeyException>(() => SecretProtector.FromOptions(new SecretProtectionOptions { Keys = { ["b:1"] = KeyB } }));

        // Assert: v1 values are under "default"; a new key is used for writes; reads use any configured key.
        Assert.StartsWith("v1:", underA, StringComparison.Ordinal);
        Assert.StartsWith("v2:b:", underB, StringComparison.Ordinal);
        Assert.Equal(("b", "secret", "secret"), (ab.ActiveKeyId, ab.Unprotect(underA, "field"), ab.Unprotect(underB, "field")));
        Assert.Equal(underB, ab.Reprotect(underB, "field"));
        Assert.Equal("secret", onlyB.Unprotect(ab.Reprotect(underA, "field"), "field"));
        Assert.Equal(SecretProtector.DefaultKeyId, missingDefault.MissingKeyId);
        Assert.Contains("Platform:Secrets:Key", missingDefault.Message, StringComparison.Ordinal);
        Assert.Equal("b", missingB.MissingKeyId);
        Assert.Contains("key 'b'", missingB.Message, StringComparison.Ordinal);
        Assert.Contains("Platform:Secrets:ActiveKeyId", several.Message, StringComparison.Ordinal);
        Assert.Contains("not valid", badId.Message, StringComparison.Ordinal);
    }

    private static PlatformServerFactory Server(Dictionary<string, string?> settings, params (string Key, string Value)[] secrets)
    {
        var all = new Dictionary<string, string?>(settings);
        foreach (var (key, value) in secrets) all[key] = value;
        return new PlatformServerFactory(all);
    }

    private static async Task CreateChannelAndDataSourceAsync(HttpClient admin, string channel, string dataSource)
    {
        await admin.PostJsonAsync("/api/channels", new JsonObject
        {
            ["name"] = channel, ["kind"] = "Webhook", ["settings"] = new JsonObject { ["secret"] = WebhookSecret },
        }, HttpStatusCode.Created);
        using var created = await admin.PostAsJsonAsync("/api/data-sources", new { name = dataSource, provider = "Sqlite", connectionString = ConnectionString }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private static async Task AssertReadableAsync(PlatformServerFactory server, string channel, string dataSource)
    {
        var stored = await server.Services.GetRequiredService<IChannelStore>().FindAsync(channel, Ct);
        Assert.Equal(WebhookSecret, stored!.Settings["secret"]!.GetValue<string>());
        var source = await server.Services.GetRequiredService<IDataSourceStore>().FindAsync(dataSource, Ct);
        Assert.Equal(ConnectionString, source!.ConnectionString);
    }

    /// <summary>The key id of every stored secret (channel secrets and data source connection strings), as found in the database.</summary>
    private static async Task<string[]> StoredKeyIdsAsync(PlatformServerFactory server)
    {
        await using var db = await server.Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct);
        var channels = await db.Set<ChannelEntity>().AsNoTracking().ToListAsync(Ct);
        var documents = await db.Set<ConfigurationDocumentEntity>().AsNoTracking().Where(d => d.Kind == DocumentDataSourceStore.Kind).ToListAsync(Ct);
        return channels.Select(c => JsonNode.Parse(c.Settings)!["secret"]?.GetValue<string>()).OfType<string>()
            .Concat(documents.Select(d => JsonNode.Parse(d.Json)!["connectionString"]!.GetValue<string>()))
            .Select(v => SecretProtector.KeyIdOf(v) ?? "plain text: " + v).ToArray();
    }

    /// <summary>Opens the web chat of <paramref name="channel"/> (with a token to resume) and reads its welcome frame.</summary>
    private static async Task<(bool Resumed, string Token)> ConnectChatAsync(PlatformServerFactory server, string channel, string? token)
    {
        var uri = new Uri($"ws://localhost/ws/chat?channel={channel}" + (token is null ? "" : "&token=" + Uri.EscapeDataString(token)));
        using var socket = await server.Server.CreateWebSocketClient().ConnectAsync(uri, Ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var text = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer, timeout.Token);
                Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
                text.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
            var frame = JsonNode.Parse(Encoding.UTF8.GetString(text.ToArray()))!;
            if (frame.Str("type") != "welcome") continue;
            await WebChatClient.CloseQuietlyAsync(socket);
            return (frame["resumed"]!.GetValue<bool>(), frame.Str("token"));
        }
    }
}
