using Microsoft.EntityFrameworkCore;
using Platform.Persistence.EFCore.Configuration;
using Platform.Persistence.EFCore.Entities;

namespace Platform.Persistence.EFCore;

/// <summary>
/// The platform database. Abstract: each provider has its own derived context (<see cref="SqlitePlatformDbContext"/>,
/// <see cref="PostgreSqlPlatformDbContext"/>) so that each carries its own migrations (<c>Migrations/Sqlite</c>,
/// <c>Migrations/PostgreSql</c>). Resolve <c>IDbContextFactory&lt;PlatformDbContext&gt;</c> to use it.
/// </summary>
/// <remarks>
/// <para>Adding tables (outbox, channels, …): add the entity class and an <see cref="IEntityTypeConfiguration{TEntity}"/> anywhere in
/// this assembly (they are applied automatically; mark JSON text columns with <see cref="ModelBuilderExtensions.IsJsonText{TProperty}"/>),
/// optionally a <see cref="DbSet{TEntity}"/> in a partial of this class, then add a migration for both providers with
/// <c>src/Server/Platform.Persistence.EFCore/add-migration.sh &lt;Name&gt;</c>. Code can also use <c>Set&lt;T&gt;()</c>.</para>
/// <para>Conventions: table, column, key and index names are snake_case; enums are stored as names; timestamps are stored in UTC
/// (PostgreSQL <c>timestamptz</c>; SQLite ISO-8601 text, which sorts correctly); JSON is text (PostgreSQL <c>json</c>, which keeps
/// the text exactly).</para>
/// </remarks>
public abstract partial class PlatformDbContext : DbContext
{
    /// <summary>For derived provider contexts.</summary>
    protected PlatformDbContext(DbContextOptions options) : base(options)
    {
    }

    /// <summary>The provider this context (and its migrations) is for.</summary>
    public abstract PlatformDatabaseProvider Provider { get; }

    /// <summary>Definition versions.</summary>
    public DbSet<WorkflowDefinitionEntity> WorkflowDefinitions => Set<WorkflowDefinitionEntity>();
    /// <summary>Workflow instances.</summary>
    public DbSet<WorkflowInstanceEntity> WorkflowInstances => Set<WorkflowInstanceEntity>();
    /// <summary>Bookmarks of instances.</summary>
    public DbSet<BookmarkEntity> Bookmarks => Set<BookmarkEntity>();
    /// <summary>Triggers of published definitions.</summary>
    public DbSet<TriggerEntity> Triggers => Set<TriggerEntity>();
    /// <summary>The journal.</summary>
    public DbSet<ActivityExecutionEntity> ActivityExecutions => Set<ActivityExecutionEntity>();

    /// <inheritdoc />
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<Enum>().HaveConversion<string>();
        if (Provider == PlatformDatabaseProvider.Sqlite)
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<SqliteDateTimeOffsetConverter>();
        else
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcDateTimeOffsetConverter>();
    }

    /// <inheritdoc />
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(PlatformDbContext).Assembly);
        modelBuilder.HasDbFunction(typeof(PlatformDbFunctions).GetMethod(nameof(PlatformDbFunctions.Fold))!)
            .HasName(Provider == PlatformDatabaseProvider.Sqlite ? PlatformDbFunctions.SqliteFoldFunction : "lower")
            .IsBuiltIn();
        OnModelCreatingPartial(modelBuilder);
        PlatformModelConventions.Apply(modelBuilder, Provider);
    }

    /// <summary>Hook for partial class files that configure more of the model.</summary>
    partial void OnModelCreatingPartial(ModelBuilder modelBuilder);
}

/// <summary>The SQLite context (migrations in <c>Migrations/Sqlite</c>).</summary>
public sealed class SqlitePlatformDbContext(DbContextOptions<SqlitePlatformDbContext> options) : PlatformDbContext(options)
{
    /// <inheritdoc />
    public override PlatformDatabaseProvider Provider => PlatformDatabaseProvider.Sqlite;
}

/// <summary>The PostgreSQL context (migrations in <c>Migrations/PostgreSql</c>).</summary>
public sealed class PostgreSqlPlatformDbContext(DbContextOptions<PostgreSqlPlatformDbContext> options) : PlatformDbContext(options)
{
    /// <inheritdoc />
    public override PlatformDatabaseProvider Provider => PlatformDatabaseProvider.PostgreSql;
}
