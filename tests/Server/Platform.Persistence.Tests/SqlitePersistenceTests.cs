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
        // once it holds 16 MB. Here 48 MB are committed as in the bench while a reader reads without a pause.
        var done = false;
        var reader = new Thread(() =>
        {
            using var connection = Open();
            while (!Volatile.Read(ref done)) Execute(connection, "SELECT COUNT(*) FROM blobs");
        });

        var (largestWal, _, _) = await CommitBlobsAsync(commits: 3 * 1024, whileCommitting: reader);
        Volatile.Write(ref done, true);
        reader.Join();

        Assert.InRange(largestWal, 1, 28L * 1024 * 1024);
    }

    [Fact]
    public async Task Should_NotHoldTheWriteTurnEveryRound_When_AReaderOutlastsTheRestart()
    {
        // A reader that keeps one snapshot (a long report) makes every RESTART give up after its 20 ms wait for readers;
        // the service tries once more in the next round, then waits 2 s before each next try instead of holding the write
        // turn every 200 ms round.
        var release = new ManualResetEventSlim();
        var reader = new Thread(() =>
        {
            using var connection = Open();
            using var transaction = connection.BeginTransaction(deferred: true);
            using (var read = connection.CreateCommand()) { read.Transaction = transaction; read.CommandText = "SELECT COUNT(*) FROM blobs"; read.ExecuteScalar(); }
            release.Wait(Ct);
        });

        var (_, longWaits, elapsed) = await CommitBlobsAsync(commits: 2 * 1024, whileCommitting: reader);
        release.Set();
        reader.Join();

        // Two tries, then one per 2 s at most. The bound grows with the run's length, so that a slow, busy machine (where
        // the same commits take longer) does not fail it; a try every 200 ms round would be ten times as many.
        var bound = 2 + (int)Math.Ceiling(elapsed.TotalSeconds / 2);
        Assert.InRange(longWaits, 0, bound);
    }

    /// <summary>
    /// Creates a blobs table and, with the checkpoint service running and <paramref name="whileCommitting"/> started, commits
    /// 16 KB blobs in the write turn a millisecond apart (about the bench's rate) on a thread of its own, so the service gets
    /// its turns on the thread pool. Returns the largest WAL file seen, how many times the write turn took over 15 ms, and
    /// how long the commits took.
    /// </summary>
    private async Task<(long LargestWal, int LongWaits, TimeSpan Elapsed)> CommitBlobsAsync(int commits, Thread whileCommitting)
    {
        var checkpoints = Services.GetServices<IHostedService>().Single();
        var gate = Services.GetRequiredService<Platform.Persistence.EFCore.Storage.PlatformWriteGate>();
        var wal = new SqliteConnectionStringBuilder(_connectionString).DataSource + "-wal";
        using var writer = Open();
        Execute(writer, "CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
        await checkpoints.StartAsync(Ct);
        whileCommitting.Start();

        var (largestWal, longWaits) = (0L, 0);
        var blob = new byte[16 * 1024];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var writing = new Thread(() =>
        {
            for (var i = 0; i < commits; i++)
            {
                var next = clock.Elapsed.TotalMilliseconds + 1; // a millisecond apart, never in a burst
                while (clock.Elapsed.TotalMilliseconds < next) Thread.SpinWait(100);
                Random.Shared.NextBytes(blob);
                var asked = clock.Elapsed;
                using (gate.EnterAsync(Ct).AsTask().GetAwaiter().GetResult())
                {
                    if ((clock.Elapsed - asked).TotalMilliseconds > 15) longWaits++;
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
        await checkpoints.StopAsync(Ct);
        return (largestWal, longWaits, clock.Elapsed);
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
