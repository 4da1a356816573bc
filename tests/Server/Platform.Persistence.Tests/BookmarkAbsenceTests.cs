using Microsoft.Extensions.DependencyInjection;
using Platform.Engine.Contracts;
using Platform.Engine.Stores;
using Platform.Persistence.EFCore;
using Platform.Persistence.EFCore.Storage;
using Platform.Testing;
using static Platform.Persistence.Tests.TestData;

namespace Platform.Persistence.Tests;

/// <summary>
/// The bookmark lookup that every HTTP request and message makes answers "none" from memory, and never after a bookmark
/// exists: on one SQLite node, and between two nodes sharing PostgreSQL through the LISTEN/NOTIFY change feed.
/// </summary>
public sealed class BookmarkAbsenceTests(PostgresFixture postgres) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly TempDirectory _data = new("platform-bookmark-absence");
    private readonly List<ServiceProvider> _nodes = [];

    [Fact]
    public async Task Should_AnswerFromMemoryUntilACommitCreatesTheBookmark_When_OneSqliteNodeLooksUpTheSameKey()
    {
        // Arrange
        var node = await StartNodeAsync(new PlatformDatabaseSettings(PlatformDatabaseProvider.Sqlite, $"Data Source={Path.Combine(_data.Path, "platform.db")}"));
        var bookmarks = node.GetRequiredService<IBookmarkStore>();
        var absence = node.GetRequiredService<BookmarkAbsence>();
        var key = "chat-" + Guid.NewGuid().ToString("N");

        // Act
        var first = await bookmarks.FindAsync("Platform.WaitForMessage", key, Ct);
        var hitsBefore = absence.Hits;
        var second = await bookmarks.FindAsync("Platform.WaitForMessage", key, Ct);
        var hitsAfter = absence.Hits;
        await node.GetRequiredService<IWorkflowCommitStore>().CommitAsync(Commit(Instance("i-" + key), [Bookmark("b-" + key, "i-" + key, key: key)]), Ct);
        var afterCommit = await bookmarks.FindAsync("Platform.WaitForMessage", key, Ct);

        // Assert
        Assert.Empty(first);
        Assert.Empty(second);
        Assert.Equal(hitsBefore + 1, hitsAfter); // the second lookup made no query
        Assert.Equal("b-" + key, Assert.Single(afterCommit).Id);
    }

    [Fact]
    public async Task Should_FindABookmarkCreatedOnAnotherNode_When_TheFirstNodeRememberedItsAbsence()
    {
        // Arrange: two nodes on one PostgreSQL database, each listening for the other's bookmark changes.
        var settings = new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, await postgres.CreateDatabaseAsync("absence", Ct));
        var a = await StartNodeAsync(settings);
        var b = await StartNodeAsync(settings);
        var key = "chat-" + Guid.NewGuid().ToString("N");
        var onB = b.GetRequiredService<IBookmarkStore>();
        var absenceOnB = b.GetRequiredService<BookmarkAbsence>();
        Assert.Empty(await onB.FindAsync("Platform.WaitForMessage", key, Ct));
        var hits = absenceOnB.Hits;
        Assert.Empty(await onB.FindAsync("Platform.WaitForMessage", key, Ct));
        Assert.Equal(hits + 1, absenceOnB.Hits); // B now answers "none" from memory

        // Act: A creates the bookmark.
        await a.GetRequiredService<IWorkflowCommitStore>().CommitAsync(Commit(Instance("i-" + key), [Bookmark("b-" + key, "i-" + key, key: key)]), Ct);
        IReadOnlyList<Platform.Engine.Models.StoredBookmark> found = [];
        var until = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < until && found.Count == 0)
        {
            found = await onB.FindAsync("Platform.WaitForMessage", key, Ct);
            if (found.Count == 0) await Task.Delay(20, Ct);
        }

        // Assert
        Assert.Equal("b-" + key, Assert.Single(found).Id);
    }

    [Fact]
    public async Task Should_QueryEveryTime_When_NoChangeFeedListensOnASharedDatabase()
    {
        // Arrange: PostgreSQL without the feed running (as while it reconnects): nothing is remembered.
        var settings = new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, await postgres.CreateDatabaseAsync("absence", Ct));
        var node = await StartNodeAsync(settings, startFeed: false);
        var key = "chat-" + Guid.NewGuid().ToString("N");
        var bookmarks = node.GetRequiredService<IBookmarkStore>();

        // Act
        await bookmarks.FindAsync("Platform.WaitForMessage", key, Ct);
        await bookmarks.FindAsync("Platform.WaitForMessage", key, Ct);

        // Assert
        Assert.False(node.GetRequiredService<BookmarkAbsence>().Enabled);
        Assert.Equal(0, node.GetRequiredService<BookmarkAbsence>().Hits);
    }

    private async Task<ServiceProvider> StartNodeAsync(PlatformDatabaseSettings settings, bool startFeed = true)
    {
        var node = new ServiceCollection().AddLogging().AddPlatformPersistence(settings with { MigrateOnStartup = false }).BuildServiceProvider();
        _nodes.Add(node);
        await node.MigratePlatformDatabaseAsync(Ct);
        if (settings.Provider == PlatformDatabaseProvider.PostgreSql && startFeed)
        {
            var feed = node.GetRequiredService<PostgresBookmarkChangeFeed>();
            await feed.StartAsync(Ct);
            var until = DateTime.UtcNow.AddSeconds(10);
            while (!feed.Listening && DateTime.UtcNow < until) await Task.Delay(20, Ct);
            Assert.True(feed.Listening, "the change feed listens");
        }
        return node;
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            if (node.GetService<PostgresBookmarkChangeFeed>() is { } feed) await feed.StopAsync(CancellationToken.None);
            await node.DisposeAsync();
        }
        _data.Dispose();
    }
}
