namespace Platform.Channels;

/// <summary>How a send ended.</summary>
public enum SendStatus
{
    /// <summary>Every part was accepted by the service.</summary>
    Sent,

    /// <summary>Worth retrying: 429 (see <see cref="SendResult.RetryAfter"/>), 408, 5xx, a timeout or a network error.</summary>
    RetryableFailure,

    /// <summary>Retrying will not help: 4xx from the service (bad token, unknown chat, invalid text…) or a message the
    /// channel cannot carry. <see cref="SendResult.Error"/> has the service's error text.</summary>
    PermanentFailure,
}

/// <summary>The outcome of <see cref="IChannelSender.SendAsync"/>.</summary>
public sealed record SendResult
{
    /// <summary>The outcome.</summary>
    public required SendStatus Status { get; init; }

    /// <summary>The channel's ids of the messages it created, one per delivered part, in order.</summary>
    public IReadOnlyList<string> ChannelMessageIds { get; init; } = [];

    /// <summary>The error text (the service's own where it gave one), or null on success.</summary>
    public string? Error { get; init; }

    /// <summary>The service's error code (<c>invalid_auth</c>, <c>21211</c>, <c>400</c>…), if any.</summary>
    public string? ErrorCode { get; init; }

    /// <summary>The HTTP status of the failing call, if there was one.</summary>
    public int? HttpStatusCode { get; init; }

    /// <summary>How long to wait before retrying, when the service said (429 <c>Retry-After</c>).</summary>
    public TimeSpan? RetryAfter { get; init; }

    /// <summary>Parts delivered so far, counting the ones skipped through <see cref="OutgoingMessage.SkipParts"/>.
    /// Pass it back as <c>SkipParts</c> when retrying.</summary>
    public int PartsDelivered { get; init; }

    /// <summary>How many parts the message was split into.</summary>
    public int TotalParts { get; init; }

    /// <summary>True when <see cref="Status"/> is <see cref="SendStatus.Sent"/>.</summary>
    public bool IsSuccess => Status == SendStatus.Sent;

    /// <summary>True when <see cref="Status"/> is <see cref="SendStatus.RetryableFailure"/>.</summary>
    public bool IsRetryable => Status == SendStatus.RetryableFailure;

    /// <summary>A permanent failure that happened before anything was sent.</summary>
    public static SendResult Permanent(string error, string? errorCode = null) =>
        new() { Status = SendStatus.PermanentFailure, Error = error, ErrorCode = errorCode };

    /// <inheritdoc />
    public override string ToString() => Status switch
    {
        SendStatus.Sent => $"Sent ({TotalParts} part(s)): {string.Join(", ", ChannelMessageIds)}",
        _ => $"{Status} (HTTP {HttpStatusCode?.ToString() ?? "-"}, code {ErrorCode ?? "-"}"
             + (RetryAfter is { } wait ? $", retry after {wait.TotalSeconds:0.###} s" : "")
             + $", {PartsDelivered}/{TotalParts} part(s) delivered): {Error}",
    };
}

/// <summary>Sends messages on one configured channel.</summary>
public interface IChannelSender
{
    /// <summary>The channel kind.</summary>
    ChannelKind Kind { get; }

    /// <summary>The configured channel name.</summary>
    string ChannelName { get; }

    /// <summary>
    /// Renders <paramref name="message"/> into the channel's format, splits it where the channel has a length limit
    /// and sends it to <paramref name="recipient"/> (Telegram chat id, Slack channel id, E.164 phone number…).
    /// Never throws for service or network failures: they come back as a <see cref="SendResult"/>. Throws
    /// <see cref="OperationCanceledException"/> only when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default);
}
