using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;

namespace Platform.Activities.AI.Tests;

/// <summary>
/// One chat with a published workflow at engine level, routed as the inbox processor routes: each message is stored in
/// the inbox, then resumes the instance waiting in the conversation (Wait For Message) or starts the workflow at its
/// Message Received trigger; the run's commit marks the message processed. Replies are read from the outbox.
/// </summary>
public sealed class ChatDriver(AiHost host, string definitionId, string chatId = "chat-1")
{
    private int _messages;

    public ConversationId Conversation { get; } = new(ChannelKind.WebChat, "web", chatId);
    public string ConversationKey => Conversation.ToString();
    public WorkflowInstance? Instance { get; private set; }
    /// <summary>The channel user id of the messages (also the instance's actor).</summary>
    public string Sender { get; init; } = "user-1";
    private IServiceProvider Services => host.Services;

    /// <summary>Publishes a flowchart (activities and connections as JSON) with the given String variables.</summary>
    public static async Task<string> PublishAsync(AiHost host, string name, JsonArray activities, JsonArray connections, params string[] variables)
    {
        await host.Services.GetRequiredService<Platform.Server.Extensions.IntentActivityTypes>().SyncAsync();
        var vars = new JsonArray();
        foreach (var v in variables) vars.Add(new JsonObject { ["id"] = "var-" + v, ["name"] = v, ["typeName"] = "String", ["value"] = null });
        var model = new JsonObject
        {
            ["name"] = name,
            ["variables"] = vars,
            ["root"] = new JsonObject { ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1, ["activities"] = activities, ["connections"] = connections },
        };
        var saved = await host.Services.GetRequiredService<IWorkflowDefinitionService>().SaveAsync(model, publish: true);
        return saved.Definition.DefinitionId;
    }

    /// <summary>Sends a message; returns the texts of the replies the run queued.</summary>
    public async Task<List<string>> SayAsync(string text)
    {
        var n = ++_messages;
        var message = new IncomingMessage
        {
            ChannelKind = ChannelKind.WebChat, ChannelName = "web", ChannelMessageId = $"{chatId}-m{n}", Conversation = Conversation,
            Sender = new ChannelUser(Sender, "User"), Text = text, ReceivedAt = DateTimeOffset.UtcNow, RawPayload = "{}",
        };
        var row = new InboxMessage
        {
            Id = Guid.CreateVersion7().ToString("N"), DeduplicationKey = message.DeduplicationKey, Channel = "web", ConversationKey = ConversationKey,
            Payload = MessageJson.Serialize(message), ReceivedAt = message.ReceivedAt,
        };
        await Services.GetRequiredService<IInboxStore>().AddAsync(row);
        var outbox = Services.GetRequiredService<IOutboxStore>();
        var before = (await outbox.ListAsync(null, null, ConversationKey, new PageArgs(0, 1000))).Items.Select(o => o.Id).ToHashSet();
        var input = new Dictionary<string, object?> { [MessagingNames.MessageInputKey] = MessageInput.From(message), ["text"] = text };

        var waiting = (await Services.GetRequiredService<IBookmarkStore>().FindAsync(MessagingNames.WaitForMessage, ConversationKey)).OrderBy(b => b.CreatedAt).FirstOrDefault();
        var runtime = Services.GetRequiredService<IWorkflowRuntime>();
        var result = waiting is not null
            ? await runtime.ResumeAsync(new ResumeWorkflowRequest(waiting.WorkflowInstanceId, waiting.Id) { Input = input, InboxMessageId = row.Id })
            : await runtime.StartAsync(new StartWorkflowRequest(definitionId)
            {
                TriggerActivityId = "received", Input = input, CorrelationId = ConversationKey, InstanceId = row.Id, InboxMessageId = row.Id,
                Properties = new Dictionary<string, object?>
                {
                    [MessagingNames.ConversationProperty] = ConversationKey, [MessagingNames.ChannelProperty] = "web",
                    [MessagingNames.LastMessageIdProperty] = message.ChannelMessageId, [MessagingNames.SenderProperty] = Sender,
                    [AuditActor.Property] = Sender, [AuditActor.KindProperty] = AuditActorKinds.Channel,
                },
            });
        Instance = result.Instance;
        Assert.True(result.SubStatus != WorkflowSubStatus.Faulted,
            $"The workflow faulted on '{text}': {string.Join("; ", result.Instance.State.Incidents.Select(i => $"{i.ActivityId}: {i.Message}"))}");
        var replies = (await outbox.ListAsync(null, null, ConversationKey, new PageArgs(0, 1000))).Items
            .Where(o => !before.Contains(o.Id)).OrderBy(o => o.CreatedAt).ThenBy(o => o.Id, StringComparer.Ordinal).ToList();
        return replies.Select(o => OutgoingEnvelope.FromJson(o.Payload).Text).ToList();
    }
}
