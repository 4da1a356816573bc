using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Messaging;

/// <summary>The last failed delivery of a channel.</summary>
/// <param name="At">When it failed.</param>
/// <param name="Message">The error as the outbox recorded it.</param>
/// <param name="HttpStatus">The service's HTTP status, when there was one.</param>
/// <param name="Code">The service's error code (<c>chat_not_found</c>, <c>21211</c>, <c>network</c>…), when known.</param>
/// <param name="Fix">How to fix it, in a sentence.</param>
public sealed record ChannelError(DateTimeOffset At, string Message, int? HttpStatus, string? Code, string Fix);

/// <summary>How a channel is doing.</summary>
/// <param name="Channel">The channel name.</param>
/// <param name="LastInboundAt">When its newest inbound message arrived (from the inbox), or null.</param>
/// <param name="LastOutboundAt">When its newest outgoing message was delivered (from the outbox), or null.</param>
/// <param name="WindowMinutes">The length of the recent window the counts cover.</param>
/// <param name="Attempts">Delivery attempts in the window (this node).</param>
/// <param name="Failures">Failed attempts in the window (this node).</param>
/// <param name="ErrorRate">Failures / attempts in the window, 0 with no attempts.</param>
/// <param name="LastError">The last failed delivery with a fix, or null.</param>
public sealed record ChannelHealthReport(string Channel, DateTimeOffset? LastInboundAt, DateTimeOffset? LastOutboundAt, int WindowMinutes,
    int Attempts, int Failures, double ErrorRate, ChannelError? LastError);

/// <summary>
/// Channel health: cheap in-memory aggregates per node (delivery attempts and failures of the last
/// <see cref="Window"/>, the last error), fed by <see cref="OutboxDispatcher.AttemptFinished"/>, plus database facts read
/// on demand (the newest inbox row, the newest delivered and the newest dead-lettered outbox row).
/// </summary>
public sealed class ChannelHealthMonitor(OutboxDispatcher dispatcher, IInboxStore inbox, IOutboxStore outbox, TimeProvider clock)
    : IHostedService
{
    /// <summary>The recent window of the error rate.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(15);

    private const int MaxSamples = 2000;
    private readonly ConcurrentDictionary<string, Stats> _stats = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        dispatcher.AttemptFinished += Record;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        dispatcher.AttemptFinished -= Record;
        return Task.CompletedTask;
    }

    /// <summary>Counts one delivery attempt.</summary>
    public void Record(OutboxMessage message, SendStatus status, SendResult? result)
    {
        ArgumentNullException.ThrowIfNull(message);
        var now = clock.GetUtcNow();
        var stats = _stats.GetOrAdd(message.Channel, _ => new Stats());
        lock (stats)
        {
            stats.Samples.Enqueue((now, status != SendStatus.Sent));
            Trim(stats, now);
            if (status != SendStatus.Sent)
            {
                var error = result?.Error ?? message.LastError ?? "The delivery failed.";
                stats.LastError = new ChannelError(now, error, result?.HttpStatusCode, result?.ErrorCode,
                    ChannelErrorHints.Fix(null, result?.HttpStatusCode, result?.ErrorCode, error));
            }
        }
    }

    /// <summary>The health of channel <paramref name="config"/>.</summary>
    public async Task<ChannelHealthReport> GetAsync(ChannelConfig config, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var now = clock.GetUtcNow();
        int attempts = 0, failures = 0;
        ChannelError? last = null;
        if (_stats.TryGetValue(config.Name, out var stats))
        {
            lock (stats)
            {
                Trim(stats, now);
                attempts = stats.Samples.Count;
                failures = stats.Samples.Count(s => s.Failed);
                last = stats.LastError;
            }
        }

        var newestIn = (await inbox.ListAsync(config.Name, null, new PageArgs(0, 1), ct).ConfigureAwait(false)).Items;
        var newestSent = (await outbox.ListAsync(config.Name, OutboxStatus.Sent, null, new PageArgs(0, 1), ct).ConfigureAwait(false)).Items;
        if (last is null)
        {
            // Nothing failed on this node since it started: the newest dead letter in the database, if any.
            var dead = (await outbox.ListAsync(config.Name, OutboxStatus.DeadLettered, null, new PageArgs(0, 1), ct).ConfigureAwait(false)).Items;
            if (dead.Count == 1 && dead[0].LastError is { } error)
            {
                last = new ChannelError(dead[0].NextAttemptAt, error, null, null, ChannelErrorHints.Fix(config.Kind, null, null, error));
            }
        }
        else
        {
            last = last with { Fix = ChannelErrorHints.Fix(config.Kind, last.HttpStatus, last.Code, last.Message) };
        }

        return new ChannelHealthReport(config.Name, newestIn.Count == 1 ? newestIn[0].ReceivedAt : null,
            newestSent.Count == 1 ? newestSent[0].SentAt ?? newestSent[0].CreatedAt : null, (int)Window.TotalMinutes,
            attempts, failures, attempts == 0 ? 0 : Math.Round((double)failures / attempts, 4), last);
    }

    private static void Trim(Stats stats, DateTimeOffset now)
    {
        while (stats.Samples.Count > 0 && (stats.Samples.Count > MaxSamples || now - stats.Samples.Peek().At > Window))
        {
            stats.Samples.Dequeue();
        }
    }

    private sealed class Stats
    {
        public Queue<(DateTimeOffset At, bool Failed)> Samples { get; } = new();

        public ChannelError? LastError { get; set; }
    }
}

