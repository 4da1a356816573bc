using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Messaging;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Channel health under <c>/api/channels/{name}</c>: <c>GET …/health</c> (last inbound and outbound time, the error rate of
/// the recent window, the last error with how to fix it; any role) and <c>POST …/test</c> (a test message to a target the
/// user types, through the outbox like any reply; Operator).
/// </summary>
public static class ChannelHealthApi
{
    /// <summary>The longest test message.</summary>
    public const int MaxTestText = 1000;

    /// <summary>A test message request.</summary>
    /// <param name="To">The recipient as the channel names it: a Telegram chat id, a Slack channel id, an E.164 number, an
    /// e-mail address, a web chat session…</param>
    /// <param name="Text">The text; a default sentence when omitted.</param>
    public sealed record TestMessageRequest(string? To, string? Text);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapChannelHealthApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(ChannelsApi.Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Channels");
        group.MapGet("/{name}/health", GetHealthAsync);
        group.MapPost("/{name}/test", SendTestAsync).RequireAuthorization(ApiPolicies.Operate);
        return app;
    }

    private static ProblemHttpResult NotFound(string name) =>
        Problems.NotFound($"Channel '{name}' was not found.", $"GET {ChannelsApi.Prefix} lists the channels.");

    /// <summary>GET /api/channels/{name}/health.</summary>
    public static async Task<Results<Ok<ChannelHealthReport>, ProblemHttpResult>> GetHealthAsync(string name, IChannelStore store,
        ChannelHealthMonitor monitor, CancellationToken ct) =>
        await store.FindAsync(name, ct) is { } c ? TypedResults.Ok(await monitor.GetAsync(c, ct)) : NotFound(name);

    /// <summary>POST /api/channels/{name}/test: 202 with the outbox message (follow it at <c>/api/messages/outbox/{id}</c>);
    /// 400 without a target or with an over-long text; 404 for an unknown channel; 409 for a disabled one.</summary>
    public static async Task<Results<Accepted<OutboxMessage>, ProblemHttpResult>> SendTestAsync(string name, TestMessageRequest? request,
        IChannelStore store, IOutboxStore outbox, OutboxDispatcher dispatcher, TimeProvider clock, HttpContext http,
        ILoggerFactory loggers, CancellationToken ct)
    {
        if (await store.FindAsync(name, ct) is not { } c) return NotFound(name);
        var logger = loggers.CreateLogger(typeof(ChannelHealthApi));
        var to = request?.To?.Trim();
        if (string.IsNullOrEmpty(to) || to.Length > 256 || to.Any(char.IsControl))
        {
            logger.LogInformation("Test message on {Channel} refused: no valid target.", name);
            return Problems.BadRequest("The test message needs a target.",
                "Set 'to' to a recipient of this channel (at most 256 characters): a Telegram chat id, a Slack channel id (C…), an E.164 number (+15017122661), an e-mail address…");
        }

        if (request?.Text is { Length: > MaxTestText })
        {
            return Problems.BadRequest("The test message is too long.", $"Send at most {MaxTestText} characters.");
        }

        if (!c.Enabled)
        {
            return Problems.Conflict($"Channel '{name}' is disabled.", $"Enable it with PUT {ChannelsApi.Prefix}/{name} first.");
        }

        var now = clock.GetUtcNow();
        var text = string.IsNullOrWhiteSpace(request?.Text)
            ? $"Test message from the platform ({c.Kind} channel '{c.Name}'), sent by {http.User.Identity?.Name ?? "an operator"} at {now:u}."
            : request.Text;
        var message = new OutboxMessage // claimed by this node, which sends it at once (see OutboxMessage.CommitLease)
        {
            Id = Guid.CreateVersion7().ToString("N"), Channel = c.Name, ConversationKey = null,
            Payload = new OutgoingEnvelope { Text = text, To = to }.ToJson(), CreatedAt = now,
            Attempts = 1, NextAttemptAt = now + OutboxMessage.CommitLease,
        };
        await outbox.AddAsync([message], ct);
        dispatcher.OnCommitted([message]);
        logger.LogInformation("Test message {Id} queued on {Channel} to {To} by {User}.", message.Id, name, to, http.User.Identity?.Name);
        return TypedResults.Accepted($"{ChannelsApi.MessagesPrefix}/outbox/{Uri.EscapeDataString(message.Id)}", message);
    }
}
