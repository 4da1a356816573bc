using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore;
using Platform.Persistence.EFCore.Serialization;
using static Platform.Persistence.Tests.TestData;

namespace Platform.Persistence.Tests;

/// <summary>
/// The store contract, run against each provider by a derived class. Every test gets a fresh, migrated database.
/// </summary>
public abstract partial class PersistenceContractTests : IAsyncLifetime
{
    private ServiceProvider? _services;

    /// <summary>Creates an empty database for one test.</summary>
    protected abstract Task<PlatformDatabaseSettings> CreateDatabaseAsync();

    protected IServiceProvider Services => _services ?? throw new InvalidOperationException("Not initialised.");
    protected IWorkflowDefinitionStore Definitions => Services.GetRequiredService<IWorkflowDefinitionStore>();
    protected IWorkflowInstanceStore Instances => Services.GetRequiredService<IWorkflowInstanceStore>();
    protected IWorkflowCommitStore Commits => Services.GetRequiredService<IWorkflowCommitStore>();
    protected IBookmarkStore Bookmarks => Services.GetRequiredService<IBookmarkStore>();
    protected ITriggerStore Triggers => Services.GetRequiredService<ITriggerStore>();
    protected IActivityExecutionStore Journal => Services.GetRequiredService<IActivityExecutionStore>();
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var settings = await CreateDatabaseAsync() with { MigrateOnStartup = false };
        _services = new ServiceCollection().AddLogging().AddPlatformPersistence(settings).BuildServiceProvider();
        await _services.MigratePlatformDatabaseAsync(Ct);
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_services is not null) await _services.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    // ---------------------------------------------------------------- migrations

    [Fact]
    public async Task Should_ApplyAllMigrationsAndMatchTheModel_When_DatabaseStartsEmpty()
    {
        await using var db = await Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct);

        var all = db.Database.GetMigrations().ToList();
        var applied = (await db.Database.GetAppliedMigrationsAsync(Ct)).ToList();

        Assert.NotEmpty(all);
        Assert.Equal(all, applied);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
        Assert.False(db.Database.HasPendingModelChanges(), "The model has changes that no migration captures: run add-migration.sh.");
        Assert.Equal(0, await db.WorkflowInstances.CountAsync(Ct));
    }

    [Fact]
    public async Task Should_DoNothing_When_MigratingAnUpToDateDatabaseAgain()
    {
        var settings = Services.GetRequiredService<PlatformDatabaseSettings>();
        await using var other = new ServiceCollection().AddLogging().AddPlatformPersistence(settings).BuildServiceProvider();

        await other.MigratePlatformDatabaseAsync(Ct);

        await Commits.CommitAsync(Commit(Instance("i1")), Ct);
        Assert.NotNull(await other.GetRequiredService<IWorkflowInstanceStore>().FindAsync("i1", Ct));
    }

    // ---------------------------------------------------------------- definitions

    [Fact]
    public async Task Should_SelectVersionsLikeVersionOptionsMatches_When_FindingWithEveryVersionOption()
    {
        // a: v1 published (not latest), v2 latest draft; b: v1 latest and published; c: v1, v2 old drafts, v3 latest draft
        WorkflowDefinition[] all =
        [
            Definition("a", 1, isLatest: false, isPublished: true), Definition("a", 2, isLatest: true),
            Definition("b", 1, isLatest: true, isPublished: true),
            Definition("c", 1, isLatest: false), Definition("c", 2, isLatest: false), Definition("c", 3, isLatest: true),
        ];
        await Definitions.SaveManyAsync(all, Ct);

        VersionOptions[] options =
        [
            VersionOptions.Latest, VersionOptions.Published, VersionOptions.LatestOrPublished, VersionOptions.LatestAndPublished,
            VersionOptions.Draft, VersionOptions.All, VersionOptions.SpecificVersion(1), VersionOptions.SpecificVersion(2), VersionOptions.SpecificVersion(9),
        ];
        foreach (var option in options)
        {
            var page = await Definitions.FindManyAsync(new WorkflowDefinitionFilter { VersionOptions = option }, new PageArgs(), Ct);
            var expected = all.Where(option.Matches).Select(d => d.Id).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, page.Items.Select(d => d.Id).Order(StringComparer.Ordinal).ToList());
            Assert.Equal(expected.Count, page.TotalCount);

            foreach (var definitionId in new[] { "a", "b", "c" })
            {
                var found = await Definitions.FindAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId, VersionOptions = option }, Ct);
                var best = all.Where(d => d.DefinitionId == definitionId && option.Matches(d)).MaxBy(d => d.Version);
                Assert.Equal(best?.Id, found?.Id);
            }
        }
    }

    [Fact]
    public async Task Should_KeepJsonExactly_When_DefinitionIsSavedAndLoaded()
    {
        const string rootText = """
            {"type":"Elsa.Flowchart","id":"fc","zeta":1,"alpha":2,"number":1.50,"big":12345678901234567890,"exp":1e3,"neg":-0.0,
             "text":"Привет 👋 <b>&amp;</b> \"quoted\" \\ back\nline","empty":{},"list":[],"null":null,"bool":false,
             "activities":[{"id":"a1","type":"Platform.SendMessage","metadata":{"designer":{"position":{"x":-120.5,"y":300}}},"unknownProp":[1,"two",{"three":3}]}]}
            """;
        var definition = Definition("json", 1);
        definition.Root = JsonNode.Parse(rootText)!.AsObject();
        definition.Variables = JsonNode.Parse("""[{"id":"v1","name":"Counter","typeName":"Int32","value":"0","storageDriverTypeName":null}]""")!.AsArray();
        definition.Inputs = JsonNode.Parse("""[{"name":"chatId","type":"String","uiHint":"singleline"}]""")!.AsArray();
        definition.Outputs = JsonNode.Parse("""[{"name":"answer"}]""")!.AsArray();
        definition.Outcomes = JsonNode.Parse("""["Done","Failed"]""")!.AsArray();
        definition.Options = JsonNode.Parse("""{"usableAsActivity":true,"autoUpdateConsumingWorkflows":false,"activationStrategyType":"Default"}""")!.AsObject();
        definition.CustomProperties = JsonNode.Parse("""{"owner":"team-x","tags":["a","b"],"nested":{"deep":[{"k":"v"}]}}""")!.AsObject();
        definition.Description = "Описание";
        definition.IsReadonly = true;
        definition.IsSystem = true;
        definition.ToolVersion = "3.9.1.0";
        // values created in code (not parsed) must round-trip too
        definition.Root["created"] = new JsonObject { ["double"] = 0.1 + 0.2, ["long"] = long.MaxValue, ["date"] = "2025-01-01T00:00:00Z" };

        await Definitions.SaveManyAsync([definition], Ct);
        var loaded = await Definitions.FindAsync(new WorkflowDefinitionFilter { Id = definition.Id }, Ct);

        Assert.NotNull(loaded);
        Assert.Equal(PlatformJson.Write(definition.Root), PlatformJson.Write(loaded.Root));
        Assert.True(JsonNode.DeepEquals(definition.Root, loaded.Root));
        Assert.Equal("1.50", loaded.Root["number"]!.ToJsonString());
        Assert.Equal("12345678901234567890", loaded.Root["big"]!.ToJsonString());
        Assert.Equal(new[] { "type", "id", "zeta", "alpha" }, loaded.Root.Select(p => p.Key).Take(4));
        Assert.Equal(0.1 + 0.2, loaded.Root["created"]!["double"]!.GetValue<double>());
        Assert.Equal(definition.Variables.ToJsonString(), loaded.Variables.ToJsonString());
        Assert.Equal(definition.Inputs.ToJsonString(), loaded.Inputs.ToJsonString());
        Assert.Equal(definition.Outputs.ToJsonString(), loaded.Outputs.ToJsonString());
        Assert.Equal(definition.Outcomes.ToJsonString(), loaded.Outcomes.ToJsonString());
        Assert.Equal(definition.Options.ToJsonString(), loaded.Options.ToJsonString());
        Assert.Equal(definition.CustomProperties.ToJsonString(), loaded.CustomProperties.ToJsonString());
        Assert.Equal((definition.Name, definition.Description, definition.Version, definition.IsLatest, definition.IsPublished, definition.IsReadonly,
            definition.IsSystem, definition.ToolVersion, definition.CreatedAt),
            (loaded.Name, loaded.Description, loaded.Version, loaded.IsLatest, loaded.IsPublished, loaded.IsReadonly,
            loaded.IsSystem, loaded.ToolVersion, loaded.CreatedAt));
    }

    [Fact]
    public async Task Should_UpdateAndInsertInOneCall_When_SavingExistingAndNewVersions()
    {
        var v1 = Definition("d", 1, isLatest: true, isPublished: true);
        await Definitions.SaveManyAsync([v1], Ct);

        // publish flow: v1 is no longer latest, v2 is the new latest draft
        v1.IsLatest = false;
        v1.Root["changed"] = true;
        var v2 = Definition("d", 2, isLatest: true);
        await Definitions.SaveManyAsync([v1, v2], Ct);

        var all = await Definitions.FindManyAsync(new WorkflowDefinitionFilter { DefinitionId = "d" }, new PageArgs(), Ct);
        Assert.Equal(2, all.TotalCount);
        Assert.Equal([("d-v1", false, true), ("d-v2", true, false)], all.Items.Select(d => (d.Id, d.IsLatest, d.IsPublished)).ToList());
        Assert.True(all.Items[0].Root["changed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Should_FilterPageAndSearch_When_ManyDefinitionsExist()
    {
        var definitions = Enumerable.Range(1, 23).Select(i => Definition($"def-{i:D2}", 1, name: $"Flow {i:D2}")).ToList();
        definitions.Add(Definition("orders", 1, name: "Обработка ЗАКАЗОВ"));
        definitions.Add(Definition("unnamed", 1));
        definitions[^1].Name = null;
        definitions.Add(Definition("system", 1, name: "System flow"));
        definitions[^1].IsSystem = true;
        definitions[^1].Description = "Handles Escalations";
        await Definitions.SaveManyAsync(definitions, Ct);

        var first = await Definitions.FindManyAsync(new WorkflowDefinitionFilter(), new PageArgs(0, 10), Ct);
        var third = await Definitions.FindManyAsync(new WorkflowDefinitionFilter(), new PageArgs(20, 10), Ct);
        Assert.Equal(26, first.TotalCount);
        Assert.Equal(10, first.Items.Count);
        Assert.Null(first.Items[0].Name); // missing names sort first, like LINQ
        Assert.Equal("Flow 01", first.Items[1].Name);
        Assert.Equal(["Flow 20", "Flow 21", "Flow 22", "Flow 23", "System flow", "Обработка ЗАКАЗОВ"], third.Items.Select(d => d.Name).ToList());

        Assert.Equal(["orders"], await Ids(new WorkflowDefinitionFilter { SearchTerm = "заказов" }));
        Assert.Equal(["system"], await Ids(new WorkflowDefinitionFilter { SearchTerm = "ESCALATION" }));
        Assert.Equal(["def-07"], await Ids(new WorkflowDefinitionFilter { SearchTerm = "W 07" }));
        Assert.Equal(10, (await Definitions.FindManyAsync(new WorkflowDefinitionFilter { SearchTerm = "flow 1" }, new PageArgs(0, 3), Ct)).TotalCount);
        Assert.Equal(["system"], await Ids(new WorkflowDefinitionFilter { IsSystem = true }));
        Assert.Equal(25, (await Definitions.FindManyAsync(new WorkflowDefinitionFilter { IsSystem = false }, new PageArgs(), Ct)).TotalCount);
        Assert.Equal(["def-03"], await Ids(new WorkflowDefinitionFilter { Name = "Flow 03" }));
        Assert.Equal(["def-01", "def-02"], await Ids(new WorkflowDefinitionFilter { DefinitionIds = ["def-02", "def-01", "nope"] }));
        Assert.Equal(["def-05"], await Ids(new WorkflowDefinitionFilter { Id = "def-05-v1" }));
        Assert.Empty(await Ids(new WorkflowDefinitionFilter { SearchTerm = "%" }));
        var empty = await Definitions.FindManyAsync(new WorkflowDefinitionFilter(), new PageArgs(100, 10), Ct);
        Assert.Empty(empty.Items);
        Assert.Equal(26, empty.TotalCount);

        async Task<List<string>> Ids(WorkflowDefinitionFilter filter) =>
            (await Definitions.FindManyAsync(filter, new PageArgs(), Ct)).Items.Select(d => d.DefinitionId).ToList();
    }

    [Fact]
    public async Task Should_DeleteOnlyMatchingVersions_When_DeletingDefinitions()
    {
        await Definitions.SaveManyAsync([Definition("a", 1, isLatest: false, isPublished: true), Definition("a", 2), Definition("b", 1)], Ct);

        var deletedVersion = await Definitions.DeleteManyAsync(new WorkflowDefinitionFilter { Id = "a-v2" }, Ct);
        var deletedDefinition = await Definitions.DeleteManyAsync(new WorkflowDefinitionFilter { DefinitionId = "a" }, Ct);
        var deletedNothing = await Definitions.DeleteManyAsync(new WorkflowDefinitionFilter { DefinitionId = "zzz" }, Ct);

        Assert.Equal((1, 1, 0), (deletedVersion, deletedDefinition, deletedNothing));
        var left = await Definitions.FindManyAsync(new WorkflowDefinitionFilter(), new PageArgs(), Ct);
        Assert.Equal(["b-v1"], left.Items.Select(d => d.Id).ToList());
    }

    // ---------------------------------------------------------------- commit

    [Fact]
    public async Task Should_StoreInstanceBookmarksAndJournal_When_CommittingANewInstance()
    {
        var instance = Instance("i1", name: "Order 7", correlationId: "chat-1");
        instance.State.Bookmarks.Add(StateBookmark("b1"));
        instance.State.ActivityOutputs["a1"] = new Dictionary<string, object?> { ["result"] = new Dictionary<string, object?> { ["ok"] = true } };
        instance.State.Scheduled.Add(new WorkItem("a2") { ViaConnection = "c1", ResumeInput = new() { ["x"] = "y" } });
        instance.State.JoinArrivals["join1"] = ["c1", "c2"];
        instance.State.Incidents.Add(new Incident("a1", "fc:a1", "Elsa.Http", "boom", "Boom!", T0) { Exception = new ExceptionState("System.Exception", "Boom!", null) });
        instance.State.Fault = new WorkflowFault("Boom!", "a1", "boom");
        instance.State.JournalSequence = 7;
        instance.IncidentCount = 1;
        instance.ParentInstanceId = "parent";

        await Commits.CommitAsync(Commit(instance, [Bookmark("b1", "i1")], [Journal("j1", "i1", 1), Journal("j2", "i1", 2, status: ActivityStatus.Running)]), Ct);

        var loaded = await Instances.FindAsync("i1", Ct);
        Assert.NotNull(loaded);
        Assert.Equal(PlatformJson.Serialize(instance.State), PlatformJson.Serialize(loaded.State));
        Assert.Equal((instance.DefinitionId, instance.DefinitionVersionId, instance.Version, instance.Name, instance.CorrelationId, instance.Status,
                instance.SubStatus, instance.IncidentCount, instance.CreatedAt, instance.UpdatedAt, instance.FinishedAt, instance.ParentInstanceId),
            (loaded.DefinitionId, loaded.DefinitionVersionId, loaded.Version, loaded.Name, loaded.CorrelationId, loaded.Status,
                loaded.SubStatus, loaded.IncidentCount, loaded.CreatedAt, loaded.UpdatedAt, loaded.FinishedAt, loaded.ParentInstanceId));
        Assert.Equal(TimeSpan.Zero, loaded.CreatedAt.Offset); // timestamps come back in UTC
        // object? values come back as JsonElement (the engine converts them when it reads them)
        var greeting = Assert.IsType<JsonElement>(loaded.State.Variables["greeting"]);
        Assert.Equal("Привет, <world> & \"friends\"", greeting.GetString());
        Assert.Equal(42L, Assert.IsType<JsonElement>(loaded.State.Input["chatId"]).GetInt64());
        Assert.Equal(2L, Assert.IsType<JsonElement>(loaded.State.Bookmarks[0].Payload["attempt"]).GetInt64());
        Assert.Equal("c1", loaded.State.Scheduled[0].ViaConnection);
        Assert.Equal(["c1", "c2"], loaded.State.JoinArrivals["join1"]);
        Assert.Equal("boom", loaded.State.Incidents[0].Code);
        Assert.Equal("Boom!", loaded.State.Fault?.Message);

        Assert.Equal(["b1"], (await Bookmarks.FindByInstanceAsync("i1", Ct)).Select(b => b.Id).ToList());
        var journal = await Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = "i1" }, new PageArgs(), Ct);
        Assert.Equal([("j1", ActivityStatus.Completed), ("j2", ActivityStatus.Running)], journal.Items.Select(r => (r.Id, r.Status)).ToList());
    }

    [Fact]
    public async Task Should_ReplaceBookmarksAndUpsertJournal_When_CommittingAgain()
    {
        await Commits.CommitAsync(Commit(Instance("i1"), [Bookmark("b1", "i1"), Bookmark("b2", "i1")],
            [Journal("j1", "i1", 1), Journal("j2", "i1", 2, status: ActivityStatus.Running)]), Ct);
        await Commits.CommitAsync(Commit(Instance("other"), [Bookmark("ob", "other")], [Journal("oj", "other", 1)]), Ct);

        var next = Instance("i1", subStatus: WorkflowSubStatus.Finished);
        next.State.Variables["counter"] = 2L;
        var completed = Journal("j2", "i1", 2, status: ActivityStatus.Completed);
        completed.Payload["note"] = "done";
        await Commits.CommitAsync(Commit(next, [Bookmark("b3", "i1", key: "chat-2")], [completed, Journal("j3", "i1", 3)]), Ct);

        var loaded = await Instances.FindAsync("i1", Ct);
        Assert.Equal(WorkflowSubStatus.Finished, loaded!.SubStatus);
        Assert.Equal(2L, ((JsonElement)loaded.State.Variables["counter"]!).GetInt64());
        Assert.Equal(["b3"], (await Bookmarks.FindByInstanceAsync("i1", Ct)).Select(b => b.Id).ToList());
        Assert.Null(await Bookmarks.FindByIdAsync("b1", Ct));
        Assert.Equal("chat-2", (await Bookmarks.FindByIdAsync("b3", Ct))!.Key);
        var journal = await Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = "i1" }, new PageArgs(), Ct);
        Assert.Equal([("j1", ActivityStatus.Completed), ("j2", ActivityStatus.Completed), ("j3", ActivityStatus.Completed)],
            journal.Items.Select(r => (r.Id, r.Status)).ToList());
        Assert.Equal("done", ((JsonElement)journal.Items[1].Payload["note"]!).GetString());
        // the other instance is untouched
        Assert.Equal(["ob"], (await Bookmarks.FindByInstanceAsync("other", Ct)).Select(b => b.Id).ToList());
        Assert.NotNull(await Journal.FindAsync("oj", Ct));
    }

    [Fact]
    public async Task Should_RollBackTheWholeCommit_When_ItFailsHalfway()
    {
        await Commits.CommitAsync(Commit(Instance("i1"), [Bookmark("b1", "i1")], [Journal("j1", "i1", 1)]), Ct);

        var next = Instance("i1", subStatus: WorkflowSubStatus.Finished);
        var broken = Journal("j9", "i1", 9);
        broken.ActivityType = null!; // NOT NULL violation in the last statement of the transaction
        await Assert.ThrowsAsync<DbUpdateException>(() => Commits.CommitAsync(Commit(next, [Bookmark("b2", "i1")], [Journal("j2", "i1", 2), broken]), Ct));

        Assert.Equal(WorkflowSubStatus.Suspended, (await Instances.FindAsync("i1", Ct))!.SubStatus);
        Assert.Equal(["b1"], (await Bookmarks.FindByInstanceAsync("i1", Ct)).Select(b => b.Id).ToList());
        Assert.Equal(["j1"], (await Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = "i1" }, new PageArgs(), Ct)).Items.Select(r => r.Id).ToList());
    }

    [Fact]
    public async Task Should_Reject_When_CommitContainsAnotherInstancesBookmark()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Commits.CommitAsync(Commit(Instance("i1"), [Bookmark("b1", "i2")]), Ct));
        Assert.Null(await Instances.FindAsync("i1", Ct));
    }

    [Fact]
    public async Task Should_NotFail_When_ManyCommitsAndReadsRunConcurrently()
    {
        const int instances = 24, commitsPerInstance = 6;
        var work = Enumerable.Range(0, instances).Select(i => Task.Run(async () =>
        {
            var id = $"c{i}";
            for (var n = 1; n <= commitsPerInstance; n++)
            {
                var instance = Instance(id, subStatus: n == commitsPerInstance ? WorkflowSubStatus.Finished : WorkflowSubStatus.Suspended);
                instance.State.Variables["n"] = (long)n;
                await Commits.CommitAsync(Commit(instance, [Bookmark($"{id}-b{n}", id, key: id)], [Journal($"{id}-j{n}", id, n)]), Ct);
                Assert.Single(await Bookmarks.FindAsync("Platform.WaitForMessage", id, Ct));
                // case-insensitive search on many pooled connections at once (SQLite: the fold function on every connection)
                var found = await Instances.FindManyAsync(new WorkflowInstanceFilter { SearchTerm = id.ToUpperInvariant() }, new PageArgs(0, 50), ct: Ct);
                Assert.Contains(found.Items, x => x.Id == id);
                await Definitions.FindManyAsync(new WorkflowDefinitionFilter { SearchTerm = "ЗАКАЗ" }, new PageArgs(0, 5), Ct);
            }
        }, Ct)).ToList();

        await Task.WhenAll(work);

        var finished = await Instances.FindManyAsync(new WorkflowInstanceFilter { SubStatuses = [WorkflowSubStatus.Finished] }, new PageArgs(0, 1000), ct: Ct);
        Assert.Equal(instances, finished.TotalCount);
        Assert.All(finished.Items, i => Assert.Equal(commitsPerInstance, ((JsonElement)i.State.Variables["n"]!).GetInt64()));
        var journal = await Journal.FindManyAsync(new ActivityExecutionFilter(), new PageArgs(0, 1), Ct);
        Assert.Equal(instances * commitsPerInstance, journal.TotalCount);
    }

    // ---------------------------------------------------------------- bookmarks

    [Fact]
    public async Task Should_FindBookmarksByNameAndKey_When_KeyIsGivenOrNull()
    {
        await Commits.CommitAsync(Commit(Instance("i1"), [Bookmark("b1", "i1", key: "chat-1"), Bookmark("b2", "i1", key: null)]), Ct);
        await Commits.CommitAsync(Commit(Instance("i2"), [Bookmark("b3", "i2", key: "chat-2"), Bookmark("b4", "i2", name: "Elsa.Delay", key: null)]), Ct);

        Assert.Equal(["b1", "b2", "b3"], Sorted(await Bookmarks.FindAsync("Platform.WaitForMessage", null, Ct)));
        Assert.Equal(["b1"], Sorted(await Bookmarks.FindAsync("Platform.WaitForMessage", "chat-1", Ct)));
        Assert.Empty(await Bookmarks.FindAsync("Platform.WaitForMessage", "chat-9", Ct));
        Assert.Equal(["b4"], Sorted(await Bookmarks.FindAsync("Elsa.Delay", null, Ct)));
        Assert.Equal(["b3", "b4"], Sorted(await Bookmarks.FindByInstanceAsync("i2", Ct)));

        var b1 = await Bookmarks.FindByIdAsync("b1", Ct);
        var expected = Bookmark("b1", "i1", key: "chat-1");
        Assert.Equal((expected.WorkflowInstanceId, expected.Name, expected.Key, expected.ActivityId, expected.ActivityInstanceId, expected.CorrelationId, expected.ResumeAt, expected.CreatedAt),
            (b1!.WorkflowInstanceId, b1.Name, b1.Key, b1.ActivityId, b1.ActivityInstanceId, b1.CorrelationId, b1.ResumeAt, b1.CreatedAt));
        Assert.Null(await Bookmarks.FindByIdAsync("nope", Ct));

        static List<string> Sorted(IEnumerable<StoredBookmark> bookmarks) => bookmarks.Select(b => b.Id).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Should_ReturnDueBookmarksInTimeOrder_When_FindingDue()
    {
        var now = new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);
        await Commits.CommitAsync(Commit(Instance("i1"),
        [
            Bookmark("late", "i1", resumeAt: now.AddMinutes(5)),
            Bookmark("exact", "i1", resumeAt: now),
            // 13:59 at +02:00 is 11:59 UTC: due, and earlier than 'exact' whatever its local clock says
            Bookmark("offset", "i1", resumeAt: new DateTimeOffset(2025, 6, 1, 13, 59, 0, TimeSpan.FromHours(2))),
            Bookmark("early", "i1", resumeAt: now.AddHours(-3)),
            Bookmark("never", "i1", resumeAt: null),
        ]), Ct);

        var due = await Bookmarks.FindDueAsync(now, 10, Ct);
        var firstTwo = await Bookmarks.FindDueAsync(now.ToOffset(TimeSpan.FromHours(-5)), 2, Ct);

        Assert.Equal(["early", "offset", "exact"], due.Select(b => b.Id).ToList());
        Assert.Equal(["early", "offset"], firstTwo.Select(b => b.Id).ToList());
        Assert.Equal(now.AddMinutes(-1), due[1].ResumeAt);
        Assert.Empty(await Bookmarks.FindDueAsync(now.AddHours(-4), 10, Ct));
        Assert.Empty(await Bookmarks.FindDueAsync(now, 0, Ct));
    }

    // ---------------------------------------------------------------- triggers

    [Fact]
    public async Task Should_ReplaceOnlyThatDefinitionsTriggers_When_Replacing()
    {
        await Triggers.ReplaceAsync("a", [Trigger("a1", "a"), Trigger("a2", "a", key: "chat-1")], Ct);
        await Triggers.ReplaceAsync("b", [Trigger("b1", "b")], Ct);

        await Triggers.ReplaceAsync("a", [Trigger("a3", "a", name: "Platform.Cron", key: "0 * * * *")], Ct);

        Assert.Equal(["b1"], (await Triggers.FindByNameAsync("Platform.MessageReceived", Ct)).Select(t => t.Id).ToList());
        var cron = Assert.Single(await Triggers.FindByNameAsync("Platform.Cron", Ct));
        Assert.Equal(("a", "a-v1", "trigger1", "0 * * * *"), (cron.DefinitionId, cron.DefinitionVersionId, cron.ActivityId, cron.Key));

        await Triggers.ReplaceAsync("a", [], Ct);
        Assert.Empty(await Triggers.FindByNameAsync("Platform.Cron", Ct));
    }

    [Fact]
    public async Task Should_MatchTriggersWithoutKey_When_FindingByKey()
    {
        await Triggers.ReplaceAsync("a", [Trigger("any", "a", key: null), Trigger("k1", "a", key: "chat-1")], Ct);
        await Triggers.ReplaceAsync("b", [Trigger("k2", "b", key: "chat-2"), Trigger("other", "b", name: "Other", key: null)], Ct);

        Assert.Equal(["any", "k1"], Ids(await Triggers.FindAsync("Platform.MessageReceived", "chat-1", Ct)));
        Assert.Equal(["any", "k2"], Ids(await Triggers.FindAsync("Platform.MessageReceived", "chat-2", Ct)));
        Assert.Equal(["any"], Ids(await Triggers.FindAsync("Platform.MessageReceived", "chat-3", Ct)));
        Assert.Equal(["any"], Ids(await Triggers.FindAsync("Platform.MessageReceived", null, Ct)));
        Assert.Equal(["any", "k1", "k2"], Ids(await Triggers.FindByNameAsync("Platform.MessageReceived", Ct)));
        Assert.Empty(await Triggers.FindAsync("Nothing", "chat-1", Ct));

        static List<string> Ids(IEnumerable<StoredTrigger> triggers) => triggers.Select(t => t.Id).Order(StringComparer.Ordinal).ToList();
    }

    // ---------------------------------------------------------------- instances

    [Fact]
    public async Task Should_FilterInstances_When_EveryFilterIsUsed()
    {
        await Commits.CommitAsync(Commit(Instance("i1", "alpha", WorkflowSubStatus.Suspended, name: "Заказ 1", correlationId: "chat-1")), Ct);
        await Commits.CommitAsync(Commit(Instance("i2", "alpha", WorkflowSubStatus.Finished, name: "Order 2", correlationId: "chat-2")), Ct);
        await Commits.CommitAsync(Commit(Instance("i3", "beta", WorkflowSubStatus.Faulted, name: null, correlationId: "CHAT-3")), Ct);
        var v2 = Instance("i4", "beta", WorkflowSubStatus.Executing);
        v2.DefinitionVersionId = "beta-v2";
        await Commits.CommitAsync(Commit(v2), Ct);

        Assert.Equal(["i2"], await Ids(new WorkflowInstanceFilter { Id = "i2" }));
        Assert.Equal(["i1", "i3"], await Ids(new WorkflowInstanceFilter { Ids = ["i3", "i1", "nope"] }));
        Assert.Equal(["i1", "i2"], await Ids(new WorkflowInstanceFilter { DefinitionId = "alpha" }));
        Assert.Equal(["i1", "i2", "i3", "i4"], await Ids(new WorkflowInstanceFilter { DefinitionIds = ["alpha", "beta"] }));
        Assert.Equal(["i4"], await Ids(new WorkflowInstanceFilter { DefinitionVersionId = "beta-v2" }));
        Assert.Equal(["i2"], await Ids(new WorkflowInstanceFilter { CorrelationId = "chat-2" }));
        Assert.Equal(["i2", "i3"], await Ids(new WorkflowInstanceFilter { Statuses = [WorkflowStatus.Finished] }));
        Assert.Equal(["i1", "i4"], await Ids(new WorkflowInstanceFilter { SubStatuses = [WorkflowSubStatus.Suspended, WorkflowSubStatus.Executing] }));
        Assert.Equal(["i1", "i2", "i3"], await Ids(new WorkflowInstanceFilter { SearchTerm = "chat" })); // correlation id, any case
        Assert.Equal(["i1"], await Ids(new WorkflowInstanceFilter { SearchTerm = "заказ" })); // name, beyond ASCII
        Assert.Equal(["i3", "i4"], await Ids(new WorkflowInstanceFilter { SearchTerm = "BET" })); // definition id
        Assert.Equal(["i4"], await Ids(new WorkflowInstanceFilter { SearchTerm = "i4" })); // id
        Assert.Equal(["i2"], await Ids(new WorkflowInstanceFilter { DefinitionId = "alpha", Statuses = [WorkflowStatus.Finished] }));
        Assert.Empty(await Ids(new WorkflowInstanceFilter { SubStatuses = [] }));

        async Task<List<string>> Ids(WorkflowInstanceFilter filter) =>
            (await Instances.FindManyAsync(filter, new PageArgs(), ct: Ct)).Items.Select(i => i.Id).Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public async Task Should_OrderAndPageInstances_When_SortingByEachColumn()
    {
        var i1 = Instance("i1", createdAt: T0.AddHours(1), name: "b");
        var i2 = Instance("i2", createdAt: T0.AddHours(3), name: null, subStatus: WorkflowSubStatus.Finished);
        var i3 = Instance("i3", createdAt: T0.AddHours(2), name: "a", subStatus: WorkflowSubStatus.Finished);
        i3.FinishedAt = T0.AddHours(9);
        i1.UpdatedAt = T0.AddHours(10);
        foreach (var i in new[] { i1, i2, i3 }) await Commits.CommitAsync(Commit(i), Ct);

        Assert.Equal(["i2", "i3", "i1"], await Order(InstanceOrderBy.CreatedAt, descending: true));
        Assert.Equal(["i1", "i3", "i2"], await Order(InstanceOrderBy.CreatedAt, descending: false));
        Assert.Equal(["i1", "i2", "i3"], await Order(InstanceOrderBy.UpdatedAt, descending: true));
        // missing values sort lowest (as LINQ does), on every provider
        Assert.Equal(["i1", "i2", "i3"], await Order(InstanceOrderBy.FinishedAt, descending: false));
        Assert.Equal(["i3", "i2", "i1"], await Order(InstanceOrderBy.FinishedAt, descending: true));
        Assert.Equal(["i2", "i3", "i1"], await Order(InstanceOrderBy.Name, descending: false));
        Assert.Equal(["i1", "i3", "i2"], await Order(InstanceOrderBy.Name, descending: true));

        var page = await Instances.FindManyAsync(new WorkflowInstanceFilter(), new PageArgs(1, 1), InstanceOrderBy.CreatedAt, descending: true, Ct);
        Assert.Equal(3, page.TotalCount);
        Assert.Equal("i3", Assert.Single(page.Items).Id);

        async Task<List<string>> Order(InstanceOrderBy orderBy, bool descending) =>
            (await Instances.FindManyAsync(new WorkflowInstanceFilter(), new PageArgs(), orderBy, descending, Ct)).Items.Select(i => i.Id).ToList();
    }

    [Fact]
    public async Task Should_DeleteBookmarksAndJournal_When_InstancesAreDeleted()
    {
        await Commits.CommitAsync(Commit(Instance("i1", "alpha"), [Bookmark("b1", "i1")], [Journal("j1", "i1", 1)]), Ct);
        await Commits.CommitAsync(Commit(Instance("i2", "alpha"), [Bookmark("b2", "i2")], [Journal("j2", "i2", 1)]), Ct);
        await Commits.CommitAsync(Commit(Instance("i3", "beta"), [Bookmark("b3", "i3")], [Journal("j3", "i3", 1)]), Ct);

        var deleted = await Instances.DeleteManyAsync(new WorkflowInstanceFilter { DefinitionId = "alpha" }, Ct);

        Assert.Equal(2, deleted);
        Assert.Null(await Instances.FindAsync("i1", Ct));
        Assert.Empty(await Bookmarks.FindByInstanceAsync("i1", Ct));
        Assert.Empty(await Bookmarks.FindByInstanceAsync("i2", Ct));
        Assert.Null(await Journal.FindAsync("j1", Ct));
        Assert.Null(await Journal.FindAsync("j2", Ct));
        Assert.Equal(["b3"], (await Bookmarks.FindAsync("Platform.WaitForMessage", null, Ct)).Select(b => b.Id).ToList());
        Assert.NotNull(await Journal.FindAsync("j3", Ct));
        Assert.Equal(0, await Instances.DeleteManyAsync(new WorkflowInstanceFilter { Id = "i1" }, Ct));
    }

    // ---------------------------------------------------------------- journal

    [Fact]
    public async Task Should_ReturnJournalInSequenceOrder_When_Filtering()
    {
        var faulted = Journal("j3", "i1", 3, nodeId: "fc:a2", activityId: "a2", status: ActivityStatus.Faulted);
        faulted.Exception = new ExceptionState("System.InvalidOperationException", "Nope", "at X()");
        faulted.Payload["http"] = new Dictionary<string, object?> { ["status"] = 500L, ["headers"] = new[] { "a", "b" } };
        faulted.HasBookmarks = true;
        faulted.ActivityTypeVersion = 2;
        await Commits.CommitAsync(Commit(Instance("i1"), journal: [faulted, Journal("j1", "i1", 1), Journal("j2", "i1", 2, nodeId: "fc:a2", activityId: "a2")]), Ct);
        await Commits.CommitAsync(Commit(Instance("i2"), journal: [Journal("k1", "i2", 1)]), Ct);

        Assert.Equal(["j1", "j2", "j3"], await Ids(new ActivityExecutionFilter { WorkflowInstanceId = "i1" }));
        Assert.Equal(["j2", "j3"], await Ids(new ActivityExecutionFilter { WorkflowInstanceId = "i1", ActivityNodeId = "fc:a2" }));
        Assert.Equal(["j2", "j3"], await Ids(new ActivityExecutionFilter { ActivityId = "a2" }));
        var page = await Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = "i1" }, new PageArgs(1, 1), Ct);
        Assert.Equal((3L, "j2"), (page.TotalCount, Assert.Single(page.Items).Id));

        var loaded = await Journal.FindAsync("j3", Ct);
        Assert.NotNull(loaded);
        Assert.Equal(TimeSpan.Zero, loaded.StartedAt.Offset); // timestamps come back in UTC: the same instants
        faulted.StartedAt = faulted.StartedAt.ToUniversalTime();
        faulted.CompletedAt = faulted.CompletedAt?.ToUniversalTime();
        Assert.Equal(PlatformJson.Serialize(faulted), PlatformJson.Serialize(loaded));
        Assert.Equal(faulted.Exception, loaded.Exception);
        Assert.Equal(["Done"], loaded.Outcomes);
        Assert.Equal(3.5, ((JsonElement)loaded.Outputs["result"]!).GetDouble());
        Assert.Equal(faulted.StartedAt, loaded.StartedAt);

        async Task<List<string>> Ids(ActivityExecutionFilter filter) =>
            (await Journal.FindManyAsync(filter, new PageArgs(), Ct)).Items.Select(r => r.Id).ToList();
    }
}
