using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Activities;
using Platform.Activities.Messaging;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Human hand-off under <c>/api/handoffs</c>: the conversations a <c>Hand Off To Human</c> activity gave to people, longest waiting
/// first; assigning one to an agent; an agent's reply through the conversation's channel (outbox, audited with the agent's name);
/// and <c>Return to bot</c>, which resumes the workflow with the agent's decision. Reading needs any role; acting needs Operator.
/// </summary>
public static partial class HandoffsApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/handoffs";

    /// <summary>The longest agent reply.</summary>
    public const int MaxReplyLength = 4000;

    /// <summary>The longest decision or note.</summary>
    public const int MaxDecisionLength = 2000;

    /// <summary>A waiting conversation.</summary>
    /// <param name="ConversationKey">The conversation key (GET <c>/api/conversations/{key}</c> reads its transcript).</param>
    /// <param name="Channel">The channel it is on.</param>
    /// <param name="WorkflowInstanceId">The instance that waits for the agents.</param>
    /// <param name="Reason">Why the bot handed it off.</param>
    /// <param name="Queue">The queue it waits in (null: the default queue).</param>
    /// <param name="WaitingSince">When it was handed off.</param>
    /// <param name="WaitingSeconds">How long it has waited, in whole seconds.</param>
    /// <param name="TimeoutAt">When it goes back to the bot on its own (the TimedOut port), or null.</param>
    /// <param name="AssignedTo">The agent who has it, or null.</param>
    /// <param name="AssignedAt">When it was assigned.</param>
    public sealed record HandoffItem(string ConversationKey, string Channel, string WorkflowInstanceId, string? Reason, string? Queue,
        DateTimeOffset WaitingSince, long WaitingSeconds, DateTimeOffset? TimeoutAt, string? AssignedTo, DateTimeOffset? AssignedAt);

    /// <summary>The queue: longest waiting first.</summary>
    /// <param name="Items">The waiting conversations.</param>
    /// <param name="Count">How many wait (the navigation badge).</param>
    /// <param name="Unassigned">How many nobody has taken yet.</param>
    public sealed record HandoffList(IReadOnlyList<HandoffItem> Items, int Count, int Unassigned);

    /// <summary>POST body of <c>assign</c>.</summary>
    /// <param name="UserName">The agent; empty: the caller. <c>unassign</c> true clears the assignment.</param>
    /// <param name="Unassign">True to put it back in the queue unassigned.</param>
    public sealed record AssignBody(string? UserName, bool? Unassign);

    /// <summary>POST body of <c>reply</c>.</summary>
    /// <param name="Text">The reply (Markdown), 1-4000 characters.</param>
    /// <param name="ClientMessageId">Optional id the page generates per reply: sending the same id again sends nothing more.</param>
    public sealed record ReplyBody(string? Text, string? ClientMessageId);

    /// <summary>The reply as queued.</summary>
    /// <param name="MessageId">The outbox message id.</param>
    /// <param name="Agent">Who wrote it.</param>
    /// <param name="Duplicate">True when this client message id was sent before (nothing more was sent).</param>
    public sealed record ReplyResult(string MessageId, string Agent, bool Duplicate);

    /// <summary>POST body of <c>return</c>.</summary>
    /// <param name="Decision">What the agent decided (the activity's Decision output).</param>
    /// <param name="Note">An optional note (the activity's Note output).</param>
    public sealed record ReturnBody(string? Decision, string? Note);

    /// <summary>The result of <c>return</c>.</summary>
    /// <param name="WorkflowInstanceId">The instance resumed.</param>
    /// <param name="Resumed">False when the instance no longer waited (cancelled, timed out): the conversation went back to the bot anyway.</param>
    /// <param name="Status">The instance's sub-status after the resume.</param>
    public sealed record ReturnResult(string WorkflowInstanceId, bool Resumed, string? Status);

    /// <summary>An agent that conversations can be assigned to.</summary>
    public sealed record Agent(string UserName, string? Role);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapHandoffsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).WithTags("Handoffs");
        group.MapGet("/", ListAsync).RequireAuthorization(ApiPolicies.Read);
        group.MapGet("/agents", AgentsAsync).RequireAuthorization(ApiPolicies.Read);
        group.MapPost("/{key}/assign", AssignAsync).RequireAuthorization(ApiPolicies.Operate);
        group.MapPost("/{key}/reply", ReplyAsync).RequireAuthorization(ApiPolicies.Operate);
        group.MapPost("/{key}/return", ReturnAsync).RequireAuthorization(ApiPolicies.Operate);
        return app;
    }

    /// <summary>GET /api/handoffs: the waiting conversations, longest waiting first, with the count for the badge.</summary>
    public static async Task<Ok<HandoffList>> ListAsync(IConversationHandoffs handoffs, TimeProvider clock, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var items = (await handoffs.ListAsync(ct)).Select(h => new HandoffItem(h.ConversationKey, h.Channel, h.WorkflowInstanceId, h.Reason, h.Queue,
            h.CreatedAt, (long)Math.Max(0, (now - h.CreatedAt).TotalSeconds), h.TimeoutAt, h.AssignedTo, h.AssignedAt)).ToList();
        return TypedResults.Ok(new HandoffList(items, items.Count, items.Count(i => i.AssignedTo is null)));
    }

    /// <summary>GET /api/handoffs/agents: the enabled users with the Operator role or above (who may take conversations).</summary>
    public static async Task<Ok<List<Agent>>> AgentsAsync(HttpContext context, CancellationToken ct)
    {
        var result = new List<Agent>();
        if (context.RequestServices.GetService<SignInAccounts>() is { } accounts)
            foreach (var user in await accounts.ListAsync(ct))
            {
                if (user.Disabled || user.UserName is null) continue;
                var role = await accounts.RoleOfAsync(user);
                if (role is ApiKeyRoles.Operator or ApiKeyRoles.Designer or ApiKeyRoles.Admin) result.Add(new Agent(user.UserName, role));
            }
        return TypedResults.Ok(result);
    }

    /// <summary>POST /api/handoffs/{key}/assign {userName?, unassign?}: takes the conversation (no user name: the caller) or gives it to another agent.</summary>
    public static async Task<Results<Ok<HandoffItem>, ProblemHttpResult>> AssignAsync(string key, AssignBody? body, IConversationHandoffs handoffs,
        TimeProvider clock, HttpContext context, ILoggerFactory loggers, CancellationToken ct)
    {
        if (await handoffs.FindAsync(key, ct) is null) return NotHandedOff(key);
        string? agent = null;
        if (body?.Unassign != true)
        {
            agent = string.IsNullOrWhiteSpace(body?.UserName) ? Caller(context) : body.UserName.Trim();
            if (agent is null) return Problems.BadRequest("Who takes the conversation is unknown.", "Sign in as a user, or name the agent in 'userName'.");
            if (!string.Equals(agent, Caller(context), StringComparison.Ordinal))
            {
                var accounts = context.RequestServices.GetService<SignInAccounts>();
                var user = accounts is null ? null : await accounts.Users.FindByNameAsync(agent);
                if (user is null || user.Disabled)
                    return Problems.BadRequest($"There is no enabled user '{agent}'.", $"GET {Prefix}/agents lists the users that can take conversations.");
            }
        }
        await handoffs.AssignAsync(key, agent, clock.GetUtcNow(), ct);
        AuditMiddleware.AddDetail(context, "assignedTo", agent);
        loggers.CreateLogger(typeof(HandoffsApi)).LogInformation("Conversation {Conversation} assigned to {Agent} by {Caller}.", key, agent ?? "nobody", Caller(context));
        var now = clock.GetUtcNow();
        var h = (await handoffs.FindAsync(key, ct))!;
        return TypedResults.Ok(new HandoffItem(h.ConversationKey, h.Channel, h.WorkflowInstanceId, h.Reason, h.Queue, h.CreatedAt,
            (long)Math.Max(0, (now - h.CreatedAt).TotalSeconds), h.TimeoutAt, h.AssignedTo, h.AssignedAt));
    }

    /// <summary>
    /// POST /api/handoffs/{key}/reply {text, clientMessageId?}: the agent's reply, queued in the outbox of the conversation's channel and
    /// delivered once (a repeated client message id sends nothing more). A conversation nobody has taken is assigned to the caller;
    /// one another agent has is refused (409).
    /// </summary>
    public static async Task<Results<Ok<ReplyResult>, ProblemHttpResult>> ReplyAsync(string key, ReplyBody? body, IConversationHandoffs handoffs,
        IOutboxStore outbox, OutboxDispatcher dispatcher, TimeProvider clock, HttpContext context, ILoggerFactory loggers, CancellationToken ct)
    {
        var text = body?.Text?.Trim();
        if (string.IsNullOrEmpty(text)) return Problems.BadRequest("The reply has no text.", "Send {\"text\": \"…\"} with what the customer should read.");
        if (text.Length > MaxReplyLength)
            return Problems.BadRequest($"The reply has {text.Length} characters; at most {MaxReplyLength} are allowed.", "Shorten it or send it in two parts.");
        if (body!.ClientMessageId is { } clientId && !ClientId().IsMatch(clientId))
            return Problems.BadRequest("'clientMessageId' is not valid.", "Use 1-64 letters, digits, '-' or '_' (a new one per reply), or leave it out.");
        if (await handoffs.FindAsync(key, ct) is not { } handoff) return NotHandedOff(key);
        var agent = Caller(context);
        if (agent is null) return Problems.BadRequest("Who writes the reply is unknown.", "Sign in as a user to reply.");
        if (handoff.AssignedTo is { } owner && !string.Equals(owner, agent, StringComparison.Ordinal))
            return Problems.Conflict($"Conversation '{key}' is assigned to {owner}.", $"Assign it to yourself first (POST {Prefix}/{{key}}/assign), or ask {owner}.");
        if (handoff.AssignedTo is null) await handoffs.AssignAsync(key, agent, clock.GetUtcNow(), ct);

        var id = body.ClientMessageId is { } c
            ? "agent-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key + "\n" + c)))[..32]
            : Guid.CreateVersion7().ToString("N");
        AuditMiddleware.AddDetail(context, "conversation", key);
        AuditMiddleware.AddDetail(context, "outboxMessageId", id);
        AuditMiddleware.AddDetail(context, "text", text);
        if (await outbox.FindAsync(id, ct) is not null) return TypedResults.Ok(new ReplyResult(id, agent, true));
        var now = clock.GetUtcNow();
        var message = new OutboxMessage // claimed by this node, which sends it at once (see OutboxMessage.CommitLease)
        {
            Id = id, Channel = handoff.Channel, ConversationKey = key, WorkflowInstanceId = handoff.WorkflowInstanceId,
            Payload = new OutgoingEnvelope { Text = text, Agent = agent }.ToJson(), CreatedAt = now, Attempts = 1, NextAttemptAt = now + OutboxMessage.CommitLease,
        };
        try { await outbox.AddAsync([message], ct); }
        catch (DbUpdateException)
        {
            if (await outbox.FindAsync(id, CancellationToken.None) is null) throw;
            return TypedResults.Ok(new ReplyResult(id, agent, true)); // the same reply sent twice at once
        }
        dispatcher.OnCommitted([message]);
        loggers.CreateLogger(typeof(HandoffsApi)).LogInformation("Agent {Agent} replied in conversation {Conversation} (outbox {Id}).", agent, key, id);
        return TypedResults.Ok(new ReplyResult(id, agent, false));
    }

    /// <summary>POST /api/handoffs/{key}/return {decision, note?}: gives the conversation back to the bot and resumes the workflow on its Returned port.</summary>
    public static async Task<Results<Ok<ReturnResult>, ProblemHttpResult>> ReturnAsync(string key, ReturnBody? body, IConversationHandoffs handoffs,
        IBookmarkStore bookmarks, IWorkflowRuntime runtime, HttpContext context, ILoggerFactory loggers, CancellationToken ct)
    {
        var decision = body?.Decision?.Trim() ?? "";
        var note = body?.Note?.Trim() ?? "";
        if (decision.Length > MaxDecisionLength || note.Length > MaxDecisionLength)
            return Problems.BadRequest($"The decision and the note may have at most {MaxDecisionLength} characters each.", "Shorten them.");
        if (await handoffs.FindAsync(key, ct) is not { } handoff) return NotHandedOff(key);
        var agent = Caller(context) ?? "";
        var logger = loggers.CreateLogger(typeof(HandoffsApi));
        AuditMiddleware.AddDetail(context, "conversation", key);
        AuditMiddleware.AddDetail(context, "decision", decision);
        var waiting = (await bookmarks.FindAsync(HandOffToHuman.BookmarkName, key, ct)).Where(b => b.WorkflowInstanceId == handoff.WorkflowInstanceId)
            .OrderBy(b => b.CreatedAt).ToList();
        foreach (var bookmark in waiting)
        {
            try
            {
                var resumed = await runtime.ResumeAsync(new ResumeWorkflowRequest(bookmark.WorkflowInstanceId, bookmark.Id)
                {
                    Input = new Dictionary<string, object?> { ["decision"] = decision, ["note"] = note, ["agent"] = agent },
                }, ct);
                await handoffs.EndAsync(key, handoff.WorkflowInstanceId, ct); // the activity ended it already; a no-op then
                logger.LogInformation("Agent {Agent} returned conversation {Conversation} to the bot: instance {Instance} is {Status}.", agent, key,
                    resumed.InstanceId, resumed.SubStatus);
                return TypedResults.Ok(new ReturnResult(resumed.InstanceId, true, resumed.SubStatus.ToString()));
            }
            catch (WorkflowRequestException e) when (e.Code is WorkflowRequestException.NotFound or WorkflowRequestException.Conflict)
            {
                logger.LogDebug("Hand-off bookmark {Bookmark} was taken meanwhile: {Message}", bookmark.Id, e.Message);
            }
        }
        // Nothing waits any more (the instance was cancelled or timed out): the conversation goes back to the bot all the same.
        await handoffs.EndAsync(key, handoff.WorkflowInstanceId, ct);
        logger.LogWarning("Conversation {Conversation} was returned to the bot by {Agent}, but instance {Instance} no longer waited for it.", key, agent,
            handoff.WorkflowInstanceId);
        return TypedResults.Ok(new ReturnResult(handoff.WorkflowInstanceId, false, null));
    }

    private static string? Caller(HttpContext context) => context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : null;

    private static ProblemHttpResult NotHandedOff(string key) =>
        Problems.NotFound($"Conversation '{key}' is not handed to people.",
            $"GET {Prefix} lists the conversations that wait for an agent; put the key in the URL encoded (encodeURIComponent), as it contains ':'.");

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex ClientId();
}
