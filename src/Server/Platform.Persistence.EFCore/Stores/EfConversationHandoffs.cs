using Microsoft.EntityFrameworkCore;
using Platform.Activities;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>The conversations handed to people, in the <c>conversation_handoffs</c> table (one row per conversation).</summary>
public sealed class EfConversationHandoffs(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : IConversationHandoffs
{
    /// <inheritdoc />
    public async Task StartAsync(ConversationHandoff handoff, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handoff);
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            var row = await db.Set<ConversationHandoffEntity>().FirstOrDefaultAsync(h => h.ConversationKey == handoff.ConversationKey, cancellationToken)
                .ConfigureAwait(false);
            if (row is null)
            {
                row = new ConversationHandoffEntity { ConversationKey = handoff.ConversationKey, Channel = handoff.Channel, WorkflowInstanceId = handoff.WorkflowInstanceId };
                db.Add(row);
            }
            else if (row.WorkflowInstanceId == handoff.WorkflowInstanceId && row.CreatedAt == handoff.CreatedAt)
            {
                return; // the same burst again (a retry): keep the assignment
            }
            row.Channel = handoff.Channel;
            row.WorkflowInstanceId = handoff.WorkflowInstanceId;
            row.Reason = Cut(handoff.Reason, 2000);
            row.Queue = Cut(handoff.Queue, 200);
            row.CreatedAt = handoff.CreatedAt;
            row.TimeoutAt = handoff.TimeoutAt;
            row.AssignedTo = handoff.AssignedTo;
            row.AssignedAt = handoff.AssignedAt;
            try { await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false); }
            catch (DbUpdateException) when (db.Entry(row).State == EntityState.Added)
            {
                // Another node inserted the same conversation meanwhile: take it over.
                await using var again = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
                await again.Set<ConversationHandoffEntity>().Where(h => h.ConversationKey == handoff.ConversationKey).ExecuteUpdateAsync(s => s
                    .SetProperty(h => h.WorkflowInstanceId, handoff.WorkflowInstanceId).SetProperty(h => h.CreatedAt, handoff.CreatedAt)
                    .SetProperty(h => h.TimeoutAt, handoff.TimeoutAt).SetProperty(h => h.Reason, row.Reason).SetProperty(h => h.Queue, row.Queue)
                    .SetProperty(h => h.AssignedTo, (string?)null).SetProperty(h => h.AssignedAt, (DateTimeOffset?)null), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async Task<ConversationHandoff?> FindAsync(string conversationKey, CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var row = await db.Set<ConversationHandoffEntity>().AsNoTracking().FirstOrDefaultAsync(h => h.ConversationKey == conversationKey, cancellationToken)
            .ConfigureAwait(false);
        return row is null ? null : Map(row);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ConversationHandoff>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = await db.Set<ConversationHandoffEntity>().AsNoTracking().OrderBy(h => h.CreatedAt).ThenBy(h => h.ConversationKey).Take(1000)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return rows.ConvertAll(Map);
    }

    /// <inheritdoc />
    public async Task<bool> AssignAsync(string conversationKey, string? userName, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            DateTimeOffset? when = userName is null ? null : at;
            return await db.Set<ConversationHandoffEntity>().Where(h => h.ConversationKey == conversationKey)
                .ExecuteUpdateAsync(s => s.SetProperty(h => h.AssignedTo, userName).SetProperty(h => h.AssignedAt, when), cancellationToken).ConfigureAwait(false) > 0;
        }
    }

    /// <inheritdoc />
    public async Task<bool> EndAsync(string conversationKey, string workflowInstanceId, CancellationToken cancellationToken = default)
    {
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            return await db.Set<ConversationHandoffEntity>().Where(h => h.ConversationKey == conversationKey && h.WorkflowInstanceId == workflowInstanceId)
                .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0;
        }
    }

    private static string? Cut(string? text, int max) => text is { Length: > 0 } t && t.Length > max ? t[..max] : text;

    private static ConversationHandoff Map(ConversationHandoffEntity r) => new()
    {
        ConversationKey = r.ConversationKey, Channel = r.Channel, WorkflowInstanceId = r.WorkflowInstanceId, Reason = r.Reason, Queue = r.Queue,
        CreatedAt = r.CreatedAt, TimeoutAt = r.TimeoutAt, AssignedTo = r.AssignedTo, AssignedAt = r.AssignedAt,
    };
}
