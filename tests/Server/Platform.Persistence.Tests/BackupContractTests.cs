using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore;
using Platform.Persistence.EFCore.Storage;
using Platform.Testing;
using static Platform.Persistence.Tests.TestData;

namespace Platform.Persistence.Tests;

public abstract partial class PersistenceContractTests
{
    [Fact]
    public async Task Should_Bring_Back_A_Suspended_Instance_And_A_Pending_Message_When_A_Backup_Taken_While_Writing_Is_Restored()
    {
        // Arrange: a suspended instance with its bookmark and a pending reply, and a writer that keeps adding inbox rows.
        await Commits.CommitAsync(Commit(Instance("waiting"), [Bookmark("b-w", "waiting")], [Journal("j-w", "waiting", 1)]), Ct);
        await Outbox.AddAsync([new OutboxMessage { Id = "pending", WorkflowInstanceId = "waiting", Channel = "web", ConversationKey = "web:c1", Payload = """{"text":"hi"}""", CreatedAt = T0, NextAttemptAt = T0 }], Ct);
        using var files = new TempDirectory("platform-backup");
        var backup = (PlatformDatabaseBackup)Services.GetRequiredService<IDatabaseBackup>();
        var file = Path.Combine(files.Path, "backup" + backup.FileExtension);
        using var stop = new CancellationTokenSource();
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
                await Inbox.AddAsync(new InboxMessage { Id = $"load-{++writes}", DeduplicationKey = $"load:{writes}", Channel = "web", ConversationKey = "web:load", Payload = "{}", ReceivedAt = T0 }, Ct);
        }, Ct);

        // Act
        await Task.Delay(50, Ct);
        await backup.BackupAsync(file, Ct);
        await stop.CancelAsync();
        await writer;
        await using (var db = await Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContextAsync(Ct))
        {
            await db.ActivityExecutions.ExecuteDeleteAsync(Ct);
            await db.Bookmarks.ExecuteDeleteAsync(Ct);
            await db.WorkflowInstances.ExecuteDeleteAsync(Ct);
            await db.Set<OutboxMessage>().ExecuteDeleteAsync(Ct);
            await db.Set<InboxMessage>().ExecuteDeleteAsync(Ct);
        }
        await backup.RestoreAsync(file, Ct);

        // Assert
        Assert.Equal(WorkflowSubStatus.Suspended, (await Instances.FindAsync("waiting", Ct))!.SubStatus);
        Assert.Equal(["b-w"], (await Bookmarks.FindByInstanceAsync("waiting", Ct)).Select(b => b.Id).ToList());
        Assert.Equal(["pending"], (await Outbox.FindDueAsync(T0.AddMinutes(1), 10, Ct)).Select(m => m.Id).ToList());
        var restoredLoad = (await Inbox.ListAsync(null, null, new PageArgs(), Ct)).TotalCount;
        Assert.InRange(restoredLoad, 0, writes); // a consistent prefix of the writes
    }
}