/// <summary>How to fix the delivery errors channels report most often.</summary>
public static partial class ChannelErrorHints
{
    /// <summary>A sentence saying how to fix an error with HTTP status <paramref name="httpStatus"/>, service error code
    /// <paramref name="code"/> and text <paramref name="error"/> on a channel of kind <paramref name="kind"/>.</summary>
    public static string Fix(ChannelKind? kind, int? httpStatus, string? code, string? error)
    {
        var text = error ?? "";
        var status = httpStatus ?? (StatusInText().Match(text) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null);
        bool Has(params string[] words) => words.Any(w => string.Equals(code, w, StringComparison.OrdinalIgnoreCase)
                                                        || text.Contains(w, StringComparison.OrdinalIgnoreCase));

        if (Has("chat not found", "chat_not_found", "channel_not_found", "user_not_found"))
        {
            return kind == ChannelKind.Slack
                ? "Chat not found: use the channel id (C…) or user id (U…), and invite the bot to the channel (/invite @bot)."
                : "Chat not found: check the recipient id (a numeric chat id on Telegram); the user must have started a chat with the bot (/start) first.";
        }

        if (status == 401 || Has("invalid_auth", "not_authed", "token_revoked", "account_inactive", "20003", "Unauthorized"))
        {
            return kind switch
            {
                ChannelKind.Sms => "Check the Account SID and Auth Token (Twilio Console → Account Info); a rotated Auth Token answers 401.",
                ChannelKind.Slack => "Check the bot token (botToken, xoxb-…): reinstall the Slack app if it was revoked.",
                ChannelKind.Email => "Check the SMTP user name and password of the channel.",
                ChannelKind.Webhook => "Check the credentials or signing secret the target URL expects.",
                _ => "Check the bot token (botToken): a revoked or mistyped token answers 401 (Telegram: @BotFather → /mybots → API Token).",
            };
        }

        if (status == 403 || Has("not_in_channel", "missing_scope", "bot was blocked", "Forbidden", "21610"))
        {
            return kind == ChannelKind.Slack
                ? "Slack refuses: add the chat:write scope and reinstall the app, or invite the bot to the channel."
                : "The service refuses this chat: the user blocked the bot or replied STOP, or the bot was removed from the group.";
        }

        if (status == 404)
        {
            return kind == ChannelKind.Telegram
                ? "Not found: Telegram answers 404 to a wrong bot token in the URL, or a chat the bot never saw; check botToken and the chat id."
                : "Not found: check the recipient and the channel's apiBaseUrl/URL settings.";
        }

        if (status == 429 || Has("rate_limited", "Too Many Requests", "20429"))
        {
            return "Rate limited by the service: the outbox retries after Retry-After by itself; send less often or spread the traffic.";
        }

        if (Has("timeout"))
        {
            return "The service did not answer in time: the outbox retries by itself; check the network path (proxy, firewall) if it persists.";
        }

        if (Has("network", "could not be reached"))
        {
            return "The service could not be reached: check DNS, the firewall or proxy, and the channel's apiBaseUrl setting.";
        }

        if (status >= 500)
        {
            return "The service had an internal error: the outbox retries with backoff; check the service's status page if it persists.";
        }

        if (status == 400 || Has("21211", "21614", "invalid", "no_sender", "no recipient"))
        {
            return kind == ChannelKind.Sms
                ? "Twilio rejected the message: numbers must be E.164 (+15017122661) and the channel needs fromNumber or messagingServiceSid."
                : "The service rejected the message: check the recipient format and the message content.";
        }

        return "See the error text; GET /api/messages/outbox?channel=<name>&status=DeadLettered lists the failed messages.";
    }

    [GeneratedRegex(@"\b(4\d\d|5\d\d)\b")]
    private static partial Regex StatusInText();
}
