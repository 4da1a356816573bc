using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using static Platform.Persistence.Tests.TestData;

namespace Platform.Persistence.Tests;

public abstract partial class PersistenceContractTests
{
    protected IInboxStore Inbox => Services.GetRequiredService<IInboxStore>();
    protected IOutboxStore Outbox => Services.GetRequiredService<IOutboxStore>();

    private static InboxMessage Received(string id, string key) => new()
    {
        Id = id, DeduplicationKey = key, Channel = "web", ConversationKey = "web:c1", Payload = """{"text":"hi"}""", ReceivedAt = T0,
    };

    private static OutboxMessage Queued(string id, string? instanceId = null) => new()
    {
        Id = id, WorkflowInstanceId = instanceId, Channel = "web", ConversationKey = "web:c1", Payload = """{"text":"hello"}""", CreatedAt = T0, NextAttemptAt = T0,
    };

    [Fact]
    public async Task Should_Store_Once_When_The_Same_Delivery_Arrives_Twice()
    {
        var (first, added) = await Inbox.AddAsync(Received("m1", "slack:s:Ev1"), Ct);
        var (second, addedAgain) = await Inbox.AddAsync(Received("m2", "slack:s:Ev1"), Ct);

        Assert.True(added);
        Assert.False(addedAgain);
        Assert.Equal("m1", second.Id);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(1, (await Inbox.ListAsync(null, null, new PageArgs(), Ct)).TotalCount);
    }

    [Fact]
    public async Task Should_Insert_Outbox_And_Mark_Inbox_Processed_When_A_Burst_Commits()
    {
        // Arrange
        await Inbox.AddAsync(Received("m1", "web:w:1"), Ct);
        var instance = Instance("i1");

        // Act
        await Commits.CommitAsync(new WorkflowCommit
        {
            Instance = instance, Bookmarks = [], Journal = [], Outbox = [Queued("o1", "i1")], ProcessedInboxMessageId = "m1",
        }, Ct);

        // Assert
        var inbox = await Inbox.FindAsync("m1", Ct);
        Assert.Equal(InboxStatus.Processed, inbox!.Status);
        Assert.Equal("i1", inbox.WorkflowInstanceId);
        var outbox = await Outbox.FindAsync("o1", Ct);
        Assert.Equal(OutboxStatus.Pending, outbox!.Status);
        Assert.Equal("""{"text":"hello"}""", outbox.Payload);
        Assert.Empty(await Inbox.FindClaimableAsync(T0.AddHours(1), 10, Ct));
    }

    [Fact]
    public async Task Should_Store_Only_Outbox_And_Inbox_Mark_When_Commit_Excludes_The_Instance()
    {
        // Arrange: a run under persistence OnFaultOnly/None that finished in one burst.
        await Inbox.AddAsync(Received("m-np", "web:w:np"), Ct);
        var instance = Instance("i-np");

        // Act
        await Commits.CommitAsync(new WorkflowCommit
        {
            Instance = instance, Bookmarks = [], Journal = [], Outbox = [Queued("o-np", "i-np")], ProcessedInboxMessageId = "m-np",
            IncludesInstance = false,
        }, Ct);

        // Assert: the reply and the inbox mark are durable, the instance is not stored.
        Assert.Equal(InboxStatus.Processed, (await Inbox.FindAsync("m-np", Ct))!.Status);
        Assert.Equal(OutboxStatus.Pending, (await Outbox.FindAsync("o-np", Ct))!.Status);
        Assert.Null(await Instances.FindAsync("i-np", Ct));
        Assert.Empty(await Inbox.FindClaimableAsync(T0.AddHours(1), 10, Ct));
    }

    [Fact]
    public async Task Should_Store_Every_Concurrent_Commit_In_Shared_Transactions_When_Commits_Arrive_Together()
    {
        // Arrange: 100 bursts finishing at once, each with its inbox message, one reply and a bookmark.
        const int count = 100;
        for (var i = 0; i < count; i++) await Inbox.AddAsync(Received($"gm{i}", $"web:w:gm{i}"), Ct);
        var store = Services.GetRequiredService<Platform.Persistence.EFCore.Stores.EfWorkflowCommitStore>();
        var before = store.GroupCommitCounts;

        // Act: queued without awaiting each other.
        var commits = Enumerable.Range(0, count).Select(i => Commits.CommitAsync(new WorkflowCommit
        {
            Instance = Instance($"gi{i}"), Bookmarks = [Bookmark($"gb{i}", $"gi{i}", key: $"gk{i}")], Journal = [],
            Outbox = [Queued($"go{i}", $"gi{i}")], ProcessedInboxMessageId = $"gm{i}",
        }, Ct)).ToList();
        await Task.WhenAll(commits);

        // Assert: all stored, in fewer transactions than commits.
        for (var i = 0; i < count; i++)
        {
            Assert.NotNull(await Instances.FindAsync($"gi{i}", Ct));
            Assert.Single(await Bookmarks.FindAsync("Platform.WaitForMessage", $"gk{i}", Ct));
            Assert.Equal(OutboxStatus.Pending, (await Outbox.FindAsync($"go{i}", Ct))!.Status);
            Assert.Equal(InboxStatus.Processed, (await Inbox.FindAsync($"gm{i}", Ct))!.Status);
        }
        var after = store.GroupCommitCounts;
        Assert.Equal(count, after.Commits - before.Commits);
        Assert.True(after.Transactions - before.Transactions < count, $"{after.Transactions - before.Transactions} transactions for {count} commits");
    }

