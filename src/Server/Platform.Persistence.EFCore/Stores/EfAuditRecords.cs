using Microsoft.EntityFrameworkCore;
using Platform.Activities;
using Platform.Persistence.EFCore.Entities;
using Platform.Persistence.EFCore.Storage;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>Append-only audit records of all nodes in the <c>audit_records</c> table (index on kind and time).</summary>
public sealed class EfAuditRecords(IDbContextFactory<PlatformDbContext> factory, PlatformWriteGate gate) : IAuditRecords
{
    /// <inheritdoc />
    public async Task AppendAsync(string kind, DateTimeOffset at, string json, CancellationToken cancellationToken = default)
    {
        Check(kind);
        ArgumentNullException.ThrowIfNull(json);
        using (await gate.EnterAsync(cancellationToken).ConfigureAwait(false))
        {
            await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
            db.Add(new AuditRecordEntity { Kind = kind, At = at, Json = json });
            await db.SaveChangesAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ReadLatestAsync(string kind, int take, CancellationToken cancellationToken = default)
    {
        Check(kind);
        if (take <= 0) return [];
        await using var db = await factory.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Set<AuditRecordEntity>().AsNoTracking().Where(r => r.Kind == kind).OrderByDescending(r => r.At).ThenByDescending(r => r.Id)
            .Take(take).Select(r => r.Json).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    private static void Check(string kind)
    {
        if (string.IsNullOrWhiteSpace(kind) || kind.Length > 64)
            throw new ArgumentException($"The audit record kind '{kind}' is not valid: use a short name (1-64 characters) such as device-commands.", nameof(kind));
    }
}
