using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Conversations under <c>/api/conversations</c>: what came in and went out on each conversation of every channel, with the
/// workflow instance that handled each message. A conversation is the inbox and outbox rows that share a conversation key
/// (<c>kind:channel:chat[:thread]</c>). Reading needs any role.
/// </summary>
public static class ConversationsApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/conversations";

    /// <summary>The most messages a thread answer carries.</summary>
    public const int MaxThreadMessages = 1000;

    /// <summary>A conversation as listed.</summary>
    /// <param name="Key">The conversation key; GET <c>/api/conversations/{key}</c> (URL-encoded) reads the thread.</param>
    /// <param name="Channel">The channel name.</param>
    /// <param name="InboundCount">Messages received.</param>
    /// <param name="OutboundCount">Messages sent or queued.</param>
    /// <param name="LastText">The newest message's text.</param>
    /// <param name="LastDirection"><c>in</c> or <c>out</c>: which way the newest message went.</param>
    /// <param name="LastActivityAt">When the newest message was received or queued.</param>
    public sealed record ConversationItem(string Key, string Channel, long InboundCount, long OutboundCount, string? LastText, string LastDirection,
        DateTimeOffset LastActivityAt);

    /// <summary>A page of conversations, newest activity first.</summary>
    public sealed record ConversationList(IReadOnlyList<ConversationItem> Items, long TotalCount);

    /// <summary>The sender of a received message.</summary>
    public sealed record MessageSender(string? Id, string? Name);

    /// <summary>One message of a thread.</summary>
    /// <param name="Id">The inbox or outbox message id.</param>
    /// <param name="Direction"><c>in</c> (received) or <c>out</c> (a reply or a sent message).</param>
    /// <param name="At">Received at, or queued at.</param>
    /// <param name="Text">The text (outbound: the Markdown the workflow wrote).</param>
    /// <param name="Status">Inbox: Received, Processed, Failed. Outbox: Pending, Sent, DeadLettered.</param>
    /// <param name="Error">Why processing or delivery failed, if it did.</param>
    /// <param name="WorkflowInstanceId">The workflow instance that handled (in) or wrote (out) the message; null for fallback answers.</param>
    /// <param name="Sender">Who sent it (in only).</param>
    /// <param name="Attachments">How many attachments it carries.</param>
    /// <param name="Attempts">Processing or delivery attempts.</param>
    /// <param name="SentAt">When the channel took it (out only).</param>
    /// <param name="DeliveryStatus">What the service reported afterwards, such as Twilio's <c>delivered</c> or <c>undelivered</c> (out only).</param>
    /// <param name="DeliveryErrorCode">The service's error code with a failed delivery report.</param>
    /// <param name="Agent">The person who wrote it from the Conversations page (human hand-off), or null when the bot wrote it (out only).</param>
    public sealed record ThreadMessage(string Id, string Direction, DateTimeOffset At, string? Text, string Status, string? Error, string? WorkflowInstanceId,
        MessageSender? Sender, int Attachments, int Attempts, DateTimeOffset? SentAt, string? DeliveryStatus, string? DeliveryErrorCode, string? Agent = null);

    /// <summary>A conversation's messages in time order.</summary>
    /// <param name="Key">The conversation key.</param>
    /// <param name="Channel">The channel name.</param>
    /// <param name="InboundCount">All messages received.</param>
    /// <param name="OutboundCount">All messages sent or queued.</param>
    /// <param name="Truncated">True when older messages were left out (see <c>take</c>).</param>
    /// <param name="Messages">The newest messages, oldest first.</param>
    public sealed record ConversationThread(string Key, string Channel, long InboundCount, long OutboundCount, bool Truncated, IReadOnlyList<ThreadMessage> Messages);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapConversationsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Conversations");
        group.MapGet("/", ListAsync);
        group.MapGet("/{key}", GetAsync);
        return app;
    }

    /// <summary>GET /api/conversations?channel=&amp;skip=&amp;take=: newest activity first; <c>take</c> 1-500 (default 50).</summary>
    public static async Task<Results<Ok<ConversationList>, ProblemHttpResult>> ListAsync(IConversationStore conversations, string? channel, int? skip, int? take,
        CancellationToken ct)
    {
        if (skip is < 0) return Problems.BadRequest("'skip' cannot be negative.", "Use skip=0 for the first page.");
        if (take is < 1 or > 500) return Problems.BadRequest("'take' must be between 1 and 500.", "Page through longer lists with skip.");
        var page = await conversations.ListAsync(string.IsNullOrEmpty(channel) ? null : channel, new PageArgs(skip ?? 0, take ?? 50), ct);
        var items = page.Items.Select(c => new ConversationItem(c.Key, c.Channel, c.InboundCount, c.OutboundCount, Read(c.LastPayload).Text,
            Direction(c.LastDirection), c.LastActivityAt)).ToList();
        return TypedResults.Ok(new ConversationList(items, page.TotalCount));
    }

    /// <summary>GET /api/conversations/{key}?take=: the newest <c>take</c> messages (1-1000, default 200) in time order; 404 for an unknown key.</summary>
    public static async Task<Results<Ok<ConversationThread>, ProblemHttpResult>> GetAsync(string key, IConversationStore conversations, int? take, CancellationToken ct)
    {
        if (take is < 1 or > MaxThreadMessages)
            return Problems.BadRequest($"'take' must be between 1 and {MaxThreadMessages}.", "It is how many of the newest messages the answer carries.");
        var limit = take ?? 200;
        if (await conversations.GetAsync(key, limit, ct) is not { } thread)
            return Problems.NotFound($"Conversation '{key}' was not found.",
                $"GET {Prefix} lists the conversations; put the key in the URL encoded (encodeURIComponent), as it contains ':'.");

        var messages = new List<ThreadMessage>(thread.Inbound.Count + thread.Outbound.Count);
        foreach (var m in thread.Inbound)
        {
            var content = Read(m.Payload);
            messages.Add(new ThreadMessage(m.Id, "in", m.ReceivedAt, content.Text, m.Status.ToString(), m.Error, m.WorkflowInstanceId, content.Sender,
                content.Attachments, m.Attempts, null, null, null));
        }
        foreach (var m in thread.Outbound)
        {
            var content = Read(m.Payload);
            messages.Add(new ThreadMessage(m.Id, "out", m.CreatedAt, content.Text, m.Status.ToString(), m.LastError, m.WorkflowInstanceId, null,
                content.Attachments, m.Attempts, m.SentAt, m.DeliveryStatus, m.DeliveryErrorCode, content.Agent));
        }
        // Time order; at the same instant a message comes before the reply it caused.
        var ordered = messages.OrderBy(m => m.At).ThenBy(m => m.Direction == "in" ? 0 : 1).ThenBy(m => m.Id, StringComparer.Ordinal).ToList();
        if (ordered.Count > limit) ordered = ordered.GetRange(ordered.Count - limit, limit);
        var truncated = thread.InboundCount + thread.OutboundCount > ordered.Count;
        return TypedResults.Ok(new ConversationThread(thread.Key, thread.Channel, thread.InboundCount, thread.OutboundCount, truncated, ordered));
    }

    private static string Direction(MessageDirection direction) => direction == MessageDirection.In ? "in" : "out";

    /// <summary>The text, sender and attachment count of a stored payload (the incoming message or the outgoing envelope, both camelCase JSON).</summary>
    private static (string? Text, MessageSender? Sender, int Attachments, string? Agent) Read(string? payload)
    {
        if (string.IsNullOrEmpty(payload)) return (null, null, 0, null);
        try
        {
            using var document = JsonDocument.Parse(payload);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return (null, null, 0, null);
            var text = root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            MessageSender? sender = null;
            if (root.TryGetProperty("sender", out var s) && s.ValueKind == JsonValueKind.Object)
                sender = new MessageSender(String(s, "id"), String(s, "displayName"));
            var attachments = root.TryGetProperty("attachments", out var a) && a.ValueKind == JsonValueKind.Array ? a.GetArrayLength() : 0;
            return (text, sender, attachments, String(root, "agent"));
        }
        catch (JsonException)
        {
            return (null, null, 0, null);
        }

        static string? String(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}
