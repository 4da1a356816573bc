using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Engine.Stores;
using Platform.Messaging;
using Platform.Persistence.EFCore;
using Platform.Testing;

namespace Platform.Activities.AI.Tests;

/// <summary>
/// <see cref="ConversationMemoryFromMessages"/> over the inbox and outbox stores, run by a derived class against the
/// in-memory stores, SQLite and PostgreSQL.
/// </summary>
public abstract class ConversationMemoryTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);
    private static readonly ConversationId Chat = new(ChannelKind.Telegram, "tg", "42");
    private static readonly ConversationId Other = new(ChannelKind.Telegram, "tg", "43");
    private ServiceProvider? _services;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Adds the stores under test.</summary>
    protected abstract Task AddStoresAsync(IServiceCollection services);

    private IInboxStore Inbox => _services!.GetRequiredService<IInboxStore>();
    private IOutboxStore Outbox => _services!.GetRequiredService<IOutboxStore>();
    private ConversationMemoryFromMessages Memory => new(Inbox, Outbox, NullLogger<ConversationMemoryFromMessages>.Instance);

    public async ValueTask InitializeAsync()
    {
        var services = new ServiceCollection().AddLogging();
        await AddStoresAsync(services);
        _services = services.BuildServiceProvider();
        if (_services.GetService<PlatformDatabaseSettings>() is not null) await _services.MigratePlatformDatabaseAsync(Ct);
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_services is not null) await _services.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private async Task ReceivedAsync(string id, ConversationId conversation, string text, int minute, InboxStatus status = InboxStatus.Processed)
    {
        var message = new IncomingMessage
        {
            ChannelKind = ChannelKind.Telegram, ChannelName = "tg", ChannelMessageId = "tg-" + id, Conversation = conversation,
            Sender = new ChannelUser("u1", "Ada"), Text = text, ReceivedAt = T0.AddMinutes(minute), RawPayload = "{}",
        };
        await Inbox.AddAsync(new InboxMessage
        {
            Id = id, DeduplicationKey = message.DeduplicationKey, Channel = "tg", ConversationKey = conversation.ToString(),
            Payload = MessageJson.Serialize(message), ReceivedAt = message.ReceivedAt,
        }, Ct);
        if (status != InboxStatus.Received) await Inbox.UpdateAsync(id, status, null, null, T0.AddMinutes(minute), Ct);
    }

    private Task SentAsync(string id, ConversationId conversation, string text, int minute, OutboxStatus status = OutboxStatus.Sent) =>
        Outbox.AddAsync([new OutboxMessage
        {
            Id = id, Channel = "tg", ConversationKey = conversation.ToString(), Payload = new OutgoingEnvelope { Text = text }.ToJson(),
            Status = status, CreatedAt = T0.AddMinutes(minute), NextAttemptAt = T0.AddMinutes(minute),
        }], Ct);

    /// <summary>hi / Hello! / turn on the light / Which room? / (a dead letter) / (an attachment) / kitchen (being processed), and another chat.</summary>
    private async Task SeedAsync()
    {
        await ReceivedAsync("m1", Chat, "hi", 1);
        await SentAsync("o1", Chat, "Hello!", 2);
        await ReceivedAsync("m2", Chat, "turn on the light", 3);
        await SentAsync("o2", Chat, "Which room?", 4, OutboxStatus.Pending);
        await SentAsync("o3", Chat, "never delivered", 5, OutboxStatus.DeadLettered);
        await ReceivedAsync("m3", Chat, "", 6);
        await ReceivedAsync("m4", Chat, "kitchen", 7, InboxStatus.Received);
        await ReceivedAsync("x1", Other, "other chat", 8);
        await SentAsync("y1", Other, "other reply", 9);
    }

    [Fact]
    public async Task Should_ReturnHandledMessagesAndRepliesOldestFirst_When_AConversationHasTurns()
    {
        // Arrange
        await SeedAsync();

        // Act
        var turns = await Memory.GetRecentTurnsAsync(Chat.ToString(), 10, Ct);

        // Assert
        Assert.Equal(
            [(ConversationRole.User, "hi"), (ConversationRole.Assistant, "Hello!"), (ConversationRole.User, "turn on the light"), (ConversationRole.Assistant, "Which room?")],
            turns.Select(t => (t.Role, t.Text)));
        Assert.Equal(T0.AddMinutes(1), turns[0].At);
        Assert.Equal("tg-m1", turns[0].MessageId);
        Assert.Equal("o2", turns[3].MessageId);
    }

    [Fact]
    public async Task Should_ReturnOnlyTheLastTurns_When_FewerAreAskedFor()
    {
        // Arrange
        await SeedAsync();

        // Act
        var turns = await Memory.GetRecentTurnsAsync(Chat.ToString(), 3, Ct);
        var none = await Memory.GetRecentTurnsAsync(Chat.ToString(), 0, Ct);
        var unknown = await Memory.GetRecentTurnsAsync("telegram:tg:999", 10, Ct);

        // Assert
        Assert.Equal(["Hello!", "turn on the light", "Which room?"], turns.Select(t => t.Text));
        Assert.Empty(none);
        Assert.Empty(unknown);
    }

    [Fact]
    public async Task Should_QueryTheNewestRowsNewestFirst_When_TheStoresAreAskedForRecentTurns()
    {
        // Arrange
        await SeedAsync();

        // Act
        var inbox = await Inbox.GetRecentTurnsAsync(Chat.ToString(), 2, Ct);
        var outbox = await Outbox.GetRecentTurnsAsync(Chat.ToString(), 5, Ct);

        // Assert
        Assert.Equal(["m3", "m2"], inbox.Select(m => m.Id));
        Assert.Equal(["o2", "o1"], outbox.Select(m => m.Id));
    }
}

public sealed class InMemoryConversationMemoryTests : ConversationMemoryTests
{
    protected override Task AddStoresAsync(IServiceCollection services)
    {
        services.AddSingleton<InMemoryStore>();
        services.AddSingleton<IInboxStore>(sp => sp.GetRequiredService<InMemoryStore>());
        services.AddSingleton<IOutboxStore>(sp => sp.GetRequiredService<InMemoryStore>());
        return Task.CompletedTask;
    }
}

public sealed class SqliteConversationMemoryTests : ConversationMemoryTests
{
    private readonly SqliteTestDatabase _database = new("ai-memory-sqlite");

    protected override Task AddStoresAsync(IServiceCollection services) => _database.AddStoresAsync(services);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}

public sealed class PostgreSqlConversationMemoryTests(PostgresFixture postgres) : ConversationMemoryTests, IClassFixture<PostgresFixture>
{
    protected override async Task AddStoresAsync(IServiceCollection services) =>
        services.AddPlatformPersistence(new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, await postgres.CreateDatabaseAsync("ai_memory", Ct)) { MigrateOnStartup = false });
}
