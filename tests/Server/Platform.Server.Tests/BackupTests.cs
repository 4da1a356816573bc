using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Platform.Scheduling.Hangfire;
using Platform.Channels.Webhooks;
using Platform.Server.Observability;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;
using Platform.Testing.Fakes;
using static Platform.Server.Tests.Infrastructure.Workflows;

namespace Platform.Server.Tests;

/// <summary><c>backup --out</c> while the server serves, the database wiped, <c>restore --from</c>, and the work goes on.</summary>
public sealed class BackupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Secret = "webhook-secret-for-backups-0123456789";

    private static async Task<HttpStatusCode> PostAsync(PlatformServerFactory server, string channel, string id, string sender, string text)
    {
        var body = new JsonObject { ["id"] = id, ["sender"] = new JsonObject { ["id"] = sender }, ["text"] = text }.ToJsonString();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/channels/{channel}/webhook") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body, Secret));
        using var client = server.CreateClient(apiKey: null);
        using var response = await client.SendAsync(request, Ct);
        return response.StatusCode;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!await condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException($"Waited 30 s for {what}.");
            await Task.Delay(100, Ct);
        }
    }

    [Fact]
    public async Task Should_Resume_The_Suspended_Instance_And_Deliver_The_Pending_Reply_When_Restored_From_A_Backup_Taken_While_Serving()
    {
        // Arrange: a conversation waits for its next message, and its first reply waits for a receiver that is down.
        using var data = new TempDirectory("platform-backup-test");
        using var backups = new TempDirectory("platform-backup-files");
        var file = Path.Combine(backups.Path, "platform.db");
        var receiverUp = 0;
        await using var receiver = await LoopbackReceiver.StartAsync(_ => Task.FromResult(Volatile.Read(ref receiverUp) == 1
            ? new FakeResponse(200, "", "text/plain") : new FakeResponse(503, "down", "text/plain")));
        var settings = PlatformServerFactory.WithKeys(data.Path);
        settings["Platform:Messaging:RetryDelay"] = "00:00:00.5";
        settings["Platform:Messaging:MaxRetryDelay"] = "00:00:01";
        settings["Platform:Messaging:MaxDeliveryAttempts"] = "50";
        var channel = "backup-" + Guid.NewGuid().ToString("N")[..8];
        int backupCode;
        var output = new StringWriter();
        var error = new StringWriter();
        await using (var first = new PlatformServerFactory(settings))
        {
            using var admin = first.CreateClient(PlatformServerFactory.AdminKey);
            await admin.PostJsonAsync("/api/channels", new JsonObject
            {
                ["name"] = channel, ["kind"] = "Webhook",
                ["settings"] = new JsonObject { ["secret"] = Secret, ["outboundUrl"] = receiver.Url("/hooks").ToString() },
            }, HttpStatusCode.Created);
            await admin.SaveAsync(Sequence(UniqueName("backup slots"), null,
                Activity("received", "Platform.MessageReceived", ("channel", Literal("String", channel))),
                Activity("ask", "Platform.SendReply", ("text", Literal("String", "Which room?"))),
                Activity("wait", "Platform.WaitForMessage"),
                Activity("answer", "Platform.SendReply", ("text", new JsonObject
                {
                    ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "JavaScript", ["value"] = "'Turning on the ' + getOutput('wait', 'Text') + ' light.'" },
                }))), publish: true);
            Assert.Equal(HttpStatusCode.Accepted, await PostAsync(first, channel, "evt-1", "u-1", "turn on the light"));
            await WaitUntilAsync(async () => (await admin.GetJsonAsync($"/api/messages/outbox?channel={channel}"))["items"]!.AsArray()
                .Any(m => m!["attempts"]!.GetValue<int>() >= 1), "the first delivery attempt");

            // Act: back up while other conversations keep the server writing.
            var load = Task.WhenAll(Enumerable.Range(0, 20).Select(i => PostAsync(first, channel, $"evt-load-{i}", $"load-{i}", "hello")));
            backupCode = await ServerCommands.RunAsync(["backup", "--out", file, $"--Platform:DataDirectory={data.Path}"], output, error, Ct);
            Assert.All(await load, status => Assert.Equal(HttpStatusCode.Accepted, status));
        }
        SqliteConnection.ClearAllPools();
        foreach (var db in Directory.GetFiles(data.Path, "platform.db*")) File.Delete(db); // the disk is lost
        var restoreCode = await ServerCommands.RunAsync(["restore", "--from", file, $"--Platform:DataDirectory={data.Path}"], output, error, Ct);
        Volatile.Write(ref receiverUp, 1);
        await using var second = new PlatformServerFactory(settings);
        Assert.Equal(HttpStatusCode.Accepted, await PostAsync(second, channel, "evt-2", "u-1", "kitchen"));
        string[] Texts() => [.. receiver.Requests.Where(r => r.Json?["to"]?.GetValue<string>() == "u-1" && r.Json?["text"] is not null)
            .Select(r => r.Json!["text"]!.GetValue<string>())];
        await WaitUntilAsync(() => Task.FromResult(Texts().Contains("Turning on the kitchen light.") && Texts().Contains("Which room?")), "both replies to u-1");

        // Assert
        Assert.True(backupCode == 0, error.ToString());
        Assert.True(restoreCode == 0, error.ToString());
        Assert.Contains("Backed up Sqlite", output.ToString());
        Assert.True(new FileInfo(file).Length > 0);
        Assert.Contains("Which room?", Texts());
        Assert.Contains("Turning on the kitchen light.", Texts());
    }

    [Fact]
    public async Task Should_Exit_With_A_Message_When_The_Backup_File_Is_Missing_Or_Not_A_Database()
    {
        // Arrange
        using var data = new TempDirectory("platform-restore-test");
        var notADatabase = Path.Combine(data.Path, "notes.txt");
        await File.WriteAllTextAsync(notADatabase, "hello", Ct);
        var error = new StringWriter();

        // Act
        var usage = await ServerCommands.RunAsync(["restore"], TextWriter.Null, error, Ct);
        var missing = await ServerCommands.RunAsync(["restore", "--from", Path.Combine(data.Path, "none.db"), $"--Platform:DataDirectory={data.Path}"], TextWriter.Null, error, Ct);
        var wrong = await ServerCommands.RunAsync(["restore", "--from", notADatabase, $"--Platform:DataDirectory={data.Path}"], TextWriter.Null, error, Ct);

        // Assert
        Assert.Equal(2, usage);
        Assert.Equal(1, missing);
        Assert.Equal(1, wrong);
        Assert.Contains("does not exist", error.ToString());
        Assert.Contains("is not a SQLite database", error.ToString());
    }

    [Fact]
    public async Task Should_Schedule_Retention_And_Backups_And_Keep_The_Newest_Backups_When_The_Backup_Job_Runs()
    {
        // Arrange
        using var data = new TempDirectory("platform-backup-job-test");
        var settings = PlatformServerFactory.WithKeys(data.Path);
        settings["Platform:Backups:Keep"] = "2";
        settings["Platform:Backups:Directory"] = "nightly";
        await using var server = new PlatformServerFactory(settings);
        using var admin = server.CreateClient(PlatformServerFactory.AdminKey);
        await admin.GetJsonAsync("/api/channels"); // started

        // Act
        var job = server.Services.GetRequiredService<DatabaseBackupJob>();
        var written = new List<string>();
        for (var i = 0; i < 3; i++) written.Add(await job.RunAsync());

        // Assert
        using var connection = server.Services.GetRequiredService<JobStorage>().GetConnection();
        var recurring = connection.GetRecurringJobs().Select(j => j.Id).ToList();
        Assert.Contains(DataRetentionJob.JobId, recurring);
        Assert.Contains(DatabaseBackupJob.JobId, recurring);
        var kept = Directory.GetFiles(Path.Combine(data.Path, "nightly")).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(written.Skip(1).ToList(), kept);
        Assert.All(kept, f => Assert.True(new FileInfo(f).Length > 0));
    }
}
