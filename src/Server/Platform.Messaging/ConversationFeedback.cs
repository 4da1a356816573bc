using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Activities;
using Platform.Channels;

namespace Platform.Messaging;

/// <summary>
/// <see cref="IReplyStreams"/> over the configured channels: a conversation whose channel adapter is an
/// <see cref="IPartialReplyChannel"/> (the web chat) gets partial replies; others get none (only the final reply).
/// </summary>
public sealed class ChannelReplyStreams(ChannelHub channels, IOptions<MessagingOptions> options, TimeProvider clock, ILogger<ChannelReplyStreams> logger) : IReplyStreams
{
    /// <inheritdoc />
    public async ValueTask<bool> IsSupportedAsync(string conversationKey, CancellationToken cancellationToken = default) =>
        await ResolveAsync(conversationKey, cancellationToken).ConfigureAwait(false) is not null;

    /// <inheritdoc />
    public async ValueTask<IReplyStream?> OpenAsync(ActivityExecutionContext context, string? conversationKey = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = string.IsNullOrWhiteSpace(conversationKey) ? ConversationMemory.ConversationKeyOf(context) : conversationKey.Trim();
        if (key is null) return null;
        var target = await ResolveAsync(key, context.CancellationToken).ConfigureAwait(false);
        if (target is not { } t) return null;
        context.Properties.Remove(ReplyStreaming.PartialReplyIdProperty); // an older partial that no reply replaced is forgotten
        return new Stream(context, t.Channel, t.Conversation, options.Value.PartialReplyInterval, clock, logger);
    }

    private async Task<(IPartialReplyChannel Channel, ConversationId Conversation)?> ResolveAsync(string conversationKey, CancellationToken ct)
    {
        if (!ConversationId.TryParse(conversationKey, out var conversation)) return null;
        var runtime = await channels.GetAsync(conversation.ChannelName, ct).ConfigureAwait(false);
        return runtime is { Config.Enabled: true, Sender: IPartialReplyChannel partial } ? (partial, conversation) : null;
    }

    private sealed class Stream(ActivityExecutionContext context, IPartialReplyChannel channel, ConversationId conversation, TimeSpan interval,
        TimeProvider clock, ILogger logger) : IReplyStream
    {
        private readonly System.Text.StringBuilder _text = new();
        private DateTimeOffset _lastPush = DateTimeOffset.MinValue;
        private int _pushedLength = -1;
        private bool _ended;

        public string Id { get; } = "partial-" + Guid.CreateVersion7().ToString("N");

        public string Text => _text.ToString();

        public async Task AppendAsync(string delta, CancellationToken cancellationToken = default)
        {
            if (_ended || string.IsNullOrEmpty(delta)) return;
            _text.Append(delta);
            if (clock.GetUtcNow() - _lastPush >= interval) await PushAsync(cancellationToken).ConfigureAwait(false);
        }

        public async Task CompleteAsync(CancellationToken cancellationToken = default)
        {
            if (_ended) return;
            _ended = true;
            if (_pushedLength != _text.Length) await PushAsync(cancellationToken).ConfigureAwait(false);
            context.Properties[ReplyStreaming.PartialReplyIdProperty] = Id;
            context.AddJournalData("partialReplyId", Id);
        }

        public async Task AbortAsync(CancellationToken cancellationToken = default)
        {
            if (_ended) return;
            _ended = true;
            if (_pushedLength < 0) return; // nothing was shown
            try
            {
                await channel.DiscardPartialAsync(conversation.ChatId, conversation.ThreadId, Id, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug(e, "Discarding the partial reply {Id} in {Conversation} failed.", Id, conversation);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (!_ended) await AbortAsync(CancellationToken.None).ConfigureAwait(false);
        }

        private async Task PushAsync(CancellationToken ct)
        {
            _lastPush = clock.GetUtcNow();
            _pushedLength = _text.Length;
            try
            {
                await channel.SendPartialAsync(conversation.ChatId, conversation.ThreadId, Id, _text.ToString(), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // Partial frames are a courtesy; the final reply goes through the outbox whatever happens here.
                logger.LogDebug(e, "Pushing the partial reply {Id} to {Conversation} failed.", Id, conversation);
            }
        }
    }
}

/// <summary>
/// <see cref="ITypingIndicator"/> over the configured channels: a conversation whose adapter is an <see cref="ITypingChannel"/>
/// (Telegram, Slack, web chat) gets the indicator, repeated every <see cref="ITypingChannel.TypingRefreshInterval"/> until
/// disposed (at most <see cref="MaxDuration"/>). Other channels get nothing.
/// </summary>
public sealed class ChannelTypingIndicator(ChannelHub channels, TimeProvider clock, ILogger<ChannelTypingIndicator> logger) : ITypingIndicator
{
    /// <summary>The longest an indicator is kept up, whatever happens to its owner.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromMinutes(5);

    /// <inheritdoc />
    public async ValueTask<IAsyncDisposable> StartAsync(ActivityExecutionContext context, string? conversationKey = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var key = string.IsNullOrWhiteSpace(conversationKey) ? ConversationMemory.ConversationKeyOf(context) : conversationKey.Trim();
        if (key is null || !ConversationId.TryParse(key, out var conversation)) return Nothing.Instance;
        ChannelRuntime? runtime;
        try
        {
            runtime = await channels.GetAsync(conversation.ChannelName, context.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogDebug(e, "Typing indicator: the channel of {Conversation} could not be read.", key);
            return Nothing.Instance;
        }
        if (runtime is not { Config.Enabled: true, Sender: ITypingChannel typing }) return Nothing.Instance;
        var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        stop.CancelAfter(MaxDuration);
        var loop = Task.Run(() => LoopAsync(typing, conversation, stop.Token));
        return new Running(stop, loop);
    }

    private async Task LoopAsync(ITypingChannel channel, ConversationId conversation, CancellationToken ct)
    {
        var interval = channel.TypingRefreshInterval > TimeSpan.Zero ? channel.TypingRefreshInterval : TimeSpan.FromSeconds(4);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    if (!await channel.SendTypingAsync(conversation.ChatId, conversation.ThreadId, ct).ConfigureAwait(false))
                    {
                        logger.LogDebug("Typing indicator in {Conversation}: the channel showed none; not repeating it.", conversation);
                        return;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogDebug(e, "Typing indicator in {Conversation} failed; not repeating it.", conversation);
                    return;
                }
                await Task.Delay(interval, clock, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    private sealed class Running(CancellationTokenSource stop, Task loop) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            await stop.CancelAsync().ConfigureAwait(false);
            try { await loop.ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            stop.Dispose();
        }
    }

    private sealed class Nothing : IAsyncDisposable
    {
        public static readonly Nothing Instance = new();
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
