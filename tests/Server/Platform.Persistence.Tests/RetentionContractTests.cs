using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using static Platform.Persistence.Tests.TestData;

namespace Platform.Persistence.Tests;

public abstract partial class PersistenceContractTests
{
    private IDataRetention Retention => Services.GetRequiredService<IDataRetention>();

    private static InboxMessage InboxRow(string id, InboxStatus status, DateTimeOffset at) => new()
    {
        Id = id, DeduplicationKey = "web:" + id, Channel = "web", ConversationKey = "web:c1", Payload = """{"text":"hi"}""", Status = status, ReceivedAt = at,
        ProcessedAt = status == InboxStatus.Received ? null : at,
    };

    private static OutboxMessage OutboxRow(string id, OutboxStatus status, DateTimeOffset at) => new()
    {
        Id = id, Channel = "web", ConversationKey = "web:c1", Payload = """{"text":"hello"}""", Status = status, CreatedAt = at, NextAttemptAt = at,
        SentAt = status == OutboxStatus.Sent ? at : null,
    };

    [Fact]
    public async Task Should_Delete_Only_Finished_Work_Older_Than_Its_Age_In_Batches_When_Retention_Runs()
    {
        // Arrange: now is 40 days after T0; instances and messages are kept 30 days, dead letters 35.
        var now = T0.AddDays(40);
        foreach (var id in new[] { "old-1", "old-2", "old-3" })
            await Commits.CommitAsync(Commit(Instance(id, subStatus: WorkflowSubStatus.Finished), [Bookmark("b-" + id, id)], [Journal("j1-" + id, id, 1), Journal("j2-" + id, id, 2)]), Ct);
        await Commits.CommitAsync(Commit(Instance("old-faulted", subStatus: WorkflowSubStatus.Faulted), journal: [Journal("j-f", "old-faulted", 1)]), Ct);
        await Commits.CommitAsync(Commit(Instance("recent", subStatus: WorkflowSubStatus.Finished, createdAt: now.AddDays(-1)), journal: [Journal("j-r", "recent", 1)]), Ct);
        await Commits.CommitAsync(Commit(Instance("waiting", subStatus: WorkflowSubStatus.Suspended), [Bookmark("b-w", "waiting")], [Journal("j-w", "waiting", 1)]), Ct);
        foreach (var row in new[]
        {
            InboxRow("in-old", InboxStatus.Processed, T0), InboxRow("in-recent", InboxStatus.Processed, now.AddDays(-29)),
            InboxRow("in-pending", InboxStatus.Received, T0), InboxRow("in-failed-old", InboxStatus.Failed, T0), InboxRow("in-failed-recent", InboxStatus.Failed, now.AddDays(-31)),
        })
            await Inbox.AddAsync(row, Ct);
        await Outbox.AddAsync([
            OutboxRow("out-old", OutboxStatus.Sent, T0), OutboxRow("out-recent", OutboxStatus.Sent, now.AddDays(-29)), OutboxRow("out-pending", OutboxStatus.Pending, T0),
            OutboxRow("dead-old", OutboxStatus.DeadLettered, T0), OutboxRow("dead-recent", OutboxStatus.DeadLettered, now.AddDays(-31)),
        ], Ct);
        var options = new RetentionOptions { Instances = TimeSpan.FromDays(30), Messages = TimeSpan.FromDays(30), DeadLetters = TimeSpan.FromDays(35), BatchSize = 2 };

        // Act
        var result = await Retention.PurgeAsync(options, now, Ct);
        var again = await Retention.PurgeAsync(options, now, Ct);

        // Assert
        Assert.Equal(new RetentionResult(Instances: 4, JournalEntries: 7, Bookmarks: 3, InboxMessages: 1, OutboxMessages: 1, DeadLetters: 2), result);
        Assert.Equal(0, again.Total);
        foreach (var id in new[] { "old-1", "old-2", "old-3", "old-faulted" }) Assert.Null(await Instances.FindAsync(id, Ct));
        Assert.NotNull(await Instances.FindAsync("recent", Ct));
        Assert.NotNull(await Instances.FindAsync("waiting", Ct));
        Assert.Single(await Bookmarks.FindByInstanceAsync("waiting", Ct));
        Assert.Empty(await Bookmarks.FindByInstanceAsync("old-1", Ct));
        Assert.Equal(0, (await Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = "old-2" }, new PageArgs(), Ct)).TotalCount);
        Assert.Equal(1, (await Journal.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = "waiting" }, new PageArgs(), Ct)).TotalCount);
        Assert.Equal(["in-failed-recent", "in-pending", "in-recent"], (await Inbox.ListAsync(null, null, new PageArgs(), Ct)).Items.Select(m => m.Id).Order().ToList());
        Assert.Equal(["dead-recent", "out-pending", "out-recent"], (await Outbox.ListAsync(null, null, null, new PageArgs(), Ct)).Items.Select(m => m.Id).Order().ToList());
    }

    [Fact]
    public async Task Should_Keep_Everything_When_The_Ages_Are_Zero()
    {
        // Arrange
        await Commits.CommitAsync(Commit(Instance("old", subStatus: WorkflowSubStatus.Finished)), Ct);
        await Inbox.AddAsync(InboxRow("in-old", InboxStatus.Processed, T0), Ct);
        await Outbox.AddAsync([OutboxRow("dead-old", OutboxStatus.DeadLettered, T0)], Ct);

        // Act
        var result = await Retention.PurgeAsync(new RetentionOptions { Instances = TimeSpan.Zero, Messages = TimeSpan.Zero, DeadLetters = TimeSpan.Zero }, T0.AddYears(5), Ct);

        // Assert
        Assert.Equal(0, result.Total);
        Assert.NotNull(await Instances.FindAsync("old", Ct));
    }
}
