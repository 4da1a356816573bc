using System.Net.Sockets;
using MailKit;
using MailKit.Net.Imap;
using MailKit.Search;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;
using Platform.Channels;

namespace Platform.Messaging.Email;

/// <summary>
/// Watches one Email channel's IMAP folder: waits for new mail with IDLE (or polls every <see cref="EmailSettings.PollInterval"/>
/// when the server has no IDLE), hands each new mail to the sink in UID order and moves the channel's checkpoint after each one.
/// On the first start (no checkpoint, or the folder's UIDVALIDITY changed) it takes the folder's unread mail. The mailbox is opened
/// read-only: nothing is flagged or moved. Connection failures are retried with backoff (1 s doubling to 5 minutes).
/// </summary>
public sealed class ImapListener
{
    private static readonly TimeSpan IdleRestart = TimeSpan.FromMinutes(9); // servers drop IDLE after 30 minutes (RFC 2177)
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
    private readonly EmailSettings _settings;
    private readonly ImapCheckpointStore _checkpoints;
    private readonly Func<IncomingMessage, MimeMessage, CancellationToken, Task> _sink;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;

    /// <summary>Creates the listener; <see cref="RunAsync"/> runs it.</summary>
    /// <param name="settings">The channel's settings (with an <c>imapHost</c>).</param>
    /// <param name="checkpoints">Where the position is kept.</param>
    /// <param name="sink">Receives each new mail; it must store it durably before returning (the checkpoint moves after it).</param>
    /// <param name="clock">The clock.</param>
    /// <param name="logger">The log.</param>
    public ImapListener(EmailSettings settings, ImapCheckpointStore checkpoints, Func<IncomingMessage, MimeMessage, CancellationToken, Task> sink,
        TimeProvider clock, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.ImapHost is null) throw new ChannelConfigurationException($"Channel '{settings.ChannelName}' (Email) has no 'imapHost' to receive from.");
        _settings = settings;
        _checkpoints = checkpoints;
        _sink = sink;
        _clock = clock;
        _logger = logger;
    }

    /// <summary>True while connected and watching the folder.</summary>
    public bool IsConnected { get; private set; }

    /// <summary>True when the server offered IDLE on the last connection.</summary>
    public bool UsesIdle { get; private set; }

    /// <summary>Raised after each pass over the folder (the count of mails handed to the sink). Tests wait on it.</summary>
    public event Action<int>? Checked;

    /// <summary>Runs until <paramref name="ct"/> is cancelled, reconnecting after failures.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var delay = TimeSpan.FromSeconds(1);
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await WatchAsync(() => { failures = 0; delay = TimeSpan.FromSeconds(1); }, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                IsConnected = false;
                failures++;
                var hint = e switch
                {
                    AuthenticationException => " Check the channel's 'username' and 'password'.",
                    SslHandshakeException or NotSupportedException => " Check 'useTls' (none, starttls, ssl) and 'imapPort'.",
                    FolderNotFoundException => $" Check 'folder' (it is '{_settings.Folder}').",
                    SocketException => " Check 'imapHost' and 'imapPort', and that the server is up.",
                    _ => "",
                };
                if (failures == 1 || failures % 10 == 0)
                    _logger.LogWarning("Email channel {Channel}: IMAP {Host}:{Port} failed ({Error}); reconnecting in {Delay} (attempt {Attempt}).{Hint}",
                        _settings.ChannelName, _settings.ImapHost, _settings.ImapPort, e.Message, delay, failures, hint);
                else _logger.LogDebug(e, "Email channel {Channel}: IMAP attempt {Attempt} failed.", _settings.ChannelName, failures);
                try { await Task.Delay(delay, _clock, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                delay = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, delay.Ticks * 2));
            }
        }
        IsConnected = false;
    }

    private async Task WatchAsync(Action connected, CancellationToken ct)
    {
        using var client = new ImapClient { Timeout = 60_000 };
        await client.ConnectAsync(_settings.ImapHost!, _settings.ImapPort, _settings.Security, ct).ConfigureAwait(false);
        await client.AuthenticateAsync(_settings.Username ?? "", _settings.Password ?? "", ct).ConfigureAwait(false);
        var folder = _settings.Folder.Equals("INBOX", StringComparison.OrdinalIgnoreCase)
            ? client.Inbox
            : await client.GetFolderAsync(_settings.Folder, ct).ConfigureAwait(false);
        await folder.OpenAsync(FolderAccess.ReadOnly, ct).ConfigureAwait(false);
        UsesIdle = _settings.UseIdle && client.Capabilities.HasFlag(ImapCapabilities.Idle);
        IsConnected = true;
        connected();
        _logger.LogInformation("Email channel {Channel}: watching {Folder} on {Host}:{Port} ({Mode}).", _settings.ChannelName, _settings.Folder,
            _settings.ImapHost, _settings.ImapPort, UsesIdle ? "IDLE" : $"polling every {_settings.PollInterval}");
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var handled = await FetchNewAsync(folder, ct).ConfigureAwait(false);
                Checked?.Invoke(handled);
                if (UsesIdle)
                {
                    using var done = new CancellationTokenSource(IdleRestart);
                    var count = folder.Count;
                    void OnChanged(object? sender, EventArgs e)
                    {
                        if (folder.Count != count) done.Cancel();
                    }
                    folder.CountChanged += OnChanged;
                    try
                    {
                        if (folder.Count == count) await client.IdleAsync(done.Token, ct).ConfigureAwait(false);
                    }
                    finally
                    {
                        folder.CountChanged -= OnChanged;
                    }
                }
                else
                {
                    await Task.Delay(_settings.PollInterval, _clock, ct).ConfigureAwait(false);
                    await client.NoOpAsync(ct).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            IsConnected = false;
            if (client.IsConnected)
            {
                try
                {
                    using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                    await client.DisconnectAsync(true, quick.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _logger.LogDebug(e, "Email channel {Channel}: logout failed.", _settings.ChannelName);
                }
            }
        }
    }

    /// <summary>Hands every mail after the checkpoint to the sink, oldest first; returns how many.</summary>
    private async Task<int> FetchNewAsync(IMailFolder folder, CancellationToken ct)
    {
        var checkpoint = await _checkpoints.LoadAsync(_settings.ChannelName, ct).ConfigureAwait(false);
        IList<UniqueId> uids;
        if (checkpoint is null || checkpoint.UidValidity != folder.UidValidity || !string.Equals(checkpoint.Folder, _settings.Folder, StringComparison.Ordinal))
        {
            if (checkpoint is not null)
                _logger.LogWarning("Email channel {Channel}: the folder {Folder} changed identity (UIDVALIDITY {Old} → {New}); taking its unread mail again " +
                                   "(mail already in the inbox is recognised by its Message-ID).", _settings.ChannelName, _settings.Folder, checkpoint.UidValidity, folder.UidValidity);
            uids = await folder.SearchAsync(SearchQuery.NotSeen, ct).ConfigureAwait(false);
            if (uids.Count == 0)
            {
                // Remember where the folder stands, so mail that was read before the next start is not lost.
                var last = folder.UidNext is { } next ? next.Id - 1
                    : (await folder.SearchAsync(SearchQuery.All, ct).ConfigureAwait(false)).Select(u => u.Id).DefaultIfEmpty(0u).Max();
                await _checkpoints.SaveAsync(_settings.ChannelName, new ImapCheckpoint(_settings.Folder, folder.UidValidity, last, _clock.GetUtcNow()), ct).ConfigureAwait(false);
                return 0;
            }
        }
        else
        {
            if (checkpoint.LastUid == uint.MaxValue - 1) return 0;
            uids = await folder.SearchAsync(SearchQuery.Uids(new UniqueIdRange(new UniqueId(checkpoint.LastUid + 1), UniqueId.MaxValue)), ct).ConfigureAwait(false);
            uids = [.. uids.Where(u => u.Id > checkpoint.LastUid)]; // "n:*" also matches the last mail when n is past it
        }

        var handled = 0;
        foreach (var uid in uids.OrderBy(u => u.Id))
        {
            var message = await folder.GetMessageAsync(uid, ct).ConfigureAwait(false);
            var position = new MailboxPosition(_settings.Folder, folder.UidValidity, uid.Id);
            if (EmailParser.IsAutomated(message))
            {
                _logger.LogInformation("Email channel {Channel}: ignored automated mail {MessageId} from {From} (auto-reply, bounce or list).",
                    _settings.ChannelName, message.MessageId, message.From);
            }
            else if (_settings.From is { } self && message.From.Mailboxes.Any(m => string.Equals(m.Address, self.Address, StringComparison.OrdinalIgnoreCase)))
            {
                _logger.LogInformation("Email channel {Channel}: ignored mail {MessageId} sent by the channel's own address.", _settings.ChannelName, message.MessageId);
            }
            else if (EmailParser.Parse(_settings.ChannelName, message, position, _settings.Attachments, _clock.GetUtcNow()) is { } incoming)
            {
                await _sink(incoming, message, ct).ConfigureAwait(false);
                handled++;
            }
            else
            {
                _logger.LogWarning("Email channel {Channel}: ignored mail {MessageId} without a sender address.", _settings.ChannelName, message.MessageId);
            }
            await _checkpoints.SaveAsync(_settings.ChannelName, new ImapCheckpoint(_settings.Folder, folder.UidValidity, uid.Id, _clock.GetUtcNow()), ct).ConfigureAwait(false);
        }
        return handled;
    }
}
