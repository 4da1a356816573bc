using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Channels;
using Platform.Channels.Telegram;

namespace Platform.Messaging.Telegram;

/// <summary>
/// Long polling for Telegram channels whose <c>mode</c> setting is <c>polling</c>: for machines without a public URL, where
/// Telegram cannot call the webhook. One poller per such channel (restarted when the channel changes) hands each update to
/// the inbox before moving the offset past it, so a crash redelivers and the inbox drops the duplicate. Run it on one node:
/// Telegram allows one <c>getUpdates</c> client per bot.
/// </summary>
public sealed class TelegramPollingService : BackgroundService
{
    /// <summary>The <c>mode</c> setting value that selects polling (the default, <c>webhook</c>, needs a public URL).</summary>
    public const string PollingMode = "polling";

    private readonly IChannelStore _store;
    private readonly ChannelHub _hub;
    private readonly MessageInbox _inbox;
    private readonly ITelegramOffsetStore _offsets;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger<TelegramPollingService> _logger;
    private readonly Channel<string?> _changes = Channel.CreateUnbounded<string?>();
    private readonly Dictionary<string, (CancellationTokenSource Stop, Task Run)> _pollers = new(StringComparer.Ordinal);

    public TelegramPollingService(IChannelStore store, ChannelHub hub, MessageInbox inbox, ITelegramOffsetStore offsets, ILoggerFactory loggers)
    {
        _store = store;
        _hub = hub;
        _inbox = inbox;
        _offsets = offsets;
        _loggers = loggers;
        _logger = loggers.CreateLogger<TelegramPollingService>();
        store.Changed += name => _changes.Writer.TryWrite(name);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _changes.Writer.TryWrite(null); // reconcile every channel at start
        try
        {
            await foreach (var name in _changes.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var names = name is null ? (await _store.ListAsync(stoppingToken).ConfigureAwait(false)).Select(c => c.Name).ToList() : [name];
                    foreach (var n in names) await ReconcileAsync(n, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
                catch (Exception e) { _logger.LogError(e, "Starting Telegram polling failed; it is retried on the next channel change."); }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        foreach (var name in _pollers.Keys.ToList()) await StopAsync(name).ConfigureAwait(false);
    }

    private async Task ReconcileAsync(string name, CancellationToken ct)
    {
        await StopAsync(name).ConfigureAwait(false);
        _hub.Invalidate(name);
        var runtime = await _hub.GetAsync(name, ct).ConfigureAwait(false);
        if (runtime is not { Config: { Kind: ChannelKind.Telegram, Enabled: true } config, Sender: TelegramChannel channel }
            || !string.Equals(config.Get("mode"), PollingMode, StringComparison.OrdinalIgnoreCase))
            return;
        var poller = new TelegramLongPoller(channel, _offsets, _loggers.CreateLogger<TelegramLongPoller>());
        var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = Task.Run(() => poller.RunAsync(async (result, token) =>
        {
            if (result is { Status: InboundStatus.Accepted, Message: { } message }) await _inbox.ReceiveAsync(message, token).ConfigureAwait(false);
        }, stop.Token), CancellationToken.None);
        _pollers[name] = (stop, run);
        _logger.LogInformation("Telegram channel {Channel}: polling for updates (getUpdates).", name);
    }

    private async Task StopAsync(string name)
    {
        if (!_pollers.Remove(name, out var poller)) return;
        await poller.Stop.CancelAsync().ConfigureAwait(false);
        try { await poller.Run.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        catch (Exception e) { _logger.LogWarning(e, "Telegram polling of {Channel} ended with an error.", name); }
        poller.Stop.Dispose();
    }
}
