using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.Persistence.EFCore;
using Platform.Testing;

namespace Platform.Persistence.Tests;

/// <summary>The store contract on SQLite (a temp file per test, WAL mode, as in production).</summary>
public sealed class SqlitePersistenceTests : PersistenceContractTests
{
    private readonly TempDirectory _directory = new("platform-sqlite");
    private string? _connectionString;

    protected override Task<PlatformDatabaseSettings> CreateDatabaseAsync()
    {
        _connectionString = $"Data Source={_directory.File("platform.db")}";
        return Task.FromResult(new PlatformDatabaseSettings(PlatformDatabaseProvider.Sqlite, _connectionString));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_connectionString is not null) SqliteConnection.ClearPool(new SqliteConnection(_connectionString));
        _directory.Dispose();
    }

    [Fact]
    public void Should_UseWalJournal_When_DatabaseIsOpened()
    {
        using var connection = Open();

        Assert.Equal("wal", Execute(connection, "PRAGMA journal_mode"));
    }

    [Fact]
    public void Should_UseSmallPages_When_TheDatabaseIsNew()
    {
        using var connection = Open();

        Assert.Equal(1024L, Execute(connection, "PRAGMA page_size")); // SqliteConnectionInitializer.NewDatabasePageSize
    }

    [Fact]
    public void Should_GiveEachContextItsOwnNativeConnection_When_ManyOpenAtOnce()
    {
        // Microsoft.Data.Sqlite's pool can lend one native connection to two openers at once (dotnet/efcore#39008).
        // Without PoolSafeSqliteRelationalConnection this failed in three runs of four.
        var factory = Services.GetRequiredService<IDbContextFactory<PlatformDbContext>>();

        var problems = ConnectionPoolStress.Run(openers: 16, rounds: 1000, open: () =>
        {
            var db = factory.CreateDbContext();
            db.Database.OpenConnection();
            return new(((SqliteConnection)db.Database.GetDbConnection()).Handle!.DangerousGetHandle(), db.Dispose);
        }, whileAllOpen: () => SqliteConnection.ClearPool(new SqliteConnection(_connectionString)));

        Assert.Empty(problems);
    }

    [Fact]
    public async Task Should_StartTheWalOver_When_CommitsAndReadsNeverPause()
    {
        // Under steady load a commit almost never finds the WAL fully copied and unread, so SQLite alone never starts it
        // over: it grew to the 64 MB truncation, which held the write turn for 35-65 ms. The checkpoint service restarts it
        // once it holds 16 MB. Here 48 MB are committed as in the bench, about a commit a millisecond, while a reader reads
        // without a pause (both on threads of their own, so the checkpoint service gets its turns on the thread pool).
        var checkpoints = Services.GetServices<IHostedService>().Single();
        await checkpoints.StartAsync(Ct);
        var gate = Services.GetRequiredService<Platform.Persistence.EFCore.Storage.PlatformWriteGate>();
        var wal = new SqliteConnectionStringBuilder(_connectionString).DataSource + "-wal";
        using var writer = Open();
        Execute(writer, "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
        var done = false;
        var reader = new Thread(() =>
        {
            using var connection = Open();
            while (!Volatile.Read(ref done)) Execute(connection, "SELECT COUNT(*) FROM blobs");
        });
        reader.Start();

        var largestWal = 0L;
        var blob = new byte[16 * 1024];
        var pace = System.Diagnostics.Stopwatch.StartNew();
        var writing = new Thread(() =>
        {
            for (var commits = 0; commits < 3 * 1024; commits++)
            {
                var next = pace.Elapsed.TotalMilliseconds + 1; // a millisecond apart, never in a burst
                while (pace.Elapsed.TotalMilliseconds < next) Thread.SpinWait(100);
                Random.Shared.NextBytes(blob);
                using (gate.EnterAsync(Ct).AsTask().GetAwaiter().GetResult())
                {
                    using var insert = writer.CreateCommand();
                    insert.CommandText = "INSERT INTO blobs (data) VALUES ($data)";
                    insert.Parameters.AddWithValue("$data", blob);
                    insert.ExecuteNonQuery();
                }
                largestWal = Math.Max(largestWal, new FileInfo(wal).Length);
            }
        });
        writing.Start();
        writing.Join();
        Volatile.Write(ref done, true);
        reader.Join();
        await checkpoints.StopAsync(Ct);

        Assert.InRange(largestWal, 1, 28L * 1024 * 1024);
    }

    private SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        Execute(connection, "PRAGMA busy_timeout=10000");
        return connection;
    }

    private static object? Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
