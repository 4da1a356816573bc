namespace Platform.Messaging;

/// <summary>Inbox and outbox tuning (<c>Platform:Messaging</c>).</summary>
public sealed class MessagingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Messaging";

    /// <summary>How many messages are processed (and how many delivered) at once; one conversation's messages go one at a time, in order.</summary>
    public int Lanes { get; set; } = 64;

    /// <summary>How long a node holds a message it processes or delivers before another node may take it over.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the database is polled for messages that other nodes left or that are due for a retry.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Delivery attempts before an outbox message is dead-lettered.</summary>
    public int MaxDeliveryAttempts { get; set; } = 8;

    /// <summary>The first retry delay; doubled on each attempt, up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest retry delay.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Processing attempts of an inbox message before it is marked failed.</summary>
    public int MaxProcessingAttempts { get; set; } = 5;

    /// <summary>The reply sent when the workflow that handled a message faulted without answering.</summary>
    public string ErrorReplyText { get; set; } = "Sorry, something went wrong on our side. Please try again in a moment.";

    /// <summary>The default of <see cref="MaxMessageLength"/>.</summary>
    public const int DefaultMaxMessageLength = 4096;

    /// <summary>
    /// The longest message text, in characters, that any channel hands to a workflow (<c>Platform:Messaging:MaxMessageLength</c>).
    /// A longer message is answered with <see cref="TooLongReplyText"/> and runs no workflow.
    /// </summary>
    public int MaxMessageLength { get; set; } = DefaultMaxMessageLength;

    /// <summary>The reply to a message over <see cref="MaxMessageLength"/>; <c>{length}</c> and <c>{max}</c> are replaced.</summary>
    public string TooLongReplyText { get; set; } =
        "Your message has {length} characters, which is more than I can read (at most {max}). Please shorten it or send it in parts.";

    /// <summary>The reply to a message whose file is over the channel's limit (no workflow runs); <c>{size}</c>, <c>{max}</c> and
    /// <c>{name}</c> are replaced.</summary>
    public string AttachmentTooLargeReplyText { get; set; } = "That file is too large ({size}); the limit is {max}. Please send a smaller file.";

    /// <summary>The same in Chinese, for conversations in Chinese.</summary>
    public string AttachmentTooLargeReplyTextZh { get; set; } = "这个文件太大了（{size}），上限是 {max}。请发送小一些的文件。";

    /// <summary>The reply to a message whose file is of a type the channel does not accept; <c>{type}</c>, <c>{allowed}</c> and
    /// <c>{name}</c> are replaced.</summary>
    public string AttachmentTypeReplyText { get; set; } = "I can't take files of type {type} here. Please send one of: {allowed}.";

    /// <summary>The same in Chinese.</summary>
    public string AttachmentTypeReplyTextZh { get; set; } = "这里不接受 {type} 类型的文件。请发送以下类型之一：{allowed}。";

    /// <summary>The metadata key that marks a message whose text was cut to <see cref="MaxMessageLength"/>; its value is the original length.</summary>
    public const string TooLongMetadataKey = "platform.textLength";

    /// <summary>
    /// The shortest time between two pushes of a streamed partial reply to the web chat (<c>Platform:Messaging:PartialReplyInterval</c>,
    /// default 50 ms): deltas arriving faster are sent together with the next push; the complete text is always pushed.
    /// </summary>
    public TimeSpan PartialReplyInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>The backoff before attempt <paramref name="attempt"/> + 1.</summary>
    public TimeSpan Backoff(int attempt)
    {
        var delay = RetryDelay * Math.Pow(2, Math.Clamp(attempt - 1, 0, 20));
        return delay > MaxRetryDelay ? MaxRetryDelay : delay;
    }
}
