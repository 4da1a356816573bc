using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using System.Text.Json;
using Platform.Activities.AI;
using Platform.Activities.Data;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Server.Demo;

/// <summary>
/// The embedded default's demo, created on first start so that the assistant answers out of the box: a small shop database
/// (SQLite: customers, orders, inventory) registered as the read-only data source <c>demo</c>, the intent set <c>assistant</c>, and the seed workflows from
/// <c>workflows/</c> published. Existing data is never overwritten: a data source or workflow that exists is left alone.
/// On when <c>Platform:Demo:Enabled</c> is true.
/// </summary>
internal sealed partial class DemoSeeder(IConfiguration configuration, IDataSourceStore dataSources, IIntentSetStore intentSets, IWorkflowDefinitionService definitions,
    IWorkflowDefinitionStore store, TimeProvider clock, IHostEnvironment environment, ILogger<DemoSeeder> logger) : IHostedLifecycleService
{
    /// <summary>The demo data source name.</summary>
    public const string DataSourceName = "demo";

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        if (!IsEnabled(configuration)) return;
        try
        {
            await SeedDatabaseAsync(cancellationToken);
            await SeedIntentsAsync(cancellationToken); // before the workflows: they use its activity type
            await SeedWorkflowsAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The demo is a convenience: a failure is logged and the server runs on.
            LogFailed(logger, e);
        }
    }

    /// <summary>Whether the demo is seeded: <c>Platform:Demo:Enabled</c> (set by launchSettings.json for <c>dotnet run</c>, and by the
    /// Dockerfile); off otherwise, so that test hosts and production start empty.</summary>
    public static bool IsEnabled(IConfiguration configuration) =>
        bool.TryParse(configuration["Platform:Demo:Enabled"], out var enabled) && enabled;

    private string DataDirectory
    {
        get
        {
            var configured = configuration["Platform:DataDirectory"] ?? "App_Data";
            return Path.IsPathRooted(configured) ? configured : Path.Combine(environment.ContentRootPath, configured);
        }
    }

    private async Task SeedDatabaseAsync(CancellationToken ct)
    {
        if (await dataSources.FindAsync(DataSourceName, ct) is not null) return;
        var path = Path.Combine(DataDirectory, "demo", "shop.db");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString()))
        {
            await connection.OpenAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = DemoShop.Sql(clock.GetUtcNow(), DataSourceProviderKind.Sqlite);
            await command.ExecuteNonQueryAsync(ct);
        }
        var now = clock.GetUtcNow();
        await dataSources.SaveAsync(new DataSource
        {
            Name = DataSourceName, Provider = DataSourceProviderKind.Sqlite, ConnectionString = $"Data Source={path}", Writable = false,
            Description = "Demo shop (customers, orders, inventory), created on first start.", CreatedAt = now, UpdatedAt = now,
        }, ct);
        LogDatabase(logger, path);
    }

    private async Task SeedIntentsAsync(CancellationToken ct)
    {
        await using var stream = typeof(DemoSeeder).Assembly.GetManifestResourceStream("Platform.Server.Demo.assistant-intents.json")
            ?? throw new InvalidOperationException("The demo intent set is missing from the assembly.");
        var set = await JsonSerializer.DeserializeAsync<IntentSet>(stream, JsonFileIntentSetStore.Json, ct)
            ?? throw new InvalidOperationException("The demo intent set is empty.");
        if (await intentSets.FindAsync(set.Id, ct) is not null) return;
        var now = clock.GetUtcNow();
        await intentSets.SaveAsync(set with { Version = 1, CreatedAt = now, UpdatedAt = now }, ct);
        LogIntents(logger, set.Id, set.Intents.Count);
    }

    private async Task SeedWorkflowsAsync(CancellationToken ct)
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "workflows");
        if (!Directory.Exists(folder)) return;
        foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
        {
            if (JsonNode.Parse(await File.ReadAllTextAsync(file, ct)) is not JsonObject model) continue;
            var definitionId = model["definitionId"]?.GetValue<string>();
            if (definitionId is null) continue;
            if (await store.FindAsync(new WorkflowDefinitionFilter { DefinitionId = definitionId, VersionOptions = VersionOptions.Latest }, ct) is not null) continue;
            try
            {
                await definitions.SaveAsync(model, publish: true, ct);
                LogWorkflow(logger, definitionId, Path.GetFileName(file));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogWorkflowFailed(logger, e, Path.GetFileName(file));
            }
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(1, LogLevel.Information, "Demo: created the shop database {Path} as data source 'demo' (read-only).")]
    private static partial void LogDatabase(ILogger logger, string path);

    [LoggerMessage(2, LogLevel.Information, "Demo: published workflow '{DefinitionId}' from {File}.")]
    private static partial void LogWorkflow(ILogger logger, string definitionId, string file);

    [LoggerMessage(3, LogLevel.Warning, "Demo: could not publish {File}; open it in the Studio to see why.")]
    private static partial void LogWorkflowFailed(ILogger logger, Exception exception, string file);

    [LoggerMessage(5, LogLevel.Information, "Demo: created the intent set '{Id}' ({Count} intents).")]
    private static partial void LogIntents(ILogger logger, string id, int count);

    [LoggerMessage(4, LogLevel.Warning, "Demo: seeding failed; the server runs without the demo.")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
