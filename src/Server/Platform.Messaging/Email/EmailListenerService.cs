using System.Threading.Channels;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MimeKit;
using Platform.Channels;

namespace Platform.Messaging.Email;

/// <summary>
/// Runs one <see cref="ImapListener"/> per enabled Email channel that has an <c>imapHost</c>, hands every new mail to the
/// <see cref="MessageInbox"/>, and restarts a channel's listener when its configuration changes (<see cref="IChannelStore.Changed"/>).
/// </summary>
public sealed class EmailListenerService : BackgroundService
{
    private readonly IChannelStore _store;
    private readonly IAttachmentStore? _attachments;
    private readonly AttachmentOptions _attachmentOptions;
    private readonly MessageInbox _inbox;
    private readonly EmailThreadIndex _threads;
    private readonly ImapCheckpointStore _checkpoints;
    private readonly TimeProvider _clock;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly Channel<string?> _changes = Channel.CreateUnbounded<string?>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<string, Running> _running = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Creates the service.</summary>
    public EmailListenerService(IChannelStore store, MessageInbox inbox, EmailThreadIndex threads, ImapCheckpointStore checkpoints, TimeProvider clock, ILoggerFactory loggers,
        IAttachmentStore? attachments = null, AttachmentOptions? attachmentOptions = null)
    {
        _attachments = attachments;
        _attachmentOptions = attachmentOptions ?? new AttachmentOptions();
        _store = store;
        _inbox = inbox;
        _threads = threads;
        _checkpoints = checkpoints;
        _clock = clock;
        _loggers = loggers;
        _logger = loggers.CreateLogger<EmailListenerService>();
        store.Changed += name => _changes.Writer.TryWrite(name);
    }

    /// <summary>The running listeners by channel name.</summary>
    public IReadOnlyDictionary<string, ImapListener> Listeners
    {
        get { lock (_gate) return _running.ToDictionary(p => p.Key, p => p.Value.Listener, StringComparer.Ordinal); }
    }

    /// <summary>Raised after a listener started (the channel name); tests wait on it.</summary>
    public event Action<string, ImapListener>? ListenerStarted;

