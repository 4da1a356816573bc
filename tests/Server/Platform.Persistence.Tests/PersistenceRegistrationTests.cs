using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Stores;
using Platform.Persistence.EFCore;
using Platform.Persistence.EFCore.Stores;
using Platform.Testing;

namespace Platform.Persistence.Tests;

/// <summary>AddPlatformPersistence: configuration, replacement of the in-memory stores, start-up migration.</summary>
public sealed class PersistenceRegistrationTests : IDisposable
{
    private readonly TempDirectory _data = new("platform-di");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _data.Dispose();
    }

    private static IConfiguration Config(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Should_ReplaceInMemoryStores_When_RegisteredBeforeOrAfterTheEngine(bool engineFirst)
    {
        var services = new ServiceCollection();
        if (engineFirst) services.AddWorkflowEngine();
        services.AddPlatformPersistence(Config(), _data.Path);
        if (!engineFirst) services.AddWorkflowEngine();
        using var provider = services.BuildServiceProvider();

        Assert.IsType<EfWorkflowDefinitionStore>(provider.GetRequiredService<IWorkflowDefinitionStore>());
        Assert.IsType<EfWorkflowInstanceStore>(provider.GetRequiredService<IWorkflowInstanceStore>());
        // Over the EF stores: "no instance waits for this" is remembered until a commit creates such a bookmark.
        Assert.IsType<EfWorkflowCommitStore>(Assert.IsType<BookmarkAbsenceCommitStore>(provider.GetRequiredService<IWorkflowCommitStore>()).Inner);
        Assert.IsType<CachingBookmarkStore>(provider.GetRequiredService<IBookmarkStore>());
        Assert.IsType<CachingTriggerStore>(provider.GetRequiredService<ITriggerStore>()); // over the EF store: messages read triggers often
        Assert.IsType<EfActivityExecutionStore>(provider.GetRequiredService<IActivityExecutionStore>());
        Assert.DoesNotContain(services, d => d.ServiceType != typeof(InMemoryStore) && d.ImplementationFactory is null && d.ImplementationType == typeof(InMemoryStore));
        Assert.Same(provider.GetRequiredService<IBookmarkStore>(), provider.GetRequiredService<IBookmarkStore>());
    }

    [Fact]
    public void Should_DefaultToSqliteFileInDataDirectory_When_NothingIsConfigured()
    {
        var settings = PlatformDatabaseSettings.FromConfiguration(Config(), _data.Path);

        Assert.Equal(PlatformDatabaseProvider.Sqlite, settings.Provider);
        Assert.Equal(Path.Combine(_data.Path, "platform.db"), new SqliteConnectionStringBuilder(settings.ConnectionString).DataSource);
        Assert.True(settings.MigrateOnStartup);
    }

    [Fact]
    public void Should_ResolveRelativeSqlitePath_When_ConnectionStringIsRelative()
    {
        var settings = PlatformDatabaseSettings.FromConfiguration(
            Config(("Platform:Database:Provider", "sqlite"), ("ConnectionStrings:Platform", "Data Source=db/custom.db;Cache=Private")), _data.Path);

        var builder = new SqliteConnectionStringBuilder(settings.ConnectionString);
        Assert.Equal(Path.Combine(_data.Path, "db", "custom.db"), builder.DataSource);
        Assert.Equal(SqliteCacheMode.Private, builder.Cache);
    }

    [Fact]
    public void Should_ThrowWithTheSettingToSet_When_PostgreSqlHasNoConnectionString()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
            new ServiceCollection().AddPlatformPersistence(Config(("Platform:Database:Provider", "PostgreSql")), _data.Path));

        Assert.Contains("ConnectionStrings:Platform", error.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings__Platform", error.Message, StringComparison.Ordinal);
        Assert.Contains("Host=", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_UsePostgreSql_When_ProviderAndConnectionStringAreSet()
    {
        var settings = PlatformDatabaseSettings.FromConfiguration(
            Config(("Platform:Database:Provider", "PostgreSql"), ("ConnectionStrings:Platform", "Host=db;Database=platform;Password=secret")), _data.Path);

        Assert.Equal(PlatformDatabaseProvider.PostgreSql, settings.Provider);
        Assert.Equal("PostgreSql db:5432/platform", settings.Describe());
    }

    [Fact]
    public void Should_Throw_When_ProviderIsUnknown()
    {
        var error = Assert.Throws<InvalidOperationException>(() => PlatformDatabaseSettings.FromConfiguration(Config(("Platform:Database:Provider", "Oracle")), _data.Path));

        Assert.Contains("Platform:Database:Provider", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Should_MigrateBeforeOtherServicesStart_When_HostStarts()
    {
        var dataDirectory = Path.Combine(_data.Path, "not-yet-created");
        await using var provider = new ServiceCollection().AddLogging().AddPlatformPersistence(Config(), dataDirectory).BuildServiceProvider();
        var migration = Assert.Single(provider.GetServices<IHostedService>().OfType<IHostedLifecycleService>());

        await migration.StartingAsync(TestContext.Current.CancellationToken);

        Assert.True(File.Exists(Path.Combine(dataDirectory, "platform.db")));
        var page = await provider.GetRequiredService<IWorkflowInstanceStore>().FindManyAsync(new WorkflowInstanceFilter(), new PageArgs(), ct: TestContext.Current.CancellationToken);
        Assert.Equal(0, page.TotalCount);
    }

    [Fact]
    public void Should_NotRegisterTheStartupMigration_When_MigrateOnStartupIsFalse()
    {
        var services = new ServiceCollection().AddPlatformPersistence(Config(("Platform:Database:MigrateOnStartup", "false")), _data.Path);

        Assert.DoesNotContain(services, d => d.ServiceType == typeof(IHostedService) && d.ImplementationType != null && d.ImplementationType.Name == "PlatformDatabaseMigrationHostedService");
        Assert.Contains(services, d => d.ServiceType == typeof(PlatformDatabaseMigrator));
    }
}
