using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Platform.Engine.Contracts;
using Platform.Engine.Runtime;
using Platform.Engine.Stores;
using Platform.Persistence.EFCore.Storage;
using Platform.Persistence.EFCore.Stores;

namespace Platform.Persistence.EFCore;

/// <summary>Registers the EF Core persistence of the engine.</summary>
public static class PersistenceServiceCollectionExtensions
{
    /// <summary>
    /// Stores the engine's definitions, instances, bookmarks, triggers and journal in SQLite (default) or PostgreSQL, replacing
    /// the engine's in-memory stores whatever the registration order.
    /// </summary>
    /// <remarks>
    /// Configuration: <c>Platform:Database:Provider</c> = <c>Sqlite</c> (default) | <c>PostgreSql</c>;
    /// <c>ConnectionStrings:Platform</c> (SQLite default <c>Data Source={dataDirectory}/platform.db</c>; relative SQLite paths are
    /// resolved against <paramref name="dataDirectory"/>; required for PostgreSQL); <c>Platform:Database:MigrateOnStartup</c>
    /// (default true: a hosted service migrates the database while the host starts; when false call
    /// <see cref="MigratePlatformDatabaseAsync"/> yourself).
    /// </remarks>
    /// <exception cref="InvalidOperationException">PostgreSQL without a connection string, or an unknown provider.</exception>
    public static IServiceCollection AddPlatformPersistence(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.AddPlatformPersistence(PlatformDatabaseSettings.FromConfiguration(configuration, dataDirectory));
    }

    /// <summary>Same as <see cref="AddPlatformPersistence(IServiceCollection, IConfiguration, string)"/> with explicit settings.</summary>
    public static IServiceCollection AddPlatformPersistence(this IServiceCollection services, PlatformDatabaseSettings settings)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(settings);

        services.AddLogging();
        ReplaceSingleton(services, settings);
        ReplaceSingleton<PlatformWriteGate>(services, sp => new PlatformWriteGate(sp.GetRequiredService<PlatformDatabaseSettings>()));

