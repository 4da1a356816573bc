using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Activities;
using Platform.Channels;
using Platform.Channels.Webhooks;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Messaging;

/// <summary>Who is told when a conversation starts waiting for a person (<c>Platform:Handoffs:Notify</c>).</summary>
public sealed class HandoffNotifyOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Handoffs:Notify";

    /// <summary>A URL that gets a signed JSON POST per hand-off (see docs/channels.md, "Hand-off notifications"), or null.</summary>
    public Uri? WebhookUrl { get; set; }

    /// <summary>The secret the webhook is signed with (<c>X-Platform-Signature</c>, as the webhook channels sign).</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>The name of an <c>Email</c> channel the e-mails go out on, or null.</summary>
    public string? EmailChannel { get; set; }

    /// <summary>The agents' addresses (one e-mail each).</summary>
    public List<string> EmailTo { get; set; } = [];

    /// <summary>The Studio's public address (such as <c>https://bot.example.com</c>), for a link to the Conversations page; optional.</summary>
    public string? StudioUrl { get; set; }

    /// <summary>How often a failed webhook is tried again (1 s, doubling) before it is given up and logged.</summary>
    public int WebhookAttempts { get; set; } = 4;

    /// <summary>True when anything is configured.</summary>
    public bool Enabled => WebhookUrl is not null || (EmailChannel is not null && EmailTo.Count > 0);

    /// <summary>Reads the section.</summary>
    public static HandoffNotifyOptions From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var s = configuration.GetSection(SectionName);
        var o = new HandoffNotifyOptions { WebhookSecret = s["WebhookSecret"], EmailChannel = s["EmailChannel"] is { Length: > 0 } c ? c : null, StudioUrl = s["StudioUrl"] };
        if (s["WebhookUrl"] is { Length: > 0 } url)
            o.WebhookUrl = Uri.TryCreate(url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https" ? u
                : throw new InvalidOperationException($"{SectionName}:WebhookUrl is '{url}'. Set an absolute http(s) URL.");
        if (o.WebhookUrl is not null && string.IsNullOrEmpty(o.WebhookSecret))
            throw new InvalidOperationException($"{SectionName}:WebhookSecret is missing: the hand-off webhook is signed. Set a secret (openssl rand -hex 32) and give it to the receiver.");
        var to = s.GetSection("EmailTo");
        o.EmailTo = to.Value is { Length: > 0 } list
            ? [.. list.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]
            : [.. to.GetChildren().Select(x => x.Value).OfType<string>().Where(x => x.Length > 0)];
        if (int.TryParse(s["WebhookAttempts"], NumberStyles.None, CultureInfo.InvariantCulture, out var attempts) && attempts is >= 1 and <= 20) o.WebhookAttempts = attempts;
        return o;
    }
}

