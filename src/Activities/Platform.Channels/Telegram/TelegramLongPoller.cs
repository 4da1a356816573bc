using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Platform.Channels.Telegram;

/// <summary>Where the long poller keeps the next <c>getUpdates</c> offset, so a restart neither loses nor repeats
/// updates (the server wiring stores it next to the inbox).</summary>
public interface ITelegramOffsetStore
{
    /// <summary>The saved offset of a channel, or null before the first save.</summary>
    ValueTask<long?> LoadAsync(string channelName, CancellationToken cancellationToken);

    /// <summary>Saves the offset (the last handled <c>update_id</c> + 1).</summary>
    ValueTask SaveAsync(string channelName, long offset, CancellationToken cancellationToken);
}

/// <summary>An offset store in memory (tests, and machines where losing the offset on restart is acceptable:
/// Telegram then redelivers unconfirmed updates and the inbox deduplicates them).</summary>
public sealed class InMemoryTelegramOffsetStore : ITelegramOffsetStore
{
    private readonly ConcurrentDictionary<string, long> _offsets = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ValueTask<long?> LoadAsync(string channelName, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_offsets.TryGetValue(channelName, out var offset) ? offset : (long?)null);

    /// <inheritdoc />
    public ValueTask SaveAsync(string channelName, long offset, CancellationToken cancellationToken)
    {
        _offsets[channelName] = offset;
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Long polling (<c>getUpdates</c>) for machines without a public URL. Each update goes to the handler (which stores
/// it in the inbox) before the offset moves past it, so a crash redelivers rather than loses; failures back off
/// exponentially (honouring 429 <c>retry_after</c>).
/// </summary>
public sealed class TelegramLongPoller(TelegramChannel channel, ITelegramOffsetStore offsets, ILogger<TelegramLongPoller>? logger = null,
    TimeProvider? time = null)
{
    private readonly ILogger _logger = logger ?? NullLogger<TelegramLongPoller>.Instance;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The first delay after a failure; it doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between failing polls.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// One <c>getUpdates</c> call: hands every update to <paramref name="handler"/> in order and saves the offset after
    /// each. Returns the number of updates handled, or the failure. A handler exception stops the batch without moving
    /// the offset past that update and is rethrown.
    /// </summary>
    public async Task<(int Handled, TelegramResponse Response)> PollOnceAsync(Func<InboundResult, CancellationToken, Task> handler,
        int? timeoutSeconds = null, CancellationToken cancellationToken = default)
    {
        var offset = await offsets.LoadAsync(channel.ChannelName, cancellationToken);
        var response = await channel.Api.GetUpdatesAsync(offset, timeoutSeconds ?? channel.Options.PollTimeoutSeconds, cancellationToken);
        if (!response.Ok)
        {
            return (0, response);
        }

        var handled = 0;
        foreach (var update in response.Result as JsonArray ?? [])
        {
            if (update is null)
            {
                continue;
            }

            var json = update.ToJsonString();
            var result = Telegram.TelegramUpdateParser.Parse(channel.ChannelName, json, channel.Options.Attachments, _time.GetUtcNow(),
                out var updateId);
            if (updateId is null)
            {
                _logger.LogWarning("Telegram channel {Channel}: getUpdates returned an update without update_id; skipped.", channel.ChannelName);
                continue;
            }

            await handler(result, cancellationToken);
            await offsets.SaveAsync(channel.ChannelName, updateId.Value + 1, cancellationToken);
            handled++;
        }

        return (handled, response);
    }

    /// <summary>Polls until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async Task RunAsync(Func<InboundResult, CancellationToken, Task> handler, CancellationToken cancellationToken)
    {
        var backoff = InitialBackoff;
        while (!cancellationToken.IsCancellationRequested)
        {
            TimeSpan? wait = null;
            try
            {
                var (_, response) = await PollOnceAsync(handler, cancellationToken: cancellationToken);
                if (response.Ok)
                {
                    backoff = InitialBackoff;
                    continue;
                }

                wait = response.RetryAfter ?? backoff;
                _logger.LogWarning("Telegram channel {Channel}: getUpdates failed ({Error}); retrying in {Delay}.", channel.ChannelName,
                    response.Description ?? response.Failure?.Error, wait);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                wait = backoff;
                _logger.LogError(exception, "Telegram channel {Channel}: handling an update failed; retrying in {Delay}.", channel.ChannelName, wait);
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            try
            {
                await Task.Delay(wait.Value, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
