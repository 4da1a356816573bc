using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Stores;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>
/// Compiles the message path's queries and writes once at start, so the first message does not wait for EF Core's query
/// compilation, its update pipeline and the batch command's table shapes: reads look up ids that cannot exist, updates
/// match no row, and one message's worth of rows (inbox, outbox, instance, bookmark, journal) is written in transactions
/// that are rolled back. Nothing stays in the database.
/// </summary>
internal sealed class PersistenceWarmUp(IServiceProvider services) : IStartupWarmUp
{
    /// <inheritdoc />
    public string Name => "platform database (queries and writes of the message path)";

    /// <inheritdoc />
    public async Task WarmUpAsync(CancellationToken ct)
    {
        var none = "warm-up-" + Guid.NewGuid().ToString("N");
        var now = DateTimeOffset.UtcNow;
        var inbox = Get<IInboxStore>();
        var outbox = Get<IOutboxStore>();
        await inbox.FindAsync(none, ct).ConfigureAwait(false);
        await inbox.TryClaimAsync(none, now, now, ct).ConfigureAwait(false);
        await inbox.UpdateAsync(none, InboxStatus.Processed, null, null, now, ct).ConfigureAwait(false);
        await inbox.GetRecentTurnsAsync(none, 1, ct).ConfigureAwait(false);
        await outbox.FindAsync(none, ct).ConfigureAwait(false);
        await outbox.TryClaimAsync(none, now, now, ct).ConfigureAwait(false);
        await outbox.UpdateAsync(Outbox(none, now), ct).ConfigureAwait(false);
        await outbox.GetRecentTurnsAsync(none, 1, ct).ConfigureAwait(false);
        await Get<IWorkflowInstanceStore>().FindAsync(none, ct).ConfigureAwait(false);
        await Get<IWorkflowDefinitionStore>().FindAsync(new WorkflowDefinitionFilter { Id = none }, ct).ConfigureAwait(false);
        await Get<IWorkflowDefinitionStore>().FindAsync(new WorkflowDefinitionFilter { DefinitionId = none, VersionOptions = VersionOptions.Published }, ct).ConfigureAwait(false);
        await Get<IBookmarkStore>().FindAsync(none, none, ct).ConfigureAwait(false);
        await Get<IBookmarkStore>().FindByInstanceAsync(none, ct).ConfigureAwait(false);
        await services.GetRequiredService<EfTriggerStore>().FindAsync(none, none, ct).ConfigureAwait(false);

        // The writes, rolled back: a received message and its reply (EF's update pipeline), and a workflow commit (batch command).
        using (await services.GetRequiredService<PlatformWriteGate>().EnterAsync(ct).ConfigureAwait(false))
        {
            await using var db = services.GetRequiredService<IDbContextFactory<PlatformDbContext>>().CreateDbContext();
            await using var tx = await db.Database.BeginTransactionAsync(ct).ConfigureAwait(false);
            db.Add(new InboxMessage { Id = none, DeduplicationKey = none, Channel = none, ConversationKey = none, Payload = "{}", ReceivedAt = now });
            db.Add(Outbox(none, now));
            await db.SaveChangesAsync(ct).ConfigureAwait(false);
            await tx.RollbackAsync(ct).ConfigureAwait(false);
        }
        var instance = new WorkflowInstance { Id = none, DefinitionId = none, DefinitionVersionId = none, CreatedAt = now, UpdatedAt = now };
        instance.State.Variables["n"] = 1;
        await services.GetRequiredService<EfWorkflowCommitStore>().RehearseAsync(new WorkflowCommit
        {
            Instance = instance,
            Bookmarks = [new StoredBookmark { Id = none, WorkflowInstanceId = none, Name = none, ActivityId = none, ActivityInstanceId = none, CreatedAt = now }],
            Journal = [new ActivityExecutionRecord { Id = none, WorkflowInstanceId = none, ActivityId = none, ActivityNodeId = none, ActivityType = none }],
            Outbox = [Outbox(none + "-reply", now)],
            ProcessedInboxMessageId = none,
        }, ct).ConfigureAwait(false);
    }

    private T Get<T>() where T : notnull => services.GetRequiredService<T>();

    private static OutboxMessage Outbox(string id, DateTimeOffset now) =>
        new() { Id = id, Channel = id, Payload = "{}", CreatedAt = now, NextAttemptAt = now };
}
