using Platform.Activities.Security;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Platform.Activities;

namespace Platform.Activities.Data;

/// <summary>The database engines a data source can point at.</summary>
public enum DataSourceProviderKind
{
    /// <summary>PostgreSQL (Npgsql).</summary>
    PostgreSql,
    /// <summary>SQLite (Microsoft.Data.Sqlite).</summary>
    Sqlite,
    /// <summary>MySQL / MariaDB (MySqlConnector).</summary>
    MySql,
    /// <summary>SQL Server (Microsoft.Data.SqlClient).</summary>
    SqlServer,
}

/// <summary>A named data source. <see cref="ConnectionString"/> is the plain text; stores keep it encrypted.</summary>
public sealed record DataSource
{
    /// <summary>The name workflows use (letters, digits, '.', '_' and '-').</summary>
    public required string Name { get; init; }
    /// <summary>The database engine.</summary>
    public required DataSourceProviderKind Provider { get; init; }
    /// <summary>The ADO.NET connection string (secret).</summary>
    public required string ConnectionString { get; init; }
    /// <summary>When false (the default) queries run read-only.</summary>
    public bool Writable { get; init; }
    /// <summary>A note for analysts.</summary>
    public string? Description { get; init; }
    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }
    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>True when <paramref name="name"/> is a valid data source name.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    private static Regex NamePattern() => new("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant);
}

/// <summary>Stores named data sources.</summary>
public interface IDataSourceStore
{
    /// <summary>All data sources, by name.</summary>
    Task<IReadOnlyList<DataSource>> ListAsync(CancellationToken ct = default);
    /// <summary>One data source (case-insensitive name), or null.</summary>
    Task<DataSource?> FindAsync(string name, CancellationToken ct = default);
    /// <summary>Adds or replaces a data source.</summary>
    Task SaveAsync(DataSource dataSource, CancellationToken ct = default);
    /// <summary>Deletes a data source; false when unknown.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken ct = default);
}

/// <summary>
/// Data sources in one JSON file (<c>data-sources.json</c> in the data directory) with connection strings encrypted.
/// Thread-safe within the process; writes go to a temporary file that replaces the old one.
/// </summary>
public sealed class JsonFileDataSourceStore : IDataSourceStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true, Converters = { new JsonStringEnumConverter() },
    };

    private readonly string _path;
    private readonly SecretProtector _protector;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, DataSource>? _cache;

    /// <summary>Creates the store.</summary>
    public JsonFileDataSourceStore(string path, SecretProtector protector)
    {
        _path = path;
        _protector = protector;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DataSource>> ListAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try { return (await LoadAsync(ct)).Values.OrderBy(d => d.Name, StringComparer.OrdinalIgnoreCase).ToList(); }
        finally { _gate.Release(); }
    }

    /// <inheritdoc />
    public async Task<DataSource?> FindAsync(string name, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try { return (await LoadAsync(ct)).GetValueOrDefault(name); }
        finally { _gate.Release(); }
    }

    /// <inheritdoc />
    public async Task SaveAsync(DataSource dataSource, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (!DataSource.IsValidName(dataSource.Name)) throw new ArgumentException($"'{dataSource.Name}' is not a valid data source name.", nameof(dataSource));
        await _gate.WaitAsync(ct);
        try
        {
            var all = await LoadAsync(ct);
            var copy = new Dictionary<string, DataSource>(all, StringComparer.OrdinalIgnoreCase) { [dataSource.Name] = dataSource };
            await WriteAsync(copy, ct);
            _cache = copy;
        }
        finally { _gate.Release(); }
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string name, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            var all = await LoadAsync(ct);
            if (!all.ContainsKey(name)) return false;
            var copy = new Dictionary<string, DataSource>(all, StringComparer.OrdinalIgnoreCase);
            copy.Remove(name);
            await WriteAsync(copy, ct);
            _cache = copy;
            return true;
        }
        finally { _gate.Release(); }
    }

    private async Task<Dictionary<string, DataSource>> LoadAsync(CancellationToken ct)
    {
        if (_cache is not null) return _cache;
        var result = new Dictionary<string, DataSource>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(_path))
        {
            await using var stream = File.OpenRead(_path);
            var stored = await JsonSerializer.DeserializeAsync<List<DataSource>>(stream, Json, ct) ?? [];
            foreach (var d in stored) result[d.Name] = d with { ConnectionString = _protector.Unprotect(d.ConnectionString) };
        }
        return _cache = result;
    }

    private async Task WriteAsync(Dictionary<string, DataSource> all, CancellationToken ct)
    {
        var stored = all.Values.OrderBy(d => d.Name, StringComparer.OrdinalIgnoreCase)
            .Select(d => d with { ConnectionString = _protector.Protect(d.ConnectionString) }).ToList();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        var temp = _path + ".tmp";
        await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            await JsonSerializer.SerializeAsync(stream, stored, Json, ct);
        }
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, _path, overwrite: true);
    }
}

/// <summary>
/// Data sources shared by all server nodes: kept as <see cref="IConfigurationDocuments"/> of kind <see cref="Kind"/> (the host
/// stores them in the platform database) with the connection string encrypted exactly as in <see cref="JsonFileDataSourceStore"/>,
/// and held in memory, so a query never reads its data source from the database. Every node needs the same secrets key to read
/// the connection strings. Changes made by other nodes are picked up every refresh interval and raise <see cref="Changed"/>.
/// </summary>
public sealed class DocumentDataSourceStore : IDataSourceStore, IDisposable
{
    /// <summary>The document kind of data sources.</summary>
    public const string Kind = "data-sources";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private readonly ConfigurationDocumentCache<DataSource> _cache;

    /// <summary>Creates the store.</summary>
    /// <param name="documents">The shared documents.</param>
    /// <param name="protector">Encrypts the connection strings.</param>
    /// <param name="refreshInterval">How often other nodes' changes are looked for (zero: never).</param>
    /// <param name="logger">Logs data sources that cannot be read (for example under another secrets key).</param>
    public DocumentDataSourceStore(IConfigurationDocuments documents, SecretProtector protector, TimeSpan refreshInterval,
        Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(protector);
        _cache = new ConfigurationDocumentCache<DataSource>(documents, Kind, d => d.Name,
            d => JsonSerializer.Serialize(d with { ConnectionString = protector.Protect(d.ConnectionString) }, Json),
            json => JsonSerializer.Deserialize<DataSource>(json, Json) is { } d
                ? d with { ConnectionString = protector.Unprotect(d.ConnectionString) }
                : throw new JsonException("The document is null."),
            refreshInterval, logger);
        _cache.Changed += name => Changed?.Invoke(name);
    }

    /// <summary>Raised with the name after a data source was saved or deleted, here or on another node.</summary>
    public event Action<string>? Changed;

    /// <inheritdoc />
    public Task<IReadOnlyList<DataSource>> ListAsync(CancellationToken ct = default) => _cache.ListAsync(ct);

    /// <inheritdoc />
    public Task<DataSource?> FindAsync(string name, CancellationToken ct = default) => _cache.FindAsync(name, ct);

    /// <inheritdoc />
    public Task SaveAsync(DataSource dataSource, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        if (!DataSource.IsValidName(dataSource.Name)) throw new ArgumentException($"'{dataSource.Name}' is not a valid data source name.", nameof(dataSource));
        return _cache.SaveAsync(dataSource, ct);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string name, CancellationToken ct = default) => _cache.DeleteAsync(name, ct);

    /// <summary>Looks for changes made by other nodes now.</summary>
    public Task RefreshAsync(CancellationToken ct = default) => _cache.RefreshAsync(ct);

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();
}
