using Platform.Testing;

namespace Platform.Server.Tests.Infrastructure;

/// <summary>A running server with an Admin and an Operator client; tests share it but each owns its data.</summary>
public abstract class ServerFixture : IAsyncLifetime
{
    private readonly TempDirectory _dataDirectory = new("platform-server-test");

    /// <summary>The provider name /health should report.</summary>
    public abstract string ProviderName { get; }

    /// <summary>The server.</summary>
    public PlatformServerFactory Factory { get; private set; } = null!;

    /// <summary>Sends the Admin key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>Sends the Operator (read-only) key.</summary>
    public HttpClient Operator { get; private set; } = null!;

    /// <summary>The server's data directory.</summary>
    public string DataDirectory => _dataDirectory.Path;

    /// <summary>The database settings (provider and connection string).</summary>
    protected abstract Task<(string Provider, string? ConnectionString)> DatabaseAsync();

    /// <inheritdoc />
    public async ValueTask InitializeAsync()
    {
        var (provider, connectionString) = await DatabaseAsync();
        Factory = new PlatformServerFactory(PlatformServerFactory.WithKeys(_dataDirectory.Path, provider, connectionString));
        Admin = Factory.CreateClient(PlatformServerFactory.AdminKey);
        Operator = Factory.CreateClient(PlatformServerFactory.OperatorKey);
    }

    /// <inheritdoc />
    public virtual async ValueTask DisposeAsync()
    {
        Admin?.Dispose();
        Operator?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        _dataDirectory.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>The server on SQLite in a temporary data directory (the embedded default).</summary>
public sealed class SqliteServerFixture : ServerFixture
{
    /// <inheritdoc />
    public override string ProviderName => "Sqlite";

    /// <inheritdoc />
    protected override Task<(string Provider, string? ConnectionString)> DatabaseAsync() => Task.FromResult(("Sqlite", (string?)null));
}

/// <summary>The server on a real PostgreSQL (PG_CONN in CI, else a private server), in a database of its own.</summary>
public sealed class PostgresServerFixture : ServerFixture
{
    private readonly PostgresFixture _postgres = new();

    /// <inheritdoc />
    public override string ProviderName => "PostgreSql";

    /// <inheritdoc />
    protected override async Task<(string Provider, string? ConnectionString)> DatabaseAsync() =>
        ("PostgreSql", await _postgres.CreateDatabaseAsync("server"));

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await _postgres.DisposeAsync();
    }
}