        switch (settings.Provider)
        {
            case PlatformDatabaseProvider.Sqlite:
                AddContext<SqlitePlatformDbContext>(services);
                break;
            case PlatformDatabaseProvider.PostgreSql:
                AddContext<PostgreSqlPlatformDbContext>(services);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(settings), settings.Provider, "Unknown database provider.");
        }

        AddStore<IWorkflowDefinitionStore, EfWorkflowDefinitionStore>(services);
        AddStore<IWorkflowInstanceStore, EfWorkflowInstanceStore>(services);
        AddStore<IWorkflowCommitStore, EfWorkflowCommitStore>(services);
        AddStore<IBookmarkStore, EfBookmarkStore>(services);
        // Every HTTP request and message asks whether an instance waits for it; "none" is remembered until a commit creates
        // such a bookmark (on this node, or on another one through the PostgreSQL change feed). See docs/architecture.md.
        services.RemoveAll<BookmarkAbsence>();
        services.AddSingleton(sp => new BookmarkAbsence(enabled: settings.Provider == PlatformDatabaseProvider.Sqlite,
            sp.GetService<IOptions<EngineRuntimeOptions>>()?.Value.BookmarkAbsenceDuration ?? new EngineRuntimeOptions().BookmarkAbsenceDuration));
        ReplaceSingleton<IBookmarkStore>(services, sp => new CachingBookmarkStore(sp.GetRequiredService<EfBookmarkStore>(), sp.GetRequiredService<BookmarkAbsence>()));
        ReplaceSingleton<IWorkflowCommitStore>(services, sp => new BookmarkAbsenceCommitStore(sp.GetRequiredService<EfWorkflowCommitStore>(),
            sp.GetRequiredService<BookmarkAbsence>(), sp.GetService<IBookmarkChangeFeed>()));
        services.RemoveAll<IBookmarkChangeFeed>();
        services.RemoveAll<PostgresBookmarkChangeFeed>();
        for (var i = services.Count - 1; i >= 0; i--)
            if (services[i].ServiceType == typeof(IHostedService) && services[i].ImplementationFactory?.Method.ReturnType == typeof(PostgresBookmarkChangeFeed))
                services.RemoveAt(i);
        if (settings.Provider == PlatformDatabaseProvider.PostgreSql)
        {
            services.AddSingleton<PostgresBookmarkChangeFeed>();
            services.AddSingleton<IBookmarkChangeFeed>(sp => sp.GetRequiredService<PostgresBookmarkChangeFeed>());
            services.AddSingleton<IHostedService>(FeedAsHostedService);
        }
        AddStore<ITriggerStore, EfTriggerStore>(services);
        // Every message asks for the triggers; reuse them briefly (Platform:Engine:LookupCacheDuration).
        ReplaceSingleton<ITriggerStore>(services, sp => new CachingTriggerStore(sp.GetRequiredService<EfTriggerStore>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System,
            sp.GetService<IOptions<EngineRuntimeOptions>>()?.Value.LookupCacheDuration ?? new EngineRuntimeOptions().LookupCacheDuration));
        AddStore<IActivityExecutionStore, EfActivityExecutionStore>(services);
        AddStore<IInboxStore, EfInboxStore>(services);
        AddStore<IOutboxStore, EfOutboxStore>(services);
        AddStore<IConversationStore, EfConversationStore>(services);
        AddStore<Platform.Activities.IConfigurationDocuments, EfConfigurationDocuments>(services);
        AddStore<Platform.Activities.IConversationHandoffs, EfConversationHandoffs>(services);
        AddStore<IDataRetention, EfDataRetention>(services);
        ReplaceSingleton<IDatabaseBackup>(services, sp => new PlatformDatabaseBackup(sp.GetRequiredService<PlatformDatabaseSettings>()));
        AddStore<Platform.Activities.IAuditLogStore, EfAuditLogStore>(services);
        AddStore<Platform.Engine.Knowledge.IKnowledgeStore, EfKnowledgeStore>(services);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IStartupWarmUp, PersistenceWarmUp>()); // the first message's queries, compiled at start

        services.TryAddSingleton<PlatformDatabaseMigrator>();
        var hosted = ServiceDescriptor.Singleton<IHostedService, PlatformDatabaseMigrationHostedService>();
        for (var i = services.Count - 1; i >= 0; i--)
            if (services[i].ServiceType == typeof(IHostedService) && services[i].ImplementationType == typeof(PlatformDatabaseMigrationHostedService))
                services.RemoveAt(i);
        if (settings.MigrateOnStartup) services.Add(hosted);
        for (var i = services.Count - 1; i >= 0; i--)
            if (services[i].ServiceType == typeof(IHostedService) && services[i].ImplementationType == typeof(SqliteCheckpointService))
                services.RemoveAt(i);
        if (settings.Provider == PlatformDatabaseProvider.Sqlite) services.AddSingleton<IHostedService, SqliteCheckpointService>();
        return services;
    }

    /// <summary>
    /// Applies pending migrations now (for hosts that set <c>Platform:Database:MigrateOnStartup=false</c>, tools and tests):
    /// <c>await app.Services.MigratePlatformDatabaseAsync();</c>. Logs one line with what it did.
    /// </summary>
    public static Task MigratePlatformDatabaseAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        return services.GetRequiredService<PlatformDatabaseMigrator>().MigrateAsync(ct);
    }

    private static void AddContext<TContext>(IServiceCollection services) where TContext : PlatformDbContext
    {
        // A second call (with other settings) must win: drop what an earlier call registered for this context type.
        services.RemoveAll<IDbContextFactory<TContext>>();
        services.RemoveAll<DbContextOptions<TContext>>();
        services.AddPooledDbContextFactory<TContext>((sp, options) =>
        {
            var settings = sp.GetRequiredService<PlatformDatabaseSettings>();
            PlatformDbContextOptions.EnsureSqliteDirectory(settings);
            PlatformDbContextOptions.Configure(options, settings);
        });
        ReplaceSingleton<IDbContextFactory<PlatformDbContext>>(services,
            sp => new PlatformDbContextFactory<TContext>(sp.GetRequiredService<IDbContextFactory<TContext>>()));
    }

    private static PostgresBookmarkChangeFeed FeedAsHostedService(IServiceProvider sp) => sp.GetRequiredService<PostgresBookmarkChangeFeed>();

    private static void AddStore<TService, TImplementation>(IServiceCollection services)
        where TService : class where TImplementation : class, TService
    {
        services.RemoveAll<TImplementation>();
        services.AddSingleton<TImplementation>();
        ReplaceSingleton<TService>(services, sp => sp.GetRequiredService<TImplementation>());
    }

    private static void ReplaceSingleton<T>(IServiceCollection services, T instance) where T : class
    {
        services.RemoveAll<T>();
        services.AddSingleton(instance);
    }

    private static void ReplaceSingleton<T>(IServiceCollection services, Func<IServiceProvider, T> factory) where T : class
    {
        services.RemoveAll<T>();
        services.AddSingleton(factory);
    }
}
