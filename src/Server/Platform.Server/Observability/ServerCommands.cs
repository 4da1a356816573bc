using Platform.Persistence.EFCore;
using Platform.Persistence.EFCore.Storage;
using Platform.Server.Extensions;

namespace Platform.Server.Observability;

/// <summary>
/// The server binary's commands besides serving: <c>backup --out FILE</c>, <c>restore --from FILE</c>, <c>rotate-secrets</c>
/// and <c>eval-intents</c>. They read the same configuration as the server (appsettings, environment, the remaining arguments).
/// </summary>
public static class ServerCommands
{
    /// <summary>Runs the command named by <paramref name="args"/>[0]; false when it names none (then the server starts).</summary>
    public static async Task<bool> TryRunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (await AiHostExtensions.TryRunCommandAsync(args).ConfigureAwait(false)) return true;
        if (args.Length == 0) return false;
        var command = args[0].ToLowerInvariant();
        if (command is not ("backup" or "restore" or "rotate-secrets")) return false;
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        Environment.ExitCode = command == "rotate-secrets"
            ? await RotateSecretsAsync(args, Console.Out, Console.Error, cts.Token).ConfigureAwait(false)
            : await RunAsync(args, Console.Out, Console.Error, cts.Token).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Runs <c>rotate-secrets [--Platform:DataDirectory=...]</c>: re-encrypts every stored secret under the active key (the same as
    /// <c>POST /api/secrets/rotate</c>), with the server's configuration, while servers run. Prints the counts; returns the exit code
    /// (0 done, 1 failed or some values could not be read).
    /// </summary>
    public static async Task<int> RotateSecretsAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args.Skip(1).ToArray() });
            var dataDirectory = PlatformHostExtensions.ResolveDataDirectory(builder.Configuration["Platform:DataDirectory"], builder.Environment.ContentRootPath);
            var settings = PlatformDatabaseSettings.FromConfiguration(builder.Configuration, dataDirectory);
            var services = new ServiceCollection().AddLogging().AddPlatformPersistence(settings with { MigrateOnStartup = false });
            await using var provider = services.BuildServiceProvider();
            await provider.MigratePlatformDatabaseAsync(ct).ConfigureAwait(false);
            var loggers = provider.GetRequiredService<ILoggerFactory>();
            var protector = DataHostExtensions.CreateSecretProtector(builder.Configuration, dataDirectory, loggers.CreateLogger("Platform.Server.Secrets"));
            var rotation = new Security.SecretRotation(provider.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<PlatformDbContext>>(),
                provider.GetRequiredService<PlatformWriteGate>(), protector, loggers.CreateLogger<Security.SecretRotation>());
            var report = await rotation.RotateAsync(ct).ConfigureAwait(false);
            foreach (var area in report.Areas)
                await output.WriteLineAsync($"{area.Area}: {area.Items} rows, {area.Rotated} secrets re-encrypted, {area.Current} already under '{report.ActiveKeyId}', {area.Unreadable} unreadable.").ConfigureAwait(false);
            foreach (var problem in report.Problems) await error.WriteLineAsync("Cannot read " + problem).ConfigureAwait(false);
            await output.WriteLineAsync($"Rotated {report.Rotated} secrets to key '{report.ActiveKeyId}' in {settings.Describe()} ({report.Current} already current, {report.Unreadable} unreadable).").ConfigureAwait(false);
            return report.Unreadable == 0 ? 0 : 1;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException)
        {
            await error.WriteLineAsync($"rotate-secrets failed: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>Runs <c>backup</c> or <c>restore</c>; returns the exit code (0 done, 1 failed, 2 wrong arguments).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var backup = string.Equals(args[0], "backup", StringComparison.OrdinalIgnoreCase);
        var option = backup ? "--out" : "--from";
        var index = Array.FindIndex(args, a => string.Equals(a, option, StringComparison.Ordinal));
        if (index < 0 || index + 1 >= args.Length || string.IsNullOrWhiteSpace(args[index + 1]))
        {
            await error.WriteLineAsync(backup
                ? "Usage: backup --out FILE [--Platform:DataDirectory=...] (writes a consistent copy of the platform database while it serves)"
                : "Usage: restore --from FILE [--Platform:DataDirectory=...] (replaces the platform database with the backup; stop every server first)").ConfigureAwait(false);
            return 2;
        }
        var file = args[index + 1];
        var rest = args.Where((_, i) => i != 0 && i != index && i != index + 1).ToArray();
        try
        {
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = rest });
            var dataDirectory = PlatformHostExtensions.ResolveDataDirectory(builder.Configuration["Platform:DataDirectory"], builder.Environment.ContentRootPath);
            var settings = PlatformDatabaseSettings.FromConfiguration(builder.Configuration, dataDirectory);
            var database = new PlatformDatabaseBackup(settings);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            if (backup) await database.BackupAsync(file, ct).ConfigureAwait(false);
            else await database.RestoreAsync(file, ct).ConfigureAwait(false);
            var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            await output.WriteLineAsync(backup
                ? $"Backed up {settings.Describe()} to {Path.GetFullPath(file)} ({new FileInfo(Path.GetFullPath(file)).Length} bytes) in {elapsed.TotalSeconds:0.0} s."
                : $"Restored {settings.Describe()} from {Path.GetFullPath(file)} in {elapsed.TotalSeconds:0.0} s. Start the server: it applies any newer migrations.").ConfigureAwait(false);
            return 0;
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException or Microsoft.Data.Sqlite.SqliteException or Npgsql.NpgsqlException)
        {
            await error.WriteLineAsync($"{args[0]} failed: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
