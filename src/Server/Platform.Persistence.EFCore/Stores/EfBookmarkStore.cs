using Microsoft.EntityFrameworkCore;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Persistence.EFCore.Entities;

namespace Platform.Persistence.EFCore.Stores;

/// <summary>Reads <c>bookmarks</c> (written by <see cref="EfWorkflowCommitStore"/>). Results are ordered by creation time, then id.</summary>
public sealed class EfBookmarkStore(IDbContextFactory<PlatformDbContext> factory) : IBookmarkStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredBookmark>> FindAsync(string name, string? key, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        await using var db = factory.CreateDbContext();
        var query = db.Bookmarks.AsNoTracking().Where(x => x.Name == name);
        if (key is not null) query = query.Where(x => x.Key == key);
        return await ToModelsAsync(query, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredBookmark>> FindByInstanceAsync(string workflowInstanceId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(workflowInstanceId);
        await using var db = factory.CreateDbContext();
        return await ToModelsAsync(db.Bookmarks.AsNoTracking().Where(x => x.WorkflowInstanceId == workflowInstanceId), ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<StoredBookmark?> FindByIdAsync(string bookmarkId, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(bookmarkId);
        await using var db = factory.CreateDbContext();
        var entity = await db.Bookmarks.AsNoTracking().FirstOrDefaultAsync(x => x.Id == bookmarkId, ct).ConfigureAwait(false);
        return entity is null ? null : EntityMapper.ToModel(entity);
    }

    /// <summary>Ordered by due time, then id.</summary>
    public async Task<IReadOnlyList<StoredBookmark>> FindDueAsync(DateTimeOffset before, int take, CancellationToken ct = default)
    {
        if (take <= 0) return [];
        await using var db = factory.CreateDbContext();
        var rows = await db.Bookmarks.AsNoTracking()
            .Where(x => x.ResumeAt != null && x.ResumeAt <= before)
            .OrderBy(x => x.ResumeAt).ThenBy(x => x.Id)
            .Take(take)
            .ToListAsync(ct).ConfigureAwait(false);
        return rows.ConvertAll(EntityMapper.ToModel);
    }

    private static async Task<IReadOnlyList<StoredBookmark>> ToModelsAsync(IQueryable<BookmarkEntity> query, CancellationToken ct)
    {
        var rows = await query.OrderBy(x => x.CreatedAt).ThenBy(x => x.Id).ToListAsync(ct).ConfigureAwait(false);
        return rows.ConvertAll(EntityMapper.ToModel);
    }
}
