using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities;
using Platform.Server.Security;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>The audit trail (issue 16, part 3): who changed what, refused keys, device commands, paging, shutdown and retention.</summary>
public sealed class AuditTrailTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Record_Writes_With_The_Key_Name_Outcome_And_Target_When_The_Api_Is_Changed()
    {
        using var data = new TempDirectory("platform-audit");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(data.Path));
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);
        using var op = factory.CreateClient(PlatformServerFactory.OperatorKey);
        using var wrongKey = factory.CreateClient("not-a-key-of-this-server");

        var definition = await admin.SaveAsync(Workflows.HelloWorld(Workflows.UniqueName("audited")), publish: true);
        var definitionId = definition["definitionId"]!.GetValue<string>();
        using (var export = await admin.GetAsync($"{ApiClient.Api}/workflow-definitions/{definitionId}/export", Ct)) Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        using (var refused = await op.PostAsJsonAsync($"{ApiClient.Api}/workflow-definitions/{definitionId}/execute", new JsonObject(), Ct))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using (var bad = await wrongKey.GetAsync("/api/channels", Ct)) Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        using (var read = await admin.GetAsync("/api/channels", Ct)) Assert.Equal(HttpStatusCode.OK, read.StatusCode); // reads are not audited
        // A device command through the API: the actor is the caller, not the userId in the body.
        using (var command = await admin.PostAsJsonAsync("/api/devices/kitchen-light/commands", new { command = "fly", userId = "owner" }, Ct))
            Assert.Equal(HttpStatusCode.OK, command.StatusCode);
        await factory.Services.GetRequiredService<AuditLogWriter>().FlushAsync(Ct);

        var items = (await admin.GetJsonAsync("/api/audit?pageSize=100"))["items"]!.AsArray().Select(i => i!.AsObject()).ToList();
        var save = Assert.Single(items, i => (string?)i["action"] == "POST /elsa/api/workflow-definitions");
        Assert.Equal(("tests-admin", "key", "workflow-definitions", "success", 200), ((string?)save["actor"], (string?)save["actorKind"], (string?)save["targetType"], (string?)save["outcome"], (int)save["status"]!));
        var exported = Assert.Single(items, i => ((string?)i["action"])!.EndsWith("/export", StringComparison.Ordinal));
        Assert.Equal(definitionId, (string?)exported["targetId"]);
        var denied = Assert.Single(items, i => ((string?)i["action"])!.EndsWith("/execute", StringComparison.Ordinal));
        Assert.Equal(("tests-operator", "denied", 403, definitionId), ((string?)denied["actor"], (string?)denied["outcome"], (int)denied["status"]!, (string?)denied["targetId"]));
        var failedKey = Assert.Single(items, i => (string?)i["action"] == AuditMiddleware.AuthFailedAction);
        Assert.Equal(("anonymous", "denied", 401, "ApiKey"), ((string?)failedKey["actorKind"], (string?)failedKey["outcome"], (int)failedKey["status"]!,
            (string?)JsonNode.Parse((string)failedKey["details"]!)!["scheme"]));
        Assert.DoesNotContain(items, i => (string?)i["action"] == "GET /api/channels");
        var device = Assert.Single(items, i => (string?)i["action"] == "device.command");
        Assert.Equal(("tests-admin", "key", "kitchen-light", "denied"), ((string?)device["actor"], (string?)device["actorKind"], (string?)device["targetId"], (string?)device["outcome"]));
        Assert.Equal("owner", (string?)JsonNode.Parse((string)device["details"]!)!["userIdInput"]);

        using var operatorRead = await op.GetAsync("/api/audit", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, operatorRead.StatusCode);
    }

    [Fact]
    public async Task Should_Page_Newest_First_And_Filter_When_The_Trail_Is_Read()
    {
        using var data = new TempDirectory("platform-audit-page");
        await using var factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(data.Path));
        using var admin = factory.CreateClient(PlatformServerFactory.AdminKey);
        var log = factory.Services.GetRequiredService<IAuditLog>();
        for (var i = 0; i < 5; i++)
            log.Record(new AuditEntry { Action = "test.page", Actor = $"pager-{i % 2}", ActorKind = AuditActorKinds.User, TargetType = "pages", TargetId = $"p{i}",
                Outcome = i == 4 ? AuditOutcomes.Failed : AuditOutcomes.Success });
        await factory.Services.GetRequiredService<AuditLogWriter>().FlushAsync(Ct);

        var first = await admin.GetJsonAsync("/api/audit?action=test.page&pageSize=2");
        Assert.Equal(["p4", "p3"], first["items"]!.AsArray().Select(i => (string)i!["targetId"]!).ToArray());
        var continuation = first["continuation"]!.GetValue<string>();
        var second = await admin.GetJsonAsync($"/api/audit?action=test.page&pageSize=2&continuation={continuation}");
        Assert.Equal(["p2", "p1"], second["items"]!.AsArray().Select(i => (string)i!["targetId"]!).ToArray());
        var third = await admin.GetJsonAsync($"/api/audit?action=test.page&pageSize=2&continuation={second["continuation"]}");
        Assert.Equal(["p0"], third["items"]!.AsArray().Select(i => (string)i!["targetId"]!).ToArray());
        Assert.Null(third["continuation"]);

        var byActor = await admin.GetJsonAsync("/api/audit?actor=pager-1&targetType=pages");
        Assert.Equal(["p3", "p1"], byActor["items"]!.AsArray().Select(i => (string)i!["targetId"]!).ToArray());
        var failed = await admin.GetJsonAsync("/api/audit?outcome=failed&action=test.page");
        Assert.Equal(["p4"], failed["items"]!.AsArray().Select(i => (string)i!["targetId"]!).ToArray());
        var future = await admin.GetJsonAsync($"/api/audit?from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("o"))}");
        Assert.Empty(future["items"]!.AsArray());

        using var badTime = await admin.GetAsync("/api/audit?from=yesterday", Ct);
        Assert.Contains("ISO 8601", (await badTime.AssertProblemAsync(HttpStatusCode.BadRequest)).Str("detail"));
        using var badOutcome = await admin.GetAsync("/api/audit?outcome=maybe", Ct);
        await badOutcome.AssertProblemAsync(HttpStatusCode.BadRequest);
        using var change = await admin.DeleteAsync("/api/audit", Ct); // append-only: there is no route to change or delete entries
        Assert.Equal(HttpStatusCode.MethodNotAllowed, change.StatusCode);
    }

    [Fact]
    public async Task Should_Write_Every_Queued_Entry_When_The_Host_Stops()
    {
        using var data = new TempDirectory("platform-audit-stop");
        var settings = PlatformServerFactory.WithKeys(data.Path);
        await using (var factory = new PlatformServerFactory(settings))
        {
            using var _ = factory.CreateClient(); // starts the host
            var log = factory.Services.GetRequiredService<IAuditLog>();
            for (var i = 0; i < 3000; i++) log.Record(new AuditEntry { Action = "test.shutdown", TargetId = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        } // graceful stop: the queue is drained

        await using var again = new PlatformServerFactory(settings);
        using var admin = again.CreateClient(PlatformServerFactory.AdminKey);
        var store = again.Services.GetRequiredService<IAuditLogStore>();
        var written = await store.QueryAsync(new AuditQuery { Action = "test.shutdown", Take = 1000 }, Ct);
        var count = written.Count;
        long? before = written.Count > 0 ? written[^1].Id : null;
        while (written.Count == 1000)
        {
            written = await store.QueryAsync(new AuditQuery { Action = "test.shutdown", Take = 1000, Before = before }, Ct);
            count += written.Count;
            if (written.Count > 0) before = written[^1].Id;
        }
        Assert.Equal(3000, count);
    }

    [Fact]
    public async Task Should_Delete_Only_Expired_Entries_When_The_Retention_Job_Runs()
    {
        using var data = new TempDirectory("platform-audit-retention");
        var settings = PlatformServerFactory.WithKeys(data.Path);
        settings["Platform:Audit:RetentionDays"] = "30";
        await using var factory = new PlatformServerFactory(settings);
        using var _ = factory.CreateClient();
        var store = factory.Services.GetRequiredService<IAuditLogStore>();
        await store.AppendAsync([
            new AuditEntry { Action = "test.retention", TargetId = "old", Timestamp = DateTimeOffset.UtcNow.AddDays(-31) },
            new AuditEntry { Action = "test.retention", TargetId = "recent", Timestamp = DateTimeOffset.UtcNow.AddDays(-29) },
        ], Ct);

        var deleted = await factory.Services.GetRequiredService<AuditRetentionJob>().RunAsync();

        Assert.Equal(1, deleted);
        var left = await store.QueryAsync(new AuditQuery { Action = "test.retention" }, Ct);
        Assert.Equal(["recent"], left.Select(e => e.TargetId!).ToArray());
        using var connection = factory.Services.GetRequiredService<Hangfire.JobStorage>().GetConnection();
        var recurring = Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection);
        Assert.Contains(recurring, j => j.Id == AuditRetentionJob.RecurringJobId && j.Job?.Method.Name == nameof(AuditRetentionJob.RunAsync) && j.Job.Args.Count == 0);
    }
}