/// <summary>
/// Tells agents that a conversation waits for a person, once per hand-off: a signed webhook POST
/// (<see cref="HandoffNotifyOptions.WebhookUrl"/>) and/or one e-mail per address through an e-mail channel's outbox (delivered
/// and retried by the outbox like any message).
/// </summary>
public sealed class HandoffNotifier(HandoffNotifyOptions options, IOutboxStore outbox, OutboxDispatcher dispatcher, IHttpClientFactory http, TimeProvider clock,
    ILogger<HandoffNotifier> logger)
{
    /// <summary>The options.</summary>
    public HandoffNotifyOptions Options => options;

    /// <summary>The id of a hand-off (its conversation and start time): the webhook's <c>X-Platform-Delivery</c> and <c>id</c>.</summary>
    public static string DeliveryId(ConversationHandoff handoff)
    {
        ArgumentNullException.ThrowIfNull(handoff);
        return $"handoff:{handoff.ConversationKey}:{handoff.CreatedAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>The webhook body of <paramref name="handoff"/>.</summary>
    public JsonObject Payload(ConversationHandoff handoff)
    {
        ArgumentNullException.ThrowIfNull(handoff);
        var body = new JsonObject
        {
            ["type"] = "handoff.waiting", ["id"] = DeliveryId(handoff), ["conversationKey"] = handoff.ConversationKey, ["channel"] = handoff.Channel,
            ["reason"] = handoff.Reason, ["queue"] = handoff.Queue, ["workflowInstanceId"] = handoff.WorkflowInstanceId,
            ["waitingSince"] = handoff.CreatedAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
            ["timeoutAt"] = handoff.TimeoutAt?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
        };
        if (Link(handoff) is { } link) body["link"] = link;
        return body;
    }

    private string? Link(ConversationHandoff handoff) => options.StudioUrl is { Length: > 0 } studio
        ? $"{studio.TrimEnd('/')}/conversations?key={Uri.EscapeDataString(handoff.ConversationKey)}"
        : null;

    /// <summary>Sends the notifications of a new hand-off: the e-mails are queued in the outbox at once; the webhook is posted in
    /// the background (retried with backoff, then logged).</summary>
    public async Task NotifyAsync(ConversationHandoff handoff, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(handoff);
        if (!options.Enabled) return;
        if (options.EmailChannel is { } channel && options.EmailTo.Count > 0)
        {
            var now = clock.GetUtcNow();
            var text = new StringBuilder()
                .Append("A conversation is waiting for a person.\n\n")
                .Append("- **Conversation:** ").Append(handoff.ConversationKey).Append('\n')
                .Append("- **Channel:** ").Append(handoff.Channel).Append('\n')
                .Append("- **Reason:** ").Append(handoff.Reason ?? "(none given)").Append('\n')
                .Append("- **Queue:** ").Append(handoff.Queue ?? "default").Append('\n')
                .Append("- **Waiting since:** ").Append(handoff.CreatedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append('\n');
            if (handoff.TimeoutAt is { } timeout) text.Append("- **Times out at:** ").Append(timeout.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)).Append('\n');
            text.Append("\nTake it on the Conversations page").Append(Link(handoff) is { } link ? $": {link}" : " of the Studio").Append('.');
            var subject = "Waiting for a person: " + (handoff.Reason is { Length: > 0 } reason ? (reason.Length > 80 ? reason[..80] + "…" : reason) : handoff.ConversationKey);
            var rows = options.EmailTo.Select(to => new OutboxMessage
            {
                Id = Guid.CreateVersion7().ToString("N"), Channel = channel, ConversationKey = null, CreatedAt = now, Attempts = 1,
                NextAttemptAt = now + OutboxMessage.CommitLease,
                Payload = new OutgoingEnvelope { To = to, Subject = subject, Text = text.ToString() }.ToJson(),
            }).ToList();
            await outbox.AddAsync(rows, ct).ConfigureAwait(false);
            dispatcher.OnCommitted(rows);
            logger.LogInformation("Hand-off of {Conversation}: {Count} e-mail(s) queued on channel {Channel}.", handoff.ConversationKey, rows.Count, channel);
        }
        if (options.WebhookUrl is { } url) _ = PostAsync(url, handoff);
    }

    private async Task PostAsync(Uri url, ConversationHandoff handoff)
    {
        var body = Payload(handoff).ToJsonString();
        var delivery = DeliveryId(handoff);
        var delay = TimeSpan.FromSeconds(1);
        for (var attempt = 1; attempt <= options.WebhookAttempts; attempt++)
        {
            string error;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
                request.Headers.TryAddWithoutValidation(WebhookSignature.Header, WebhookSignature.Create(clock.GetUtcNow().ToUnixTimeSeconds(), body, options.WebhookSecret!));
                request.Headers.TryAddWithoutValidation(WebhookSignature.DeliveryIdHeader, delivery);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                using var response = await http.CreateClient("platform-handoff-notify").SendAsync(request, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    logger.LogInformation("Hand-off of {Conversation}: webhook {Url} notified.", handoff.ConversationKey, url);
                    return;
                }
                error = $"HTTP {(int)response.StatusCode}";
                if ((int)response.StatusCode is >= 400 and < 500 and not 408 and not 429) attempt = options.WebhookAttempts; // the receiver refuses: no retry
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
            {
                error = e.Message;
            }
            if (attempt >= options.WebhookAttempts)
            {
                logger.LogError("Hand-off of {Conversation}: the webhook {Url} could not be notified ({Error}); agents see it on the Conversations page.",
                    handoff.ConversationKey, url, error);
                return;
            }
            logger.LogWarning("Hand-off of {Conversation}: webhook attempt {Attempt} failed ({Error}); retrying in {Delay}.", handoff.ConversationKey, attempt, error, delay);
            await Task.Delay(delay, clock).ConfigureAwait(false);
            delay *= 2;
        }
    }
}

/// <summary>The hand-off store, telling agents (<see cref="HandoffNotifier"/>) when a conversation starts waiting. The same
/// hand-off written again (a repeated burst) is not notified twice.</summary>
public sealed class NotifyingConversationHandoffs(IConversationHandoffs inner, HandoffNotifier notifier, ILogger<NotifyingConversationHandoffs> logger)
    : IConversationHandoffs
{
    /// <inheritdoc />
    public async Task StartAsync(ConversationHandoff handoff, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handoff);
        var before = notifier.Options.Enabled ? await inner.FindAsync(handoff.ConversationKey, cancellationToken).ConfigureAwait(false) : null;
        await inner.StartAsync(handoff, cancellationToken).ConfigureAwait(false);
        if (!notifier.Options.Enabled || before is not null && before.WorkflowInstanceId == handoff.WorkflowInstanceId && before.CreatedAt == handoff.CreatedAt) return;
        try { await notifier.NotifyAsync(handoff, cancellationToken).ConfigureAwait(false); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The hand-off itself stands; agents still see it on the Conversations page.
            logger.LogError(e, "Hand-off of {Conversation}: the agents could not be notified.", handoff.ConversationKey);
        }
    }

    /// <inheritdoc />
    public Task<ConversationHandoff?> FindAsync(string conversationKey, CancellationToken cancellationToken = default) => inner.FindAsync(conversationKey, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<ConversationHandoff>> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

    /// <inheritdoc />
    public Task<bool> AssignAsync(string conversationKey, string? userName, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        inner.AssignAsync(conversationKey, userName, at, cancellationToken);

    /// <inheritdoc />
    public Task<bool> EndAsync(string conversationKey, string workflowInstanceId, CancellationToken cancellationToken = default) =>
        inner.EndAsync(conversationKey, workflowInstanceId, cancellationToken);

    /// <summary>Wraps the registered <see cref="IConversationHandoffs"/> (if any) so new hand-offs notify agents.</summary>
    public static void Decorate(IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = HandoffNotifyOptions.From(configuration);
        services.AddSingleton(options);
        services.AddSingleton<HandoffNotifier>();
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IConversationHandoffs) && !d.IsKeyedService);
        if (registered is null) return;
        services.Remove(registered);
        services.AddSingleton<IConversationHandoffs>(sp =>
        {
            var inner = (IConversationHandoffs)(registered.ImplementationInstance ?? registered.ImplementationFactory?.Invoke(sp)
                ?? ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!));
            return new NotifyingConversationHandoffs(inner, sp.GetRequiredService<HandoffNotifier>(), sp.GetRequiredService<ILogger<NotifyingConversationHandoffs>>());
        });
    }
}
