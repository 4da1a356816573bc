using System.Collections.Concurrent;
using System.Text;
using Npgsql;
using Xunit;

namespace Platform.Testing;

/// <summary>
/// A real PostgreSQL server for tests. Use it as an assembly, collection or class fixture, and give every test its own database
/// with <see cref="CreateDatabaseAsync"/>.
/// </summary>
/// <remarks>
/// <para>When the environment variable <c>PG_CONN</c> is set (CI sources it from <c>tests/services/ci-services.sh</c>), that
/// server is used and the databases created here are dropped on dispose. Otherwise the first <see cref="CreateDatabaseAsync"/>
/// starts a private, throwaway server with the repository's <c>tests/services/start-postgres.sh</c> (which installs Debian's
/// postgresql when missing, as root) and dispose stops it with <c>stop-postgres.sh</c>, which deletes its data. Starting lazily means tests that never ask for a database never pay for a
/// server, and a server that cannot start only fails the tests that need it.</para>
/// <example><code>
/// [assembly: AssemblyFixture(typeof(PostgresFixture))]
/// public sealed class MyTests(PostgresFixture postgres)
/// {
///     [Fact] public async Task Should_X_When_Y() { var connectionString = await postgres.CreateDatabaseAsync(); … }
/// }
/// </code></example>
/// </remarks>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>The environment variable with the connection string of an existing server.</summary>
    public const string ConnectionVariable = "PG_CONN";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(10); // the script may apt-get install the server first

    private readonly SemaphoreSlim _startLock = new(1, 1);
    private readonly ConcurrentBag<string> _databases = [];
    private string? _adminConnectionString;
    private string? _dataDirectory;

    /// <summary>True when the server came from <c>PG_CONN</c> rather than being started here.</summary>
    public bool IsExternal { get; private set; }

    /// <inheritdoc />
    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>The connection string of the server's <c>postgres</c> database (starts the server if needed).</summary>
    public async Task<string> GetAdminConnectionStringAsync(CancellationToken ct = default)
    {
        if (_adminConnectionString is { } ready) return ready;
        await _startLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_adminConnectionString is null)
            {
                if (Environment.GetEnvironmentVariable(ConnectionVariable) is { Length: > 0 } external)
                {
                    IsExternal = true;
                    _adminConnectionString = external;
                }
                else _adminConnectionString = await StartServerAsync(ct).ConfigureAwait(false);
            }
            return _adminConnectionString;
        }
        finally
        {
            _startLock.Release();
        }
    }

    /// <summary>Creates a new, empty, uniquely named database and returns its connection string.</summary>
    /// <param name="prefix">Readable part of the name (letters, digits, underscores), for finding it in logs.</param>
    /// <param name="ct">Cancels the operation.</param>
    public async Task<string> CreateDatabaseAsync(string prefix = "test", CancellationToken ct = default)
    {
        var admin = await GetAdminConnectionStringAsync(ct).ConfigureAwait(false);
        var name = DatabaseName(prefix);
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync(ct).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        _databases.Add(name);
        return new NpgsqlConnectionStringBuilder(admin) { Database = name, IncludeErrorDetail = true }.ConnectionString;
    }

    /// <summary>Drops the databases created here (external server) or stops and deletes the private server.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_adminConnectionString is null) return;
        NpgsqlConnection.ClearAllPools();
        if (_dataDirectory is not null)
        {
            await RunScriptAsync("stop-postgres.sh", _dataDirectory, TimeSpan.FromMinutes(1), CancellationToken.None).ConfigureAwait(false);
            _dataDirectory = null;
        }
        else if (IsExternal)
        {
            await using var connection = new NpgsqlConnection(_adminConnectionString);
            await connection.OpenAsync().ConfigureAwait(false);
            foreach (var name in _databases)
            {
                await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
                await command.ExecuteNonQueryAsync().ConfigureAwait(false);
            }
        }
        _adminConnectionString = null;
        _startLock.Dispose();
    }

    private async Task<string> StartServerAsync(CancellationToken ct)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"platform-pg-{Guid.NewGuid():N}");
        var output = await RunScriptAsync("start-postgres.sh", directory, StartTimeout, ct).ConfigureAwait(false);
        _dataDirectory = directory;
        var values = ParseAssignments(output);
        return values.TryGetValue("PG_CONN", out var connectionString) && connectionString.Length > 0
            ? connectionString
            : throw new InvalidOperationException($"start-postgres.sh printed no PG_CONN. Output:\n{output}");
    }

    /// <summary>Parses the <c>NAME=value</c> / <c>NAME='value'</c> lines printed by the service scripts.</summary>
    public static IReadOnlyDictionary<string, string> ParseAssignments(string output) => ServiceScripts.ParseAssignments(output);

    private static string DatabaseName(string prefix)
    {
        var clean = new StringBuilder();
        foreach (var c in prefix.ToLowerInvariant()) clean.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        var head = clean.Length == 0 ? "test" : clean.ToString();
        if (head.Length > 30) head = head[..30];
        return $"{head}_{Guid.NewGuid():N}";
    }

    private static Task<string> RunScriptAsync(string script, string argument, TimeSpan timeout, CancellationToken ct) =>
        ServiceScripts.RunAsync(script, [argument], timeout, ct);
}
