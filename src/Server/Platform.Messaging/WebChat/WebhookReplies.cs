using System.Collections.Concurrent;
using Platform.Channels;
using Platform.Channels.Webhooks;

namespace Platform.Messaging.WebChat;

/// <summary>A reply handed to a waiting synchronous webhook request instead of being POSTed to the outbound URL.</summary>
/// <param name="OutboxMessageId">The outbox message id.</param>
/// <param name="Message">The reply.</param>
public sealed record WebhookSyncReply(string OutboxMessageId, OutgoingMessage Message);

/// <summary>
/// Synchronous webhook requests (<c>POST /channels/{name}/webhook?wait=true</c>) waiting for the first reply in their
/// conversation. The webhook channel's sender (<see cref="SyncReplyWebhookSender"/>) hands a reply to a waiting request
/// and reports it sent, so it is not POSTed to the outbound URL as well. Requests wait on the node that received them;
/// a reply delivered by another node goes out to the outbound URL as usual.
/// </summary>
public sealed class WebhookReplyWaiters
{
    private readonly ConcurrentDictionary<Waiter, byte> _waiters = new();

    /// <summary>Starts waiting for a reply in <paramref name="conversationKey"/> to <paramref name="channelMessageId"/> (or to no particular message).</summary>
    public Waiter Register(string conversationKey, string channelMessageId)
    {
        var waiter = new Waiter(this, conversationKey, channelMessageId);
        _waiters.TryAdd(waiter, 0);
        return waiter;
    }

    /// <summary>Hands <paramref name="reply"/> to the requests waiting in the conversation; false when none took it.</summary>
    public bool TryHandOver(string conversationKey, WebhookSyncReply reply)
    {
        ArgumentNullException.ThrowIfNull(reply);
        var taken = false;
        foreach (var waiter in _waiters.Keys)
        {
            if (waiter.ConversationKey == conversationKey
                && (reply.Message.ReplyToChannelMessageId is null || reply.Message.ReplyToChannelMessageId == waiter.ChannelMessageId)
                && waiter.TryClaim(reply))
                taken = true;
        }
        return taken;
    }

    /// <summary>One waiting request. Dispose it when the request ends.</summary>
    public sealed class Waiter : IDisposable
    {
        private readonly WebhookReplyWaiters _owner;
        private readonly TaskCompletionSource<WebhookSyncReply> _reply = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _state; // 0 waiting, 1 got a reply, 2 gave up

        internal Waiter(WebhookReplyWaiters owner, string conversationKey, string channelMessageId)
        {
            _owner = owner;
            ConversationKey = conversationKey;
            ChannelMessageId = channelMessageId;
        }

        /// <summary>The conversation.</summary>
        public string ConversationKey { get; }

        /// <summary>The message the reply answers.</summary>
        public string ChannelMessageId { get; }

        internal bool TryClaim(WebhookSyncReply reply)
        {
            if (Interlocked.CompareExchange(ref _state, 1, 0) != 0) return false;
            _reply.TrySetResult(reply);
            return true;
        }

        /// <summary>The reply, or null after <paramref name="timeout"/> (after which no reply is taken any more).</summary>
        public async Task<WebhookSyncReply?> WaitAsync(TimeSpan timeout, TimeProvider clock, CancellationToken ct)
        {
            try
            {
                return await _reply.Task.WaitAsync(timeout, clock, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException)
            {
                // Give up, unless a reply was claimed at this very moment: then it is ours and must be answered.
                if (Interlocked.CompareExchange(ref _state, 2, 0) == 0) return null;
                return await _reply.Task.ConfigureAwait(false);
            }
        }

        /// <inheritdoc />
        public void Dispose()
        {
            Interlocked.CompareExchange(ref _state, 2, 0);
            _owner._waiters.TryRemove(this, out _);
        }
    }
}

/// <summary>
/// The webhook channel's sender with synchronous replies: a reply that a waiting request takes is answered in that request's
/// response and reported sent; every other reply is POSTed to the outbound URL by the adapter (<see cref="Inner"/>).
/// </summary>
public sealed class SyncReplyWebhookSender(IChannelSender inner, WebhookReplyWaiters waiters) : IChannelSender
{
    /// <summary>The adapter (a <see cref="WebhookChannel"/>), which also verifies and parses inbound deliveries.</summary>
    public IChannelSender Inner { get; } = inner;

    /// <inheritdoc />
    public ChannelKind Kind => Inner.Kind;

    /// <inheritdoc />
    public string ChannelName => Inner.ChannelName;

    /// <inheritdoc />
    public Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!string.IsNullOrEmpty(recipient) && message.SkipParts == 0)
        {
            var conversation = new ConversationId(ChannelKind.Webhook, ChannelName, recipient, message.ThreadId).ToString();
            var id = message.IdempotencyKey ?? Guid.CreateVersion7().ToString("N");
            if (waiters.TryHandOver(conversation, new WebhookSyncReply(id, message)))
                return Task.FromResult(new SendResult { Status = SendStatus.Sent, ChannelMessageIds = [id], PartsDelivered = 1, TotalParts = 1 });
        }
        return Inner.SendAsync(recipient, message, cancellationToken);
    }
}

/// <summary>Wraps the webhook adapter of <see cref="HttpChannelProviders"/> with <see cref="SyncReplyWebhookSender"/>.</summary>
internal sealed class SyncReplyWebhookProvider(IChannelProvider inner, WebhookReplyWaiters waiters) : IChannelProvider
{
    public ChannelKind Kind => ChannelKind.Webhook;

    public IChannelSender Create(ChannelConfig channel) => new SyncReplyWebhookSender(inner.Create(channel), waiters);
}
