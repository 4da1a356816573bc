using Microsoft.EntityFrameworkCore;

namespace Platform.Persistence.EFCore.Storage;

/// <summary>Hands out the provider's pooled context as a <see cref="PlatformDbContext"/>.</summary>
internal sealed class PlatformDbContextFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<PlatformDbContext>
    where TContext : PlatformDbContext
{
    public PlatformDbContext CreateDbContext() => inner.CreateDbContext();

    public async Task<PlatformDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
        await inner.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
}