    [Fact]
    public async Task Should_Fail_Only_The_Bad_Commit_When_One_Commit_Of_A_Batch_Breaks_A_Constraint()
    {
        // Arrange: an outbox row that already exists makes one commit's insert fail.
        await Outbox.AddAsync([Queued("bad-o")], Ct);

        // Act: the bad commit between good ones, queued together.
        var good1 = Commits.CommitAsync(new WorkflowCommit { Instance = Instance("ok-1"), Bookmarks = [], Journal = [], Outbox = [Queued("ok-o1", "ok-1")] }, Ct);
        var bad = Commits.CommitAsync(new WorkflowCommit { Instance = Instance("bad-1"), Bookmarks = [], Journal = [], Outbox = [Queued("bad-o", "bad-1")] }, Ct);
        var good2 = Commits.CommitAsync(new WorkflowCommit { Instance = Instance("ok-2"), Bookmarks = [], Journal = [], Outbox = [Queued("ok-o2", "ok-2")] }, Ct);

        // Assert: the bad one fails and leaves nothing; the others are stored.
        await Assert.ThrowsAnyAsync<Exception>(() => bad);
        await good1;
        await good2;
        Assert.Null(await Instances.FindAsync("bad-1", Ct));
        Assert.NotNull(await Instances.FindAsync("ok-1", Ct));
        Assert.NotNull(await Instances.FindAsync("ok-2", Ct));
        Assert.NotNull(await Outbox.FindAsync("ok-o2", Ct));
    }

    [Fact]
    public async Task Should_Let_One_Claim_Win_When_Two_Nodes_Claim_The_Same_Message()
    {
        await Inbox.AddAsync(Received("m1", "web:w:1"), Ct);
        await Outbox.AddAsync([Queued("o1")], Ct);

        var inboxClaims = await Task.WhenAll(Inbox.TryClaimAsync("m1", T0, T0.AddSeconds(30), Ct), Inbox.TryClaimAsync("m1", T0, T0.AddSeconds(30), Ct));
        var outboxClaims = await Task.WhenAll(Outbox.TryClaimAsync("o1", T0, T0.AddSeconds(30), Ct), Outbox.TryClaimAsync("o1", T0, T0.AddSeconds(30), Ct));

        Assert.Single(inboxClaims, c => c);
        Assert.Single(outboxClaims, c => c);
        Assert.Empty(await Inbox.FindClaimableAsync(T0.AddSeconds(10), 10, Ct));
        Assert.Single(await Inbox.FindClaimableAsync(T0.AddSeconds(31), 10, Ct));
        Assert.Empty(await Outbox.FindDueAsync(T0.AddSeconds(10), 10, Ct));
        Assert.Equal(1, (await Outbox.FindAsync("o1", Ct))!.Attempts);
    }

    [Fact]
    public async Task Should_Keep_Dead_Letter_Reason_When_Delivery_Gives_Up()
    {
        await Outbox.AddAsync([Queued("o1")], Ct);
        var message = (await Outbox.FindAsync("o1", Ct))!;
        message.Status = OutboxStatus.DeadLettered;
        message.LastError = "403 Forbidden: bot was blocked by the user";

        await Outbox.UpdateAsync(message, Ct);

        var dead = await Outbox.ListAsync("web", OutboxStatus.DeadLettered, null, new PageArgs(), Ct);
        Assert.Equal("403 Forbidden: bot was blocked by the user", Assert.Single(dead.Items).LastError);
        Assert.Empty(await Outbox.FindDueAsync(T0.AddDays(1), 10, Ct));
    }

    [Fact]
    public async Task Should_Mark_Processed_And_Queue_Fallback_When_Completing_Without_A_Workflow()
    {
        await Inbox.AddAsync(Received("m1", "web:w:1"), Ct);

        await Inbox.CompleteWithOutboxAsync("m1", [Queued("o1")], T0, Ct);

        Assert.Equal(InboxStatus.Processed, (await Inbox.FindAsync("m1", Ct))!.Status);
        Assert.Single(await Outbox.FindDueAsync(T0, 10, Ct));
    }
}
