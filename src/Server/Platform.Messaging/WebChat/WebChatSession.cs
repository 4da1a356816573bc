using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Platform.Channels;
using Platform.Engine.Contracts;
using Platform.Engine.Models;

namespace Platform.Messaging.WebChat;

/// <summary>Timings of the chat socket (tests shorten them).</summary>
public sealed class WebChatOptions
{
    /// <summary>How often the server sends <c>{type:"ping"}</c>.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long after the visitor's message the first <c>{type:"typing"}</c> is sent if no reply has arrived yet. Quick replies
    /// (most of them) then show no indicator at all and cost no check of the inbox; slower ones show it soon enough.
    /// </summary>
    public TimeSpan TypingDelay { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>How often <c>{type:"typing"}</c> repeats while a workflow handles the visitor's message.</summary>
    public TimeSpan TypingInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long at most the typing indicator is kept up for one message.</summary>
    public TimeSpan TypingLimit { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How many earlier replies a reconnecting client gets at most.</summary>
    public int ReplayLimit { get; set; } = 200;
}

/// <summary>
/// One chat socket: the protocol of docs/channels.md ("Web chat"). Client frames: <c>message</c> (id, text), <c>typing</c>,
/// <c>read</c> (id), <c>ping</c>; server frames: <c>welcome</c> (conversation, token, resumed), <c>message</c>,
/// <c>delivered</c> (id, after the message is stored in the inbox), <c>typing</c>, <c>ping</c>, <c>pong</c>,
/// <c>error</c> (code, message). Bad frames get an error frame and the socket stays open.
/// </summary>
public sealed class WebChatSession : IWebChatClient
{
    /// <summary>The longest client frame read whole; longer frames are discarded with a <c>frame_too_large</c> error.</summary>
    public const int MaxFrameBytes = 64 * 1024;

    private const int IdleBufferBytes = 4 * 1024;

    private readonly WebSocket _socket;
    private readonly ChannelConfig _channel;
    private readonly WebChatSettings _settings;
    private readonly WebChatServices _services;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private long _replyVersion;

    private WebChatSession(WebSocket socket, ChannelConfig channel, WebChatSettings settings, WebChatServices services)
    {
        _socket = socket;
        _channel = channel;
        _settings = settings;
        _services = services;
    }

    /// <summary>The conversation's chat id.</summary>
    public string ChatId { get; private set; } = "";

    /// <summary>The conversation key.</summary>
    public string ConversationKey { get; private set; } = "";

    /// <summary>Runs the protocol on an accepted socket until the client leaves or <paramref name="ct"/> ends.</summary>
    /// <param name="socket">The accepted socket.</param>
    /// <param name="channel">The web chat channel.</param>
    /// <param name="services">The services the session uses.</param>
    /// <param name="token">The conversation token the client sent, if any.</param>
    /// <param name="lastSeen">The id of the last reply the client shows; later replies are replayed (all when null).</param>
    /// <param name="ct">Ends the session (server shutdown or the request aborted).</param>
    public static async Task RunAsync(WebSocket socket, ChannelConfig channel, WebChatServices services, string? token, string? lastSeen, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(services);
        var session = new WebChatSession(socket, channel, WebChatSettings.From(channel), services);
        MessagingTelemetry.ChatSocketOpened();
        try
        {
            await session.RunAsync(token, lastSeen, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            services.Logger.LogDebug("Chat socket of {Conversation} ended: {Reason}", session.ConversationKey, e.Message);
        }
        finally
        {
            MessagingTelemetry.ChatSocketClosed();
            session._sendLock.Dispose();
        }
    }

    private async Task RunAsync(string? token, string? lastSeen, CancellationToken ct)
    {
        var resumed = false;
        if (!string.IsNullOrEmpty(token))
        {
            if (_services.Tokens.TryRead(_channel.Name, token, _settings.TokenLifetime, out var chat, out var expired))
            {
                ChatId = chat;
                resumed = true;
            }
            else if (expired)
            {
                _services.Logger.LogInformation("Chat on {Channel}: an expired conversation token was sent; starting a new conversation.", _channel.Name);
                await SendAsync(WebChatFrames.Error("expired_token",
                    "The conversation has not been used for longer than this chat keeps conversations. A new conversation was started."), ct)
                    .ConfigureAwait(false);
            }
            else
            {
                _services.Logger.LogInformation("Chat on {Channel}: an invalid conversation token was sent; starting a new conversation.", _channel.Name);
                await SendAsync(WebChatFrames.Error("invalid_token",
                    "The conversation token is not valid here (another channel, a changed server key, or a modified token). A new conversation was started."), ct)
                    .ConfigureAwait(false);
            }
        }
        if (!resumed) ChatId = WebChatTokens.NewChatId();
        ConversationKey = new ConversationId(ChannelKind.WebChat, _channel.Name, ChatId).ToString();

        using var registration = _services.Connections.Register(ConversationKey, this);
        await SendAsync(new JsonObject
        {
            ["type"] = "welcome", ["conversation"] = ConversationKey, ["token"] = _services.Tokens.Issue(_channel.Name, ChatId), ["resumed"] = resumed, // a fresh token: its lifetime starts again
            ["maxMessageLength"] = _settings.MaxMessageLength,
            ["maxAttachmentBytes"] = _services.PolicyFor(_channel)?.MaxBytes ?? 0, // 0: this server takes no files
        }.ToJsonString(), ct).ConfigureAwait(false);
        if (resumed) await ReplayAsync(lastSeen, ct).ConfigureAwait(false);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pinger = PingAsync(stop.Token);
        try
        {
            await ReceiveLoopAsync(stop.Token).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try { await pinger.ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException) { }
        }
    }

    private async Task ReplayAsync(string? lastSeen, CancellationToken ct)
    {
        var page = await _services.Outbox.ListAsync(_channel.Name, null, ConversationKey, new PageArgs(0, _services.Options.ReplayLimit), ct).ConfigureAwait(false);
        var replies = page.Items.Where(m => m.Status != OutboxStatus.DeadLettered).OrderBy(m => m.CreatedAt).ThenBy(m => m.Id, StringComparer.Ordinal).ToList();
        if (!string.IsNullOrEmpty(lastSeen) && replies.FindIndex(m => m.Id == lastSeen) is var index and >= 0) replies = replies[(index + 1)..];
        foreach (var reply in replies)
        {
            OutgoingEnvelope envelope;
            try { envelope = OutgoingEnvelope.FromJson(reply.Payload); }
            catch (JsonException) { continue; }
            await SendAsync(WebChatFrames.Message(reply.Id, envelope.ToMessage(0, reply.Id, null), reply.SentAt ?? reply.CreatedAt, replayed: true, _services.Links), ct)
                .ConfigureAwait(false);
        }
    }

    private async Task PingAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_services.Options.PingInterval, _services.Clock);
        while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            await SendAsync(WebChatFrames.Simple("ping"), ct).ConfigureAwait(false);
    }

    private async Task ReceiveLoopAsync(CancellationToken ct)
    {
        // A small buffer while the socket waits (most frames are a few hundred bytes), grown from the pool only for a
        // long frame and shrunk again after it: a 64 KiB buffer per connection would be a large-object allocation per
        // connect, and hundreds of connects then cost gen2 collections that stall every conversation.
        var buffer = ArrayPool<byte>.Shared.Rent(IdleBufferBytes);
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var length = 0;
                var tooLarge = false;
                WebSocketReceiveResult result;
                do
                {
                    if (!tooLarge && length == buffer.Length)
                    {
                        if (buffer.Length > MaxFrameBytes)
                        {
                            tooLarge = true;
                        }
                        else
                        {
                            var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxFrameBytes + 1));
                            buffer.AsSpan(0, length).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }
                    }
                    var free = tooLarge ? new ArraySegment<byte>(buffer, 0, buffer.Length) : new ArraySegment<byte>(buffer, length, buffer.Length - length);
                    result = await _socket.ReceiveAsync(free, ct).ConfigureAwait(false);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await CloseAsync(WebSocketCloseStatus.NormalClosure, "bye").ConfigureAwait(false);
                        return;
                    }
                    if (!tooLarge) length += result.Count;
                    if (length > MaxFrameBytes) tooLarge = true;
                }
                while (!result.EndOfMessage);

                var text = tooLarge || result.MessageType == WebSocketMessageType.Binary ? "" : Encoding.UTF8.GetString(buffer, 0, length);
                if (buffer.Length > IdleBufferBytes)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = ArrayPool<byte>.Shared.Rent(IdleBufferBytes);
                }

                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    await SendAsync(WebChatFrames.Error("binary_not_supported", "Send JSON text frames, for example {\"type\":\"message\",\"id\":\"1\",\"text\":\"hello\"}."), ct)
                        .ConfigureAwait(false);
                    continue;
                }
                if (tooLarge)
                {
                    _services.Logger.LogInformation("Chat socket of {Conversation}: a frame over {Max} bytes was discarded.", ConversationKey, MaxFrameBytes);
                    await SendAsync(WebChatFrames.Error("frame_too_large",
                        $"Frames may have at most {MaxFrameBytes} bytes and message texts {_settings.MaxMessageLength} characters; the frame was discarded."), ct)
                        .ConfigureAwait(false);
                    continue;
                }
                await HandleFrameAsync(text, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task HandleFrameAsync(string text, CancellationToken ct)
    {
        JsonObject? frame;
        try { frame = JsonNode.Parse(text) as JsonObject; }
        catch (JsonException) { frame = null; }
        if (frame is null)
        {
            await SendAsync(WebChatFrames.Error("bad_frame", "A frame must be a JSON object with a \"type\": message, typing, read or ping."), ct).ConfigureAwait(false);
            return;
        }
        var type = Str(frame, "type");
        switch (type)
        {
            case "message":
                using (var span = MessagingTelemetry.StartRoot("webchat message", System.Diagnostics.ActivityKind.Server))
                {
                    span?.SetTag("messaging.channel", _channel.Name);
                    await HandleMessageAsync(frame, text, ct).ConfigureAwait(false);
                }
                break;
            case "ping":
                await SendAsync(WebChatFrames.Simple("pong"), ct).ConfigureAwait(false);
                break;
            case "pong" or "typing" or "read":
                // The visitor's typing and read receipts are accepted; nothing acts on them yet.
                break;
            default:
                await SendAsync(WebChatFrames.Error("unknown_type", $"Unknown frame type '{type}'. Use message, typing, read or ping."), ct).ConfigureAwait(false);
                break;
        }
    }

    private async Task HandleMessageAsync(JsonObject frame, string raw, CancellationToken ct)
    {
        var id = Str(frame, "id");
        if (string.IsNullOrWhiteSpace(id) || id.Length > 100)
        {
            await SendAsync(WebChatFrames.Error("bad_message", "A message needs an \"id\": the client's own unique id of 1-100 characters (resending the same id never duplicates it)."), ct)
                .ConfigureAwait(false);
            return;
        }
        var text = Str(frame, "text")?.Trim() ?? "";
        var (attachments, attachmentError) = await AttachmentsAsync(frame, ct).ConfigureAwait(false);
        if (attachmentError is not null)
        {
            await SendAsync(WebChatFrames.Error("bad_attachment", attachmentError, id), ct).ConfigureAwait(false);
            return;
        }
        if (text.Length == 0 && attachments.Count == 0)
        {
            await SendAsync(WebChatFrames.Error("bad_message", "The message has no \"text\" (and no \"attachments\").", id), ct).ConfigureAwait(false);
            return;
        }
        if (text.Length > _settings.MaxMessageLength)
        {
            await SendAsync(WebChatFrames.Error("message_too_large",
                $"The message has {text.Length} characters; at most {_settings.MaxMessageLength} are accepted. Shorten it or split it.", id), ct).ConfigureAwait(false);
            return;
        }

        var message = new IncomingMessage
        {
            ChannelKind = ChannelKind.WebChat, ChannelName = _channel.Name, ChannelMessageId = $"{ChatId}:{id}",
            Conversation = new ConversationId(ChannelKind.WebChat, _channel.Name, ChatId), Sender = new ChannelUser(ChatId, Str(frame, "name")),
            Text = text, Attachments = attachments, ReceivedAt = _services.Clock.GetUtcNow(), RawPayload = raw,
            Metadata = new Dictionary<string, string> { ["webchat.clientMessageId"] = id },
        };
        var replies = Interlocked.Read(ref _replyVersion);
        var receipt = await _services.Inbox.ReceiveAsync(message, ct).ConfigureAwait(false);
        await SendAsync(new JsonObject { ["type"] = "delivered", ["id"] = id, ["duplicate"] = receipt.Duplicate }.ToJsonString(), ct).ConfigureAwait(false);
        if (!receipt.Duplicate) _ = TypingAsync(receipt.InboxMessageId, replies, ct);
    }

    /// <summary>The most files one message may carry.</summary>
    public const int MaxAttachmentsPerMessage = 10;

    /// <summary>The files of a message frame: <c>"attachments": ["&lt;file&gt;", …]</c>, each the <c>file</c> token that
    /// <c>POST /chat/upload</c> answered (the file is already in the attachment store).</summary>
    private async Task<(List<MessageAttachment> Attachments, string? Error)> AttachmentsAsync(JsonObject frame, CancellationToken ct)
    {
        var list = new List<MessageAttachment>();
        if (frame["attachments"] is null) return (list, null);
        if (frame["attachments"] is not JsonArray array || array.Count > MaxAttachmentsPerMessage)
            return (list, $"\"attachments\" must be a list of at most {MaxAttachmentsPerMessage} file tokens, each as answered by POST /chat/upload.");
        if (array.Count > 0 && (_services.Links is null || _services.Store is null))
            return (list, "This server does not take files in the chat.");
        foreach (var node in array)
        {
            var token = node is JsonValue v && v.TryGetValue<string>(out var t) ? t : node is JsonObject o ? Str(o, "file") : null;
            if (!_services.Links!.TryRead(token, out var fileId) || await _services.Store!.FindAsync(fileId, ct).ConfigureAwait(false) is not { } stored)
                return (list, "A file of the message is unknown or its link expired: upload it again with POST /chat/upload.");
            list.Add(new MessageAttachment
            {
                Name = stored.Name, ContentType = stored.ContentType, Size = stored.Size, BlobReference = AttachmentStoreUrls.Scheme + stored.Id,
            });
        }
        return (list, null);
    }

    /// <summary>Shows the typing indicator while the message is being handled: until it is processed, a reply arrives, or the limit.</summary>
    private async Task TypingAsync(string inboxMessageId, long replies, CancellationToken ct)
    {
        try
        {
            var until = _services.Clock.GetUtcNow() + _services.Options.TypingLimit;
            if (_services.Options.TypingDelay > TimeSpan.Zero)
                await Task.Delay(_services.Options.TypingDelay, _services.Clock, ct).ConfigureAwait(false);
            while (!ct.IsCancellationRequested && Interlocked.Read(ref _replyVersion) == replies && _services.Clock.GetUtcNow() < until)
            {
                var row = await _services.InboxStore.FindAsync(inboxMessageId, ct).ConfigureAwait(false);
                if (row is null || row.Status != InboxStatus.Received) return;
                await SendAsync(WebChatFrames.Simple("typing"), ct).ConfigureAwait(false);
                await Task.Delay(_services.Options.TypingInterval, _services.Clock, ct).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The socket closed; nothing to show anymore.
        }
    }

    /// <inheritdoc />
    public async Task SendAsync(string json, CancellationToken ct = default)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_socket.State == WebSocketState.Open)
                await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <inheritdoc />
    public void OnReplyPushed() => Interlocked.Increment(ref _replyVersion);

    private async Task CloseAsync(WebSocketCloseStatus status, string description)
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseOutputAsync(status, description, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    private static string? Str(JsonObject json, string key) =>
        json[key] is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number ? v.ToString() : null;
}

/// <summary>What a chat session needs, resolved once.</summary>
public sealed class WebChatServices(MessageInbox inbox, IInboxStore inboxStore, IOutboxStore outbox, WebChatConnections connections, WebChatTokens tokens,
    TimeProvider clock, Microsoft.Extensions.Options.IOptions<WebChatOptions> options, ILogger<WebChatSession> logger,
    IAttachmentStore? store = null, AttachmentOptions? attachmentOptions = null, AttachmentLinks? links = null)
{
    /// <summary>The attachment store (visitors' uploads), or null when the server has none.</summary>
    public IAttachmentStore? Store { get; } = store;

    /// <summary>Signed links to stored attachments.</summary>
    public AttachmentLinks? Links { get; } = links;

    /// <summary>The attachment limits of <paramref name="channel"/>, or null when the server takes no files.</summary>
    public AttachmentPolicy? PolicyFor(ChannelConfig channel)
    {
        if (Store is null || Links is null) return null;
        try { return (attachmentOptions ?? new AttachmentOptions()).PolicyFor(channel); }
        catch (ChannelConfigurationException) { return null; }
    }

    /// <summary>Stores incoming messages.</summary>
    public MessageInbox Inbox { get; } = inbox;

    /// <summary>Reads the processing state of stored messages (typing indicator).</summary>
    public IInboxStore InboxStore { get; } = inboxStore;

    /// <summary>Lists replies for the replay.</summary>
    public IOutboxStore Outbox { get; } = outbox;

    /// <summary>The sockets.</summary>
    public WebChatConnections Connections { get; } = connections;

    /// <summary>Conversation tokens.</summary>
    public WebChatTokens Tokens { get; } = tokens;

    /// <summary>The clock.</summary>
    public TimeProvider Clock { get; } = clock;

    /// <summary>Timings.</summary>
    public WebChatOptions Options { get; } = options.Value;

    /// <summary>The log.</summary>
    public ILogger Logger { get; } = logger;
}
