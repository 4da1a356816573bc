namespace Platform.Channels;

/// <summary>What the HTTP endpoint for a channel should do with a delivery.</summary>
public enum InboundStatus
{
    /// <summary>A message to store in the inbox (<see cref="InboundResult.Message"/>); answer 2xx after storing it.</summary>
    Accepted,

    /// <summary>Authentic but nothing to process (a bot's own message, an edit, an unsupported update); answer 2xx.</summary>
    Ignored,

    /// <summary>A handshake (Slack <c>url_verification</c>); answer <see cref="InboundResult.ResponseBody"/>.</summary>
    Challenge,

    /// <summary>Refused; answer <see cref="InboundResult.HttpStatusCode"/> with <see cref="InboundResult.Error"/>,
    /// and log it.</summary>
    Rejected,
}

/// <summary>Why a delivery was refused.</summary>
public enum RejectionReason
{
    /// <summary>No signature or secret header.</summary>
    MissingSignature,

    /// <summary>The signature or secret does not match (wrong secret, tampered body, wrong URL).</summary>
    InvalidSignature,

    /// <summary>The signed timestamp is outside the allowed window.</summary>
    StaleTimestamp,

    /// <summary>This exact signed delivery was already seen.</summary>
    Replay,

    /// <summary>The body is not the expected JSON or form.</summary>
    MalformedPayload,

    /// <summary>An attachment is larger than <see cref="AttachmentPolicy.MaxBytes"/>.</summary>
    AttachmentTooLarge,
}

/// <summary>The verified and parsed result of one inbound HTTP delivery.</summary>
public sealed record InboundResult
{
    /// <summary>What to do.</summary>
    public required InboundStatus Status { get; init; }

    /// <summary>The message, when <see cref="Status"/> is <see cref="InboundStatus.Accepted"/>.</summary>
    public IncomingMessage? Message { get; init; }

    /// <summary>Why it was refused, when <see cref="Status"/> is <see cref="InboundStatus.Rejected"/>.</summary>
    public RejectionReason? Reason { get; init; }

    /// <summary>A clear explanation for rejections and ignores (safe to return to the caller and to log).</summary>
    public string? Error { get; init; }

    /// <summary>The HTTP status to answer: 200, or 400/401/413 for rejections.</summary>
    public int HttpStatusCode { get; init; } = 200;

    /// <summary>The body to answer with (the Slack challenge, Twilio's empty TwiML), or null for an empty body.</summary>
    public string? ResponseBody { get; init; }

    /// <summary>The content type of <see cref="ResponseBody"/>.</summary>
    public string? ResponseContentType { get; init; }

    /// <summary>The service's delivery attempt number when it says so (Slack <c>X-Slack-Retry-Num</c>); null on a
    /// first delivery. The inbox deduplicates on <see cref="IncomingMessage.DeduplicationKey"/> either way.</summary>
    public int? RetryNumber { get; init; }

    /// <summary>The service's reason for a retry (Slack <c>X-Slack-Retry-Reason</c>), if any.</summary>
    public string? RetryReason { get; init; }

    /// <summary>An accepted message.</summary>
    public static InboundResult Accept(IncomingMessage message, string? body = null, string? contentType = null) =>
        new() { Status = InboundStatus.Accepted, Message = message, ResponseBody = body, ResponseContentType = contentType };

    /// <summary>An authentic delivery with nothing to process.</summary>
    public static InboundResult Ignore(string why, string? body = null, string? contentType = null) =>
        new() { Status = InboundStatus.Ignored, Error = why, ResponseBody = body, ResponseContentType = contentType };

    /// <summary>A refused delivery, with the HTTP status that fits the reason.</summary>
    public static InboundResult Reject(RejectionReason reason, string error) => new()
    {
        Status = InboundStatus.Rejected,
        Reason = reason,
        Error = error,
        HttpStatusCode = reason switch
        {
            RejectionReason.MalformedPayload => 400,
            RejectionReason.AttachmentTooLarge => 413,
            _ => 401,
        },
    };
}