    /// <summary>Stops and starts a channel's listener again (it resumes from its checkpoint).</summary>
    public async Task RestartAsync(string channel, CancellationToken ct = default)
    {
        await StopListenerAsync(channel).ConfigureAwait(false);
        await ReconcileAsync(channel, ct).ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _changes.Writer.TryWrite(null);
        try
        {
            await foreach (var name in _changes.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    if (name is null)
                    {
                        foreach (var c in await _store.ListAsync(stoppingToken).ConfigureAwait(false))
                            if (c.Kind == ChannelKind.Email) await ReconcileAsync(c.Name, stoppingToken).ConfigureAwait(false);
                    }
                    else await ReconcileAsync(name, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { break; }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    _logger.LogError(e, "Starting the e-mail listeners failed; retrying in 10 s.");
                    _ = RetryLaterAsync(name, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private async Task RetryLaterAsync(string? name, CancellationToken ct)
    {
        try { await Task.Delay(TimeSpan.FromSeconds(10), _clock, ct).ConfigureAwait(false); }
        catch (OperationCanceledException) { return; }
        _changes.Writer.TryWrite(name);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        List<string> names;
        lock (_gate) names = [.. _running.Keys];
        await Task.WhenAll(names.Select(StopListenerAsync)).ConfigureAwait(false);
    }

    private async Task ReconcileAsync(string name, CancellationToken ct)
    {
        var config = await _store.FindAsync(name, ct).ConfigureAwait(false);
        var wanted = config is { Kind: ChannelKind.Email, Enabled: true } && !string.IsNullOrWhiteSpace(config.Get("imapHost"));
        var fingerprint = wanted ? config!.Settings.ToJsonString() : null;
        lock (_gate)
            if (_running.TryGetValue(name, out var current) && current.Fingerprint == fingerprint) return;
        await StopListenerAsync(name).ConfigureAwait(false);
        if (!wanted) return;

        EmailSettings settings;
        try
        {
            settings = EmailSettings.Read(config!);
        }
        catch (ChannelConfigurationException e)
        {
            _logger.LogError("Email channel {Channel} cannot receive: {Error}", name, e.Message);
            return;
        }
        var listener = new ImapListener(settings, _checkpoints, (incoming, mail, token) => ReceiveAsync(incoming, mail, token), _clock, _loggers.CreateLogger<ImapListener>());
        var cts = new CancellationTokenSource();
        var task = Task.Run(() => listener.RunAsync(cts.Token), CancellationToken.None);
        lock (_gate) _running[name] = new Running(fingerprint!, listener, cts, task);
        ListenerStarted?.Invoke(name, listener);
    }

    private async Task ReceiveAsync(IncomingMessage incoming, MimeMessage mail, CancellationToken ct)
    {
        _threads.Remember(incoming.ChannelMessageId, EmailParser.References(mail));
        if (_attachments is not null && incoming.Attachments.Count > 0) incoming = await StoreAttachmentsAsync(incoming, mail, ct).ConfigureAwait(false);
        var receipt = await _inbox.ReceiveAsync(incoming, ct).ConfigureAwait(false);
        _logger.LogInformation("Email channel {Channel}: mail {MessageId} from {From} stored as inbox message {Id}{Duplicate}.", incoming.ChannelName,
            incoming.ChannelMessageId, incoming.Sender.Id, receipt.InboxMessageId, receipt.Duplicate ? " (duplicate, ignored)" : "");
    }

    /// <summary>The mail's files, streamed from their MIME parts into the attachment store when the mail is taken in (the mail
    /// is at hand then; the IMAP folder is never changed). A file the channel's limits refuse is left unstored: the inbox
    /// processor answers the sender.</summary>
    private async Task<IncomingMessage> StoreAttachmentsAsync(IncomingMessage incoming, MimeMessage mail, CancellationToken ct)
    {
        AttachmentPolicy policy;
        try { policy = _attachmentOptions.PolicyFor(await _store.FindAsync(incoming.ChannelName, ct).ConfigureAwait(false)); }
        catch (ChannelConfigurationException) { policy = _attachmentOptions.PolicyFor(null); }
        var parts = mail.Attachments.OfType<MimePart>().ToList();
        var next = 0;
        var list = new List<MessageAttachment>(incoming.Attachments.Count);
        foreach (var a in incoming.Attachments)
        {
            var index = parts.FindIndex(next, p => EmailParser.AttachmentName(p) == a.Name);
            if (index < 0 || parts[index].Content is null || a.Size > policy.MaxBytes || !policy.IsTypeAllowed(a.ContentType))
            {
                list.Add(a);
                continue;
            }
            next = index + 1;
            try
            {
                await using var content = parts[index].Content!.Open(); // decoded (base64, quoted-printable) as it is read
                var stored = await _attachments!.SaveAsync(content, a.Name, a.ContentType, incoming.ChannelName, policy, ct).ConfigureAwait(false);
                list.Add(a with { BlobReference = AttachmentStoreUrls.Scheme + stored.Id, Size = stored.Size });
            }
            catch (Exception e) when (e is AttachmentTooLargeException or AttachmentTypeNotAllowedException)
            {
                _logger.LogInformation("Email channel {Channel}: attachment {Name} of {MessageId} not stored: {Error}", incoming.ChannelName, a.Name, incoming.ChannelMessageId, e.Message);
                list.Add(a);
            }
        }
        return incoming with { Attachments = list };
    }

    private async Task StopListenerAsync(string name)
    {
        Running? running;
        lock (_gate)
            if (_running.Remove(name, out running)) { }
        if (running is null) return;
        await running.Cancel.CancelAsync().ConfigureAwait(false);
        try { await running.Task.ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        running.Cancel.Dispose();
    }

    /// <summary>The checkpoint directory: <c>Platform:Messaging:Email:CheckpointDirectory</c>, else
    /// <c>{Platform:DataDirectory}/channels/email</c> (the data directory resolved against the content root; default <c>App_Data</c>).</summary>
    public static string CheckpointDirectory(IConfiguration configuration, IHostEnvironment? environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var root = environment?.ContentRootPath ?? AppContext.BaseDirectory;
        if (configuration["Platform:Messaging:Email:CheckpointDirectory"] is { Length: > 0 } configured)
            return Path.GetFullPath(Path.IsPathRooted(configured) ? configured : Path.Combine(root, configured));
        var data = configuration["Platform:DataDirectory"] is { Length: > 0 } d ? d.Trim() : "App_Data";
        return Path.GetFullPath(Path.Combine(Path.IsPathRooted(data) ? data : Path.Combine(root, data), "channels", "email"));
    }

    private sealed record Running(string Fingerprint, ImapListener Listener, CancellationTokenSource Cancel, Task Task);
}
