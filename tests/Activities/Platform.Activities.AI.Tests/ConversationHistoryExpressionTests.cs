using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Activities.Core;
using Platform.Activities.Data;
using Platform.Activities.Messaging;
using Platform.Channels;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;
using Platform.Persistence.EFCore;
using Platform.Server.Extensions;
using Platform.Testing;

namespace Platform.Activities.AI.Tests;

/// <summary>
/// The conversation's earlier turns in expressions: <c>getConversationHistory(n)</c> in JavaScript, <c>conversation.history</c>
/// in Liquid expressions and in Format Result templates. Run by a derived class against SQLite and PostgreSQL, with the
/// server's <see cref="ConversationMemoryFromMessages"/> over the database's inbox and outbox.
/// </summary>
public abstract class ConversationHistoryExpressionTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(DateTimeOffset.UtcNow.AddHours(-1).Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);
    private static readonly ConversationId Chat = new(ChannelKind.WebChat, "web", "history-chat");
    private ServiceProvider? _services;

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Adds the stores under test.</summary>
    protected abstract Task AddStoresAsync(IServiceCollection services);

    private IServiceProvider Services => _services!;

    /// <summary>Counts the reads of the (real) memory, to show that expressions read it lazily and once per burst.</summary>
    private CountingMemory Memory => Services.GetRequiredService<CountingMemory>();

    public async ValueTask InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton<Microsoft.Extensions.Logging.ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(Microsoft.Extensions.Logging.ILogger<>), typeof(NullLogger<>));
        services.AddWorkflowEngine(e => e.AddActivitiesFrom<CorePack>().AddActivitiesFrom<MessagingPack>().AddActivitiesFrom<DataPack>());
        await AddStoresAsync(services);
        services.AddSingleton<ConversationMemoryFromMessages>();
        services.AddSingleton(sp => new CountingMemory(sp.GetRequiredService<ConversationMemoryFromMessages>()));
        services.AddSingleton<IConversationMemory>(sp => sp.GetRequiredService<CountingMemory>());
        services.AddSingleton<ITemplateRenderer, EngineLiquidRenderer>();
        _services = services.BuildServiceProvider();
        await _services.MigratePlatformDatabaseAsync(Ct);
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_services is not null) await _services.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private static JsonObject Js(string script) => Expression("JavaScript", script);
    private static JsonObject Liquid(string template) => Expression("Liquid", template);
    private static JsonObject Literal(string text) => Expression("Literal", text);

    private static JsonObject Expression(string type, string value) =>
        new() { ["typeName"] = "Object", ["expression"] = new JsonObject { ["type"] = type, ["value"] = value } };

    private static JsonObject Connect(string from, string port, string to) => new()
    {
        ["source"] = new JsonObject { ["activity"] = from, ["port"] = port },
        ["target"] = new JsonObject { ["activity"] = to, ["port"] = "In" },
    };

    private async Task<string> PublishAsync(JsonArray activities, JsonArray connections, params string[] variables)
    {
        var vars = new JsonArray();
        foreach (var v in variables) vars.Add(new JsonObject { ["id"] = "var-" + v, ["name"] = v, ["typeName"] = "Object", ["value"] = null });
        var model = new JsonObject
        {
            ["name"] = "conversation history " + Guid.NewGuid().ToString("N")[..8],
            ["variables"] = vars,
            ["root"] = new JsonObject { ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["activities"] = activities, ["connections"] = connections },
        };
        var saved = await Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(model, publish: true, Ct);
        return saved.Definition.DefinitionId;
    }

    /// <summary>Two earlier messages of the chat, handled, and the replies to them.</summary>
    private async Task SeedAsync()
    {
        await ReceivedAsync("h1", "hello", T0.AddMinutes(1), processed: true);
        await SentAsync("r1", "Hello! How can I help?", T0.AddMinutes(2));
        await ReceivedAsync("h2", "my name is Ada", T0.AddMinutes(3), processed: true);
        await SentAsync("r2", "Nice to meet you, Ada.", T0.AddMinutes(4));
    }

    private async Task<IncomingMessage> ReceivedAsync(string id, string text, DateTimeOffset at, bool processed)
    {
        var message = new IncomingMessage
        {
            ChannelKind = ChannelKind.WebChat, ChannelName = "web", ChannelMessageId = "web-" + id, Conversation = Chat,
            Sender = new ChannelUser("user-1", "Ada"), Text = text, ReceivedAt = at, RawPayload = "{}",
        };
        var inbox = Services.GetRequiredService<IInboxStore>();
        await inbox.AddAsync(new InboxMessage
        {
            Id = id, DeduplicationKey = message.DeduplicationKey, Channel = "web", ConversationKey = Chat.ToString(),
            Payload = MessageJson.Serialize(message), ReceivedAt = at,
        }, Ct);
        if (processed) await inbox.UpdateAsync(id, InboxStatus.Processed, null, null, at, Ct);
        return message;
    }

    private Task SentAsync(string id, string text, DateTimeOffset at) =>
        Services.GetRequiredService<IOutboxStore>().AddAsync([new OutboxMessage
        {
            Id = id, Channel = "web", ConversationKey = Chat.ToString(), Payload = new OutgoingEnvelope { Text = text }.ToJson(),
            Status = OutboxStatus.Sent, CreatedAt = at, NextAttemptAt = at,
        }], Ct);

    /// <summary>Stores the message in the inbox and starts the workflow at its Message Received trigger, as the inbox processor does.</summary>
    private async Task<(WorkflowInstance Instance, List<string> Replies)> SayAsync(string definitionId, string id, string text)
    {
        var message = await ReceivedAsync(id, text, DateTimeOffset.UtcNow, processed: false);
        var input = new Dictionary<string, object?> { [MessagingNames.MessageInputKey] = MessageInput.From(message), ["text"] = text };
        var result = await Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest(definitionId)
        {
            TriggerActivityId = "received", Input = input, CorrelationId = Chat.ToString(), InstanceId = id, InboxMessageId = id,
            Properties = new Dictionary<string, object?>
            {
                [MessagingNames.ConversationProperty] = Chat.ToString(), [MessagingNames.ChannelProperty] = "web",
                [MessagingNames.LastMessageIdProperty] = message.ChannelMessageId, [MessagingNames.SenderProperty] = "user-1",
            },
        }, Ct);
        Assert.True(result.SubStatus != WorkflowSubStatus.Faulted,
            $"The workflow faulted: {string.Join("; ", result.Instance.State.Incidents.Select(i => $"{i.ActivityId}: {i.Message}"))}");
        var replies = (await Services.GetRequiredService<IOutboxStore>().ListAsync(null, null, Chat.ToString(), new PageArgs(0, 1000), Ct)).Items
            .Where(o => o.Id is not ("r1" or "r2")).OrderBy(o => o.CreatedAt).ThenBy(o => o.Id, StringComparer.Ordinal).ToList();
        return (result.Instance, replies.Select(o => OutgoingEnvelope.FromJson(o.Payload).Text).ToList());
    }

    [Fact]
    public async Task Should_ShowTheEarlierTurnsInTheReplies_When_ExpressionsReadTheConversationHistory()
    {
        // Arrange
        await SeedAsync();
        var definition = await PublishAsync(
            [
                new JsonObject { ["id"] = "received", ["type"] = "Platform.MessageReceived", ["version"] = 1 },
                new JsonObject
                {
                    ["id"] = "format", ["type"] = "Platform.FormatResult", ["version"] = 1,
                    ["rows"] = Js("[{ n: 1 }]"),
                    ["template"] = Literal("{% for t in conversation.history %}{{ t.role }}: {{ t.text }}\n{% endfor %}"),
                },
                new JsonObject
                {
                    ["id"] = "js", ["type"] = "Platform.SendReply", ["version"] = 1,
                    ["text"] = Js("getConversationHistory(2).map(t => t.role + ': ' + t.text).join(' / ') + ' | ' + getConversationHistory().length + ' turns, last at ' + getConversationHistory(1)[0].at"),
                },
                new JsonObject { ["id"] = "format-reply", ["type"] = "Platform.SendReply", ["version"] = 1, ["text"] = Js("getOutput('format', 'Text')") },
                new JsonObject
                {
                    ["id"] = "liquid", ["type"] = "Platform.SendReply", ["version"] = 1,
                    ["text"] = Liquid("{{ conversation.history.size }} turns; first: {{ conversation.history.first.text }}; last two: {% for t in variables.recent %}{{ t.text }};{% endfor %} you said: {{ input.text }}"),
                },
                new JsonObject { ["id"] = "recent", ["type"] = "Elsa.SetVariable", ["version"] = 1, ["variable"] = "recent", ["value"] = Js("getConversationHistory(2)") },
            ],
            [Connect("received", "Done", "format"), Connect("format", "Done", "js"), Connect("js", "Done", "format-reply"), Connect("format-reply", "Done", "recent"), Connect("recent", "Done", "liquid")],
            "recent");

        // Act
        var (_, replies) = await SayAsync(definition, "h3", "what is my name?");

        // Assert
        var lastAt = T0.AddMinutes(4).ToString("O", CultureInfo.InvariantCulture);
        Assert.Equal(
            [
                $"user: my name is Ada / assistant: Nice to meet you, Ada. | 4 turns, last at {lastAt}",
                "user: hello\nassistant: Hello! How can I help?\nuser: my name is Ada\nassistant: Nice to meet you, Ada.",
                "4 turns; first: hello; last two: my name is Ada;Nice to meet you, Ada.; you said: what is my name?",
            ],
            replies);
        // Format Result reads its own; the JavaScript and Liquid expressions share one read in the burst.
        Assert.Equal(2, Memory.Reads);
    }

    [Fact]
    public async Task Should_ReadNoHistory_When_AnExpressionDoesNotUseIt()
    {
        // Arrange
        await SeedAsync();
        var definition = await PublishAsync(
            [
                new JsonObject { ["id"] = "received", ["type"] = "Platform.MessageReceived", ["version"] = 1 },
                new JsonObject { ["id"] = "js", ["type"] = "Platform.SendReply", ["version"] = 1, ["text"] = Js("'you said: ' + getOutput('received', 'Text')") },
                new JsonObject { ["id"] = "liquid", ["type"] = "Platform.SendReply", ["version"] = 1, ["text"] = Liquid("again: {{ input.text }}") },
            ],
            [Connect("received", "Done", "js"), Connect("js", "Done", "liquid")]);

        // Act
        var (_, replies) = await SayAsync(definition, "h3", "ping");

        // Assert
        Assert.Equal(["you said: ping", "again: ping"], replies);
        Assert.Equal(0, Memory.Reads);
    }

    [Fact]
    public async Task Should_SeeAnEmptyHistory_When_TheWorkflowHasNoConversation()
    {
        // Arrange
        await SeedAsync();
        var definition = await PublishAsync(
            [
                new JsonObject { ["id"] = "js", ["type"] = "Elsa.SetVariable", ["version"] = 1, ["variable"] = "fromJs", ["value"] = Js("JSON.stringify(getConversationHistory(2))") },
                new JsonObject { ["id"] = "liquid", ["type"] = "Elsa.SetVariable", ["version"] = 1, ["variable"] = "fromLiquid", ["value"] = Liquid("[{{ conversation.history.size }}]") },
                new JsonObject
                {
                    ["id"] = "format", ["type"] = "Platform.FormatResult", ["version"] = 1,
                    ["rows"] = Js("[{ n: 1 }]"), ["template"] = Literal("[{{ conversation.history.size }}]"),
                },
            ],
            [Connect("js", "Done", "liquid"), Connect("liquid", "Done", "format")],
            "fromJs", "fromLiquid");

        // Act
        var result = await Services.GetRequiredService<IWorkflowRuntime>().StartAsync(new StartWorkflowRequest(definition), Ct);

        // Assert
        Assert.Equal(WorkflowStatus.Finished, result.Instance.Status);
        Assert.Equal("[]", result.Instance.State.Variables["fromJs"]?.ToString());
        Assert.Equal("[0]", result.Instance.State.Variables["fromLiquid"]?.ToString());
        Assert.Equal("[0]", result.Instance.State.ActivityOutputs["format"]["Text"]?.ToString());
        Assert.Equal(0, Memory.Reads);
    }

    /// <summary>The real memory, with a count of the reads.</summary>
    private sealed class CountingMemory(IConversationMemory inner) : IConversationMemory
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public Task<IReadOnlyList<ConversationTurn>> GetRecentTurnsAsync(string conversationKey, int count, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _reads);
            return inner.GetRecentTurnsAsync(conversationKey, count, cancellationToken);
        }
    }
}

public sealed class SqliteConversationHistoryExpressionTests : ConversationHistoryExpressionTests
{
    private readonly SqliteTestDatabase _database = new("history-expressions-sqlite");

    protected override Task AddStoresAsync(IServiceCollection services) => _database.AddStoresAsync(services);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _database.Dispose();
    }
}

public sealed class PostgreSqlConversationHistoryExpressionTests(PostgresFixture postgres) : ConversationHistoryExpressionTests, IClassFixture<PostgresFixture>
{
    protected override async Task AddStoresAsync(IServiceCollection services) =>
        services.AddPlatformPersistence(new PlatformDatabaseSettings(PlatformDatabaseProvider.PostgreSql, await postgres.CreateDatabaseAsync("history_expr", Ct)) { MigrateOnStartup = false });
}
