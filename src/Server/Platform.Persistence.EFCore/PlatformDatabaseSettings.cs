using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Platform.Persistence.EFCore;

/// <summary>The database engines the platform runs on.</summary>
public enum PlatformDatabaseProvider
{
    /// <summary>Embedded SQLite file (the default): nothing to install.</summary>
    Sqlite,
    /// <summary>PostgreSQL through Npgsql.</summary>
    PostgreSql,
}

/// <summary>
/// Where the platform keeps its data. Built from configuration by <see cref="FromConfiguration"/>; registered as a singleton by
/// <c>AddPlatformPersistence</c> so other modules (job storage, outbox) can reuse the same database.
/// </summary>
public sealed record PlatformDatabaseSettings
{
    /// <summary>Configuration key of the provider: <c>Sqlite</c> (default) or <c>PostgreSql</c>.</summary>
    public const string ProviderKey = "Platform:Database:Provider";
    /// <summary>Configuration key that turns the start-up migration off (default on).</summary>
    public const string MigrateOnStartupKey = "Platform:Database:MigrateOnStartup";
    /// <summary>Configuration key of <see cref="GroupCommitMaxBatch"/>.</summary>
    public const string GroupCommitMaxBatchKey = "Platform:Database:GroupCommitMaxBatch";
    /// <summary>The default of <see cref="GroupCommitMaxBatch"/>.</summary>
    public const int DefaultGroupCommitMaxBatch = 64;
    /// <summary>Name of the connection string (configuration key <c>ConnectionStrings:Platform</c>).</summary>
    public const string ConnectionStringName = "Platform";
    /// <summary>File name of the SQLite database in the data directory when no connection string is set.</summary>
    public const string DefaultSqliteFileName = "platform.db";

    /// <summary>Creates settings.</summary>
    public PlatformDatabaseSettings(PlatformDatabaseProvider provider, string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        Provider = provider;
        ConnectionString = connectionString;
    }

    /// <summary>The database engine.</summary>
    public PlatformDatabaseProvider Provider { get; init; }

    /// <summary>The ADO.NET connection string (for SQLite, relative file paths are already resolved against the data directory).</summary>
    public string ConnectionString { get; init; }

    /// <summary>Whether <c>AddPlatformPersistence</c> registers the hosted service that migrates the database at start-up.</summary>
    public bool MigrateOnStartup { get; init; } = true;

    /// <summary>
    /// The most workflow commits (instance, bookmarks, journal, outbox rows, inbox mark) stored in one transaction by the group
    /// committer (default 64); 1 turns group commit off (one transaction per commit).
    /// </summary>
    public int GroupCommitMaxBatch { get; init; } = DefaultGroupCommitMaxBatch;

    /// <summary>
    /// Reads <c>Platform:Database:Provider</c>, <c>ConnectionStrings:Platform</c> and <c>Platform:Database:MigrateOnStartup</c>.
    /// SQLite defaults to <c>Data Source={dataDirectory}/platform.db</c>; PostgreSQL requires the connection string.
    /// </summary>
    /// <exception cref="InvalidOperationException">The provider is unknown, or PostgreSQL is chosen without a connection string.</exception>
    public static PlatformDatabaseSettings FromConfiguration(IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);

        var provider = ParseProvider(configuration[ProviderKey]);
        var connectionString = configuration.GetConnectionString(ConnectionStringName);
        var migrate = configuration[MigrateOnStartupKey] is not { Length: > 0 } m || ParseBool(m, MigrateOnStartupKey);
        var maxBatch = DefaultGroupCommitMaxBatch;
        if (configuration[GroupCommitMaxBatchKey] is { Length: > 0 } gb
            && (!int.TryParse(gb, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out maxBatch) || maxBatch is < 1 or > 10_000))
            throw new InvalidOperationException($"{GroupCommitMaxBatchKey} is '{gb}'; use a whole number from 1 (group commit off) to 10000, e.g. 64.");

        if (provider == PlatformDatabaseProvider.PostgreSql)
        {
            if (string.IsNullOrWhiteSpace(connectionString))
                throw new InvalidOperationException(
                    $"{ProviderKey} is 'PostgreSql' but no connection string is configured. Set 'ConnectionStrings:{ConnectionStringName}' " +
                    $"(environment variable ConnectionStrings__{ConnectionStringName}), for example: " +
                    "\"Host=localhost;Port=5432;Database=platform;Username=platform;Password=secret\". " +
                    $"To use the embedded database instead, set {ProviderKey} to 'Sqlite' or remove it.");
            return new PlatformDatabaseSettings(provider, connectionString) { MigrateOnStartup = migrate, GroupCommitMaxBatch = maxBatch };
        }

        return new PlatformDatabaseSettings(provider, ResolveSqlite(connectionString, dataDirectory)) { MigrateOnStartup = migrate, GroupCommitMaxBatch = maxBatch };
    }

    /// <summary>A description for logs without secrets: the SQLite file, or host/port/database for PostgreSQL.</summary>
    public string Describe()
    {
        try
        {
            if (Provider == PlatformDatabaseProvider.Sqlite) return $"Sqlite {new SqliteConnectionStringBuilder(ConnectionString).DataSource}";
            var b = new NpgsqlConnectionStringBuilder(ConnectionString);
            return $"PostgreSql {b.Host}:{b.Port}/{b.Database}";
        }
        catch (ArgumentException)
        {
            return Provider.ToString();
        }
    }

    private static PlatformDatabaseProvider ParseProvider(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return PlatformDatabaseProvider.Sqlite;
        return text.Trim().ToLowerInvariant() switch
        {
            "sqlite" => PlatformDatabaseProvider.Sqlite,
            "postgresql" or "postgres" or "npgsql" => PlatformDatabaseProvider.PostgreSql,
            _ => throw new InvalidOperationException($"{ProviderKey} is '{text}', which is not a known database provider. Use 'Sqlite' (default) or 'PostgreSql'."),
        };
    }

    private static bool ParseBool(string text, string key) => bool.TryParse(text, out var value)
        ? value
        : throw new InvalidOperationException($"{key} is '{text}'; use true or false.");

    /// <summary>Applies the SQLite defaults: the file lives in the data directory unless an absolute path is given.</summary>
    private static string ResolveSqlite(string? connectionString, string dataDirectory)
    {
        var builder = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(connectionString)
            ? $"Data Source={DefaultSqliteFileName}"
            : connectionString);
        var source = builder.DataSource;
        var keepAsGiven = source.Length == 0 || source == ":memory:" || builder.Mode == SqliteOpenMode.Memory
                       || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase);
        if (!keepAsGiven && !Path.IsPathRooted(source))
            builder.DataSource = Path.GetFullPath(Path.Combine(dataDirectory, source));
        return builder.ToString();
    }
}
