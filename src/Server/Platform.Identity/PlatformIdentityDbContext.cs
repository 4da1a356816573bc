using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Platform.Identity;

/// <summary>A person who signs in to the Studio and the API with a password or single sign-on.</summary>
public sealed class PlatformUser : IdentityUser
{
    /// <summary>When the account was created (UTC).</summary>
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>A disabled account cannot sign in; its data stays.</summary>
    public bool Disabled { get; set; }
}

/// <summary>A one-time sign-in link (first start): only the SHA-256 of its token is stored.</summary>
public sealed class SignInLink
{
    /// <summary>Lower-case hex SHA-256 of the token.</summary>
    public string TokenHash { get; set; } = "";

    /// <summary>The link is refused after this time (UTC).</summary>
    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>When the link was used; a used link is refused.</summary>
    public DateTimeOffset? UsedAt { get; set; }
}

/// <summary>
/// The user accounts (ASP.NET Core Identity) in the platform database, in tables named <c>identity_*</c> with their own
/// migrations history table, so they never touch the platform's own migrations. One subclass per provider holds its migrations.
/// </summary>
public abstract class PlatformIdentityDbContext(DbContextOptions options) : IdentityDbContext<PlatformUser>(options)
{
    /// <summary>The migrations history table of this context.</summary>
    public const string MigrationsHistoryTable = "__identity_migrations_history";

    /// <summary>One-time sign-in links.</summary>
    public DbSet<SignInLink> SignInLinks => Set<SignInLink>();

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.Entity<PlatformUser>().ToTable("identity_users");
        builder.Entity<IdentityRole>().ToTable("identity_roles");
        builder.Entity<IdentityUserRole<string>>().ToTable("identity_user_roles");
        builder.Entity<IdentityUserClaim<string>>().ToTable("identity_user_claims");
        builder.Entity<IdentityUserLogin<string>>().ToTable("identity_user_logins");
        builder.Entity<IdentityUserToken<string>>().ToTable("identity_user_tokens");
        builder.Entity<IdentityRoleClaim<string>>().ToTable("identity_role_claims");
        builder.Entity<SignInLink>(e =>
        {
            e.ToTable("identity_sign_in_links");
            e.HasKey(l => l.TokenHash);
            e.Property(l => l.TokenHash).HasMaxLength(64);
        });
    }
}

/// <summary>The identity context on SQLite (its migrations are under Migrations/Sqlite).</summary>
public sealed class SqlitePlatformIdentityDbContext(DbContextOptions<SqlitePlatformIdentityDbContext> options) : PlatformIdentityDbContext(options)
{
    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // SQLite cannot order or compare DateTimeOffset columns; store them as UTC ticks.
        foreach (var entity in builder.Model.GetEntityTypes())
        foreach (var property in entity.GetProperties().Where(p => p.ClrType == typeof(DateTimeOffset) || p.ClrType == typeof(DateTimeOffset?)))
            property.SetValueConverter(new Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter());
    }
}

/// <summary>The identity context on PostgreSQL (its migrations are under Migrations/PostgreSql).</summary>
public sealed class PostgreSqlPlatformIdentityDbContext(DbContextOptions<PostgreSqlPlatformIdentityDbContext> options) : PlatformIdentityDbContext(options);
