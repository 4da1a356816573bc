using Microsoft.EntityFrameworkCore;
using Platform.Activities;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>The audit trail in the <c>audit_log</c> table: appended in batches, read newest first, deleted only by retention.</summary>
public sealed class EfAuditLogStore(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : IAuditLogStore
{
    /// <inheritdoc />
    public async Task AppendAsync(IReadOnlyCollection<AuditEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0) return;
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            foreach (var e in entries)
            {
                db.Add(new AuditLogEntity
                {
                    Timestamp = e.Timestamp, Action = Cut(e.Action, 200)!, Actor = Cut(e.Actor, 200), ActorKind = Cut(e.ActorKind, 16)!,
                    IpAddress = Cut(e.IpAddress, 64), TargetType = Cut(e.TargetType, 100), TargetId = Cut(e.TargetId, 200),
                    Outcome = Cut(e.Outcome, 16)!, Status = e.Status, Details = e.Details,
                });
            }
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AuditEntry>> QueryAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var take = Math.Clamp(query.Take, 1, 1000);
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var rows = db.Set<AuditLogEntity>().AsNoTracking();
        if (query.From is { } from) rows = rows.Where(r => r.Timestamp >= from);
        if (query.To is { } to) rows = rows.Where(r => r.Timestamp < to);
        if (!string.IsNullOrEmpty(query.Actor)) rows = rows.Where(r => r.Actor == query.Actor);
        if (!string.IsNullOrEmpty(query.Action)) rows = rows.Where(r => r.Action.Contains(query.Action));
        if (!string.IsNullOrEmpty(query.TargetType)) rows = rows.Where(r => r.TargetType == query.TargetType);
        if (!string.IsNullOrEmpty(query.TargetId)) rows = rows.Where(r => r.TargetId == query.TargetId);
        if (!string.IsNullOrEmpty(query.Outcome)) rows = rows.Where(r => r.Outcome == query.Outcome);
        if (query.Before is { } before) rows = rows.Where(r => r.Id < before);
        var list = await rows.OrderByDescending(r => r.Id).Take(take).ToListAsync(cancellationToken).ConfigureAwait(false);
        return list.Select(r => new AuditEntry
        {
            Id = r.Id, Timestamp = r.Timestamp, Action = r.Action, Actor = r.Actor, ActorKind = r.ActorKind, IpAddress = r.IpAddress,
            TargetType = r.TargetType, TargetId = r.TargetId, Outcome = r.Outcome, Status = r.Status, Details = r.Details,
        }).ToList();
    }

    /// <inheritdoc />
    public async Task<int> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            return await db.Set<AuditLogEntity>().Where(r => r.Timestamp < cutoff).ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static string? Cut(string? s, int max) => s is null || s.Length <= max ? s : s[..max];
}
