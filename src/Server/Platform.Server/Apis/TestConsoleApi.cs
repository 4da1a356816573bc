using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// The analysts' test console under <c>/api/test-console</c>: a message typed in the Studio goes through the channel's inbox exactly
/// as a real one (same trigger matching, bookmarks, journal and outbox), and the answer says which workflow ran, the activities it
/// executed, and the replies it wrote. Needs Operator or more (it starts workflows).
/// </summary>
public static class TestConsoleApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/test-console";

    /// <summary>A message to send as a channel user.</summary>
    /// <param name="Channel">The channel name (default <c>web</c>); it must exist and be enabled.</param>
    /// <param name="UserId">The sender's id on that channel (default <c>test-console</c>).</param>
    /// <param name="UserName">The sender's display name, optional.</param>
    /// <param name="Conversation">The chat id; default <c>console-{userId}</c>. Send again with the same one to answer a question the workflow asked.</param>
    /// <param name="Text">The message text.</param>
    /// <param name="TimeoutSeconds">How long to wait for the message to be processed: 1-60 s, default 15.</param>
    public sealed record ConsoleMessage(string? Channel, string? UserId, string? UserName, string? Conversation, string? Text, double? TimeoutSeconds);

    /// <summary>One activity the message ran through, in execution order.</summary>
    public sealed record ConsoleStep(string ActivityId, string ActivityType, string? ActivityName, string Status, IReadOnlyList<string> Outcomes,
        string? Error, DateTimeOffset StartedAt);

    /// <summary>A reply the workflow (or the channel's fallback) wrote.</summary>
    public sealed record ConsoleReply(string Id, string? Text, IReadOnlyList<string> QuickReplies, string Status);

    /// <summary>What happened to a console message.</summary>
    /// <param name="InboxMessageId">The stored message's id.</param>
    /// <param name="ConversationKey">The conversation (open it on the Conversations page).</param>
    /// <param name="Status">Processed, Failed, or Received when it was not processed within the timeout.</param>
    /// <param name="Error">Why processing failed, if it did.</param>
    /// <param name="WorkflowInstanceId">The instance that took the message (started or resumed); null when no workflow matched.</param>
    /// <param name="WorkflowDefinitionId">Its workflow definition.</param>
    /// <param name="WorkflowName">Its workflow's name.</param>
    /// <param name="WorkflowStatus">The instance's status and sub-status after the message, e.g. Finished/Finished or Running/Suspended.</param>
    /// <param name="InstanceUrl">The Studio page of the instance's journal.</param>
    /// <param name="Path">The activities executed for this message, in order.</param>
    /// <param name="Replies">The replies written for this message.</param>
    /// <param name="ElapsedMs">From receipt to processed.</param>
    public sealed record ConsoleResult(string InboxMessageId, string ConversationKey, string Status, string? Error, string? WorkflowInstanceId,
        string? WorkflowDefinitionId, string? WorkflowName, string? WorkflowStatus, string? InstanceUrl, IReadOnlyList<ConsoleStep> Path,
        IReadOnlyList<ConsoleReply> Replies, long ElapsedMs);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapTestConsoleApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Test console");
        group.MapPost("/messages", SendAsync).RequireAuthorization(ApiPolicies.Operate);
        return app;
    }

    /// <summary>
    /// POST /api/test-console/messages: stores the message in the channel's inbox, waits until it is processed and answers the
    /// workflow, path and replies; 400 on bad input, 404 for an unknown channel, 409 for a disabled one.
    /// </summary>
    public static async Task<Results<Ok<ConsoleResult>, ProblemHttpResult>> SendAsync(ConsoleMessage message, ChannelHub channels, MessageInbox inbox,
        IInboxStore inboxStore, IOutboxStore outbox, IWorkflowInstanceStore instances, IActivityExecutionStore executions, TimeProvider clock,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (string.IsNullOrWhiteSpace(message.Text))
            return Problems.BadRequest("The text is missing.", "Set text to the message to send, e.g. \"how many orders came in today?\".");
        if (message.Text.Length > 4000) return Problems.BadRequest("The text is too long.", "Send at most 4000 characters.");
        var timeout = message.TimeoutSeconds ?? 15;
        if (double.IsNaN(timeout) || timeout is < 1 or > 60)
            return Problems.BadRequest("The timeout is out of range.", "Set timeoutSeconds from 1 to 60 (default 15).");
        var channelName = string.IsNullOrWhiteSpace(message.Channel) ? ChatApi.DefaultChannel : message.Channel.Trim();
        var userId = string.IsNullOrWhiteSpace(message.UserId) ? "test-console" : message.UserId.Trim();
        var chatId = string.IsNullOrWhiteSpace(message.Conversation) ? "console-" + userId : message.Conversation.Trim();
        if (userId.Length > 200 || chatId.Length > 200 || chatId.Contains(':', StringComparison.Ordinal))
            return Problems.BadRequest("The user id or conversation is not valid.", "Use up to 200 characters, and no ':' in the conversation.");
        if (await channels.GetAsync(channelName, ct) is not { } channel)
            return Problems.NotFound($"The channel '{channelName}' does not exist.", "GET /api/channels lists the channels; the web chat channel is 'web'.");
        if (!channel.Config.Enabled)
            return Problems.Conflict($"The channel '{channelName}' is disabled.", $"Enable it on the Channels page (PUT /api/channels/{channelName}) or pick another channel.");

        var kind = channel.Config.Kind;
        var id = Guid.CreateVersion7();
        var incoming = new IncomingMessage
        {
            Id = id, ChannelKind = kind, ChannelName = channel.Config.Name, ChannelMessageId = "test-console:" + id.ToString("N"),
            Conversation = new ConversationId(kind, channel.Config.Name, chatId), Sender = new ChannelUser(userId, message.UserName?.Trim()),
            Text = message.Text, ReceivedAt = clock.GetUtcNow(), RawPayload = JsonSerializer.Serialize(message),
            Metadata = new Dictionary<string, string> { ["testConsole"] = "true" },
        };
        var watch = Stopwatch.StartNew();
        var receipt = await inbox.ReceiveAsync(incoming, ct);

        InboxMessage? row = null;
        var deadline = watch.Elapsed + TimeSpan.FromSeconds(timeout);
        var delay = 10;
        while (true)
        {
            row = await inboxStore.FindAsync(receipt.InboxMessageId, ct);
            if (row is null || row.Status != InboxStatus.Received || watch.Elapsed >= deadline) break;
            await Task.Delay(delay, ct);
            delay = Math.Min(delay * 2, 100);
        }
        var elapsed = watch.ElapsedMilliseconds;
        var conversationKey = incoming.Conversation.ToString();
        if (row is null || row.Status == InboxStatus.Received)
            return TypedResults.Ok(new ConsoleResult(receipt.InboxMessageId, conversationKey, "Received",
                $"The message was not processed within {timeout:0.#} s. It stays in the inbox and is processed later; look at the Conversations page.",
                null, null, null, null, null, [], [], elapsed));

        var instanceId = row.WorkflowInstanceId;
        var instance = instanceId is null ? null : await instances.FindAsync(instanceId, ct);
        var path = new List<ConsoleStep>();
        if (instanceId is not null)
        {
            var records = await executions.FindManyAsync(new ActivityExecutionFilter { WorkflowInstanceId = instanceId }, new PageArgs(0, 1000), ct);
            foreach (var r in records.Items.Where(r => r.StartedAt >= row.ReceivedAt || r.CompletedAt >= row.ReceivedAt).OrderBy(r => r.Sequence))
                path.Add(new ConsoleStep(r.ActivityId, r.ActivityType, r.ActivityName, r.Status.ToString(), r.Outcomes, r.Exception?.Message, r.StartedAt));
        }
        var sent = await outbox.ListAsync(channel.Config.Name, null, conversationKey, new PageArgs(0, 200), ct);
        var replies = sent.Items
            .Where(m => m.CreatedAt >= row.ReceivedAt && (instanceId is null ? m.WorkflowInstanceId is null : m.WorkflowInstanceId == instanceId))
            .OrderBy(m => m.CreatedAt).ThenBy(m => m.Id, StringComparer.Ordinal)
            .Select(m => ReadReply(m)).ToList();
        return TypedResults.Ok(new ConsoleResult(receipt.InboxMessageId, conversationKey, row.Status.ToString(), row.Error, instanceId,
            instance?.DefinitionId, instance?.Name ?? instance?.DefinitionId, instance is null ? null : $"{instance.Status}/{instance.SubStatus}",
            instanceId is null ? null : "/workflows/instances/" + Uri.EscapeDataString(instanceId) + "/view", path, replies, elapsed));
    }

    private static ConsoleReply ReadReply(OutboxMessage m)
    {
        string? text = null;
        var quick = new List<string>();
        try
        {
            using var document = JsonDocument.Parse(m.Payload);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String) text = t.GetString();
                if (root.TryGetProperty("quickReplies", out var q) && q.ValueKind == JsonValueKind.Array)
                    foreach (var item in q.EnumerateArray())
                        if (item.ValueKind == JsonValueKind.String) quick.Add(item.GetString()!);
                        else if (item.ValueKind == JsonValueKind.Object && (item.TryGetProperty("label", out var title) || item.TryGetProperty("value", out title))
                                 && title.ValueKind == JsonValueKind.String) quick.Add(title.GetString()!);
            }
        }
        catch (JsonException) { }
        return new ConsoleReply(m.Id, text, quick, m.Status.ToString());
    }
}
