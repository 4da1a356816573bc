namespace Platform.Channels;

/// <summary>Limits on attachments, checked inbound (declared sizes) and outbound.</summary>
public sealed record AttachmentPolicy
{
    /// <summary>50 MB, the default limit.</summary>
    public const long DefaultMaxBytes = 50L * 1024 * 1024;

    /// <summary>The default policy.</summary>
    public static AttachmentPolicy Default { get; } = new();

    /// <summary>The largest attachment accepted, in bytes.</summary>
    public long MaxBytes { get; init; } = DefaultMaxBytes;

    /// <summary>Throws <see cref="AttachmentTooLargeException"/> when <paramref name="size"/> exceeds the limit.</summary>
    public void EnsureAllowed(string name, long size)
    {
        if (size > MaxBytes)
        {
            throw new AttachmentTooLargeException(name, size, MaxBytes);
        }
    }

    /// <summary>Checks every attachment whose size is known (declared size, or the bytes carried).</summary>
    public void EnsureAllowed(IEnumerable<MessageAttachment> attachments)
    {
        foreach (var attachment in attachments)
        {
            EnsureAllowed(attachment.Name, Math.Max(attachment.Size, attachment.Content?.Length ?? -1));
        }
    }
}

/// <summary>An attachment is larger than the configured limit.</summary>
public sealed class AttachmentTooLargeException(string name, long size, long maxBytes)
    : Exception($"Attachment '{name}' is {size:N0} bytes; the limit is {maxBytes:N0} bytes ({maxBytes / (1024.0 * 1024):0.##} MB). "
                + "Send a smaller file or raise the channel's MaxAttachmentBytes.")
{
    /// <summary>The attachment's name.</summary>
    public string AttachmentName { get; } = name;

    /// <summary>Its size in bytes.</summary>
    public long Size { get; } = size;

    /// <summary>The limit in bytes.</summary>
    public long MaxBytes { get; } = maxBytes;
}
