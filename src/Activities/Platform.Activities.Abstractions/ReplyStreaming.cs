namespace Platform.Activities;

/// <summary>
/// Shows a reply while it is being written, on channels that can (the web chat): the text so far appears as a growing
/// "partial" bubble, and the final reply, sent afterwards through the outbox as always (Send Reply), replaces it. Channels
/// that cannot show partial replies get only the final reply. Resolve it with
/// <c>context.GetService(typeof(IReplyStreams))</c>; hosts without messaging have none.
/// </summary>
/// <remarks>
/// <para>An activity that produces an answer piece by piece (Ask Model, the AI Agent's final answer) does:</para>
/// <code>
/// var streams = context.GetService(typeof(IReplyStreams)) as IReplyStreams;
/// await using var stream = streams is null ? null : await streams.OpenAsync(context);
/// try
/// {
///     await foreach (var delta in client.StreamAsync(system, turns, user, context.CancellationToken))
///     {
///         answer.Append(delta);
///         if (stream is not null) await stream.AppendAsync(delta, context.CancellationToken);
///     }
///     if (stream is not null) await stream.CompleteAsync(context.CancellationToken); // the next Send Reply replaces the bubble
/// }
/// catch
/// {
///     if (stream is not null) await stream.AbortAsync(CancellationToken.None); // the partial bubble goes away
///     throw;
/// }
/// </code>
/// <para>The partial frames are not durable: they reach only the sockets connected to this server process, are never
/// replayed and never count as a reply. Exactly-once delivery is the final reply's, through the outbox.</para>
/// </remarks>
public interface IReplyStreams
{
    /// <summary>True when the conversation's channel can show partial replies (a web chat channel).</summary>
    /// <param name="conversationKey">The conversation, <c>kind:channel:chat[:thread]</c>.</param>
    /// <param name="cancellationToken">Cancels the look-up.</param>
    ValueTask<bool> IsSupportedAsync(string conversationKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// Opens a partial reply in the conversation the workflow answers (or <paramref name="conversationKey"/>); null when
    /// the workflow answers no conversation or its channel cannot show partial replies (then just produce the final text).
    /// </summary>
    /// <param name="context">The running activity: gives the conversation and keeps the stream id for the final reply.</param>
    /// <param name="conversationKey">Another conversation than the workflow's, or null.</param>
    ValueTask<IReplyStream?> OpenAsync(ActivityExecutionContext context, string? conversationKey = null);
}

/// <summary>One partial reply being written (see <see cref="IReplyStreams"/>). Not thread-safe: append from one task.</summary>
public interface IReplyStream : IAsyncDisposable
{
    /// <summary>The partial reply's id (the <c>id</c> of the web chat's <c>partial</c> frames; the final message's <c>replaces</c>).</summary>
    string Id { get; }

    /// <summary>The text so far.</summary>
    string Text { get; }

    /// <summary>Adds a piece of text; the channel shows the text so far (pushes are coalesced, at most one per
    /// <c>Platform:Messaging:PartialReplyInterval</c>). Failures to push are logged, never thrown.</summary>
    Task AppendAsync(string delta, CancellationToken cancellationToken = default);

    /// <summary>
    /// The text is complete: pushes it whole, and remembers the stream id in the instance (property
    /// <see cref="ReplyStreaming.PartialReplyIdProperty"/>) so that the next Send Reply of the workflow replaces the partial
    /// bubble by id. Call it before the activity completes.
    /// </summary>
    Task CompleteAsync(CancellationToken cancellationToken = default);

    /// <summary>The answer failed or was abandoned: the partial bubble is removed (a <c>partial</c> frame with
    /// <c>discarded: true</c>) and no final reply will replace it. Disposing a stream that was neither completed nor aborted aborts it.</summary>
    Task AbortAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// Shows that the assistant is working ("typing…") in a conversation while a slow step runs: Telegram
/// <c>sendChatAction</c> (<c>typing</c>, repeated every 4 s), Slack <c>assistant.threads.setStatus</c> (in threads), the web
/// chat's <c>typing</c> frame. Channels without an indicator are skipped. Resolve it with
/// <c>context.GetService(typeof(ITypingIndicator))</c>.
/// </summary>
/// <remarks>
/// <code>
/// var typing = context.GetService(typeof(ITypingIndicator)) as ITypingIndicator;
/// await using (typing is null ? null : await typing.StartAsync(context))
/// {
///     answer = await client.AskAsync(...); // the indicator is repeated until disposed
/// }
/// </code>
/// </remarks>
public interface ITypingIndicator
{
    /// <summary>
    /// Starts the indicator in the conversation the workflow answers (or <paramref name="conversationKey"/>) and keeps it up,
    /// refreshing it as the channel needs, until the result is disposed. Returns a handle that does nothing when there is no
    /// conversation or the channel has no indicator. Failures of the channel's API are logged, never thrown.
    /// </summary>
    ValueTask<IAsyncDisposable> StartAsync(ActivityExecutionContext context, string? conversationKey = null);
}

/// <summary>Names shared by the reply-streaming activities and the messaging activities.</summary>
public static class ReplyStreaming
{
    /// <summary>
    /// The instance property holding the id of a completed partial reply that no final reply has replaced yet. Send Reply
    /// puts it into its outgoing message (the web chat's <c>replaces</c>) and removes it.
    /// </summary>
    public const string PartialReplyIdProperty = "platform.partialReplyId";
}
