namespace Platform.Channels;

/// <summary>A channel adapter that can show "typing…" in a conversation (Telegram, Slack threads, web chat).</summary>
public interface ITypingChannel
{
    /// <summary>How often the indicator must be sent again to stay visible (Telegram shows it for 5 s, so every 4 s).</summary>
    TimeSpan TypingRefreshInterval { get; }

    /// <summary>Shows the indicator once. Returns false when the conversation has none here (a Slack message outside a
    /// thread) or the API refused; never throws for service or network failures.</summary>
    Task<bool> SendTypingAsync(string recipient, string? threadId, CancellationToken cancellationToken = default);
}

/// <summary>A channel adapter that can show a reply while it is being written (the web chat).</summary>
public interface IPartialReplyChannel
{
    /// <summary>Shows <paramref name="textSoFar"/> as the partial reply <paramref name="partialId"/>.</summary>
    Task SendPartialAsync(string recipient, string? threadId, string partialId, string textSoFar, CancellationToken cancellationToken = default);

    /// <summary>Removes the partial reply <paramref name="partialId"/> (the answer failed; no final reply replaces it).</summary>
    Task DiscardPartialAsync(string recipient, string? threadId, string partialId, CancellationToken cancellationToken = default);
}
