namespace Platform.Channels;

/// <summary>Where an outgoing message stands.</summary>
/// <param name="MessageId">The outbox message id.</param>
/// <param name="Status"><c>pending</c> (queued or being retried), <c>sent</c>, <c>failed</c> (dead-lettered), or <c>unknown</c> (no such message).</param>
/// <param name="Error">Why the last attempt failed, if it did.</param>
public sealed record DeliveryStatus(string MessageId, string Status, string? Error)
{
    /// <summary>The status Send Message reports for a message handed to the outbox when it does not wait for the delivery.</summary>
    public const string Queued = "queued";
    /// <summary>The status of a message still queued or being retried.</summary>
    public const string Pending = "pending";
    /// <summary>The status of a delivered message.</summary>
    public const string Sent = "sent";
    /// <summary>The status of a dead-lettered message.</summary>
    public const string Failed = "failed";
    /// <summary>The status of a message the outbox does not know.</summary>
    public const string Unknown = "unknown";

    /// <summary>True once nothing more will happen to it (sent or failed).</summary>
    public bool IsFinal => Status is Sent or Failed or Unknown;
}

/// <summary>Reads the delivery status of outgoing messages (implemented by the message gateway over its outbox).</summary>
public interface IMessageDeliveryStatus
{
    /// <summary>The status of each message, in the order asked.</summary>
    Task<IReadOnlyList<DeliveryStatus>> GetAsync(IReadOnlyList<string> messageIds, CancellationToken cancellationToken);
}
