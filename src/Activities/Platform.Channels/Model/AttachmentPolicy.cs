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

    /// <summary>The content types accepted (<c>image/png</c>, or a family such as <c>image/*</c>); empty accepts every type.</summary>
    public IReadOnlyList<string> AllowedContentTypes { get; init; } = [];

    /// <summary>True when <paramref name="contentType"/> (parameters such as <c>; charset=</c> ignored) is accepted.</summary>
    public bool IsTypeAllowed(string? contentType)
    {
        if (AllowedContentTypes.Count == 0)
        {
            return true;
        }

        var type = (contentType ?? "").Split(';')[0].Trim();
        return type.Length > 0 && AllowedContentTypes.Any(allowed => allowed.EndsWith("/*", StringComparison.Ordinal)
            ? type.StartsWith(allowed[..^1], StringComparison.OrdinalIgnoreCase)
            : string.Equals(allowed, type, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Throws <see cref="AttachmentTypeNotAllowedException"/> when <paramref name="contentType"/> is not accepted.</summary>
    public void EnsureTypeAllowed(string name, string? contentType)
    {
        if (!IsTypeAllowed(contentType))
        {
            throw new AttachmentTypeNotAllowedException(name, contentType, AllowedContentTypes);
        }
    }

    /// <summary>Throws <see cref="AttachmentTooLargeException"/> when <paramref name="size"/> exceeds the limit.</summary>
    public void EnsureAllowed(string name, long size)
    {
        if (size > MaxBytes)
        {
            throw new AttachmentTooLargeException(name, size, MaxBytes);
        }
    }

    /// <summary>True when <paramref name="uri"/> is an absolute http or https URL (one a service can fetch itself).</summary>
    public static bool IsHttpUrl(string? uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https";

    /// <summary>Why outgoing attachments cannot be sent by a channel that sends bytes or links: one is over the limit, or
    /// one has neither bytes nor an http(s) URL. Null when all can be sent.</summary>
    public SendResult? RefuseOutgoing(IEnumerable<MessageAttachment> attachments)
    {
        var list = attachments as IReadOnlyCollection<MessageAttachment> ?? attachments.ToList();
        try
        {
            EnsureAllowed(list);
        }
        catch (AttachmentTooLargeException exception)
        {
            return SendResult.Permanent(exception.Message, "attachment_too_large");
        }

        return list.FirstOrDefault(a => a.Content is null && !IsHttpUrl(a.SourceUri)) is { } empty
            ? SendResult.Permanent($"Attachment '{empty.Name}' has neither content nor a public http(s) URL.", "attachment_empty")
            : null;
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
                + "Send a smaller file or raise the channel's maxAttachmentBytes setting (Platform:Attachments:MaxBytes for the whole server).")
{
    /// <summary>The attachment's name.</summary>
    public string AttachmentName { get; } = name;

    /// <summary>Its size in bytes.</summary>
    public long Size { get; } = size;

    /// <summary>The limit in bytes.</summary>
    public long MaxBytes { get; } = maxBytes;
}

/// <summary>An attachment's content type is not among the channel's accepted types.</summary>
public sealed class AttachmentTypeNotAllowedException(string name, string? contentType, IReadOnlyList<string> allowed)
    : Exception($"Attachment '{name}' is of type '{contentType ?? "(none)"}'; this channel accepts {string.Join(", ", allowed)}. "
                + "Send one of those types, or add the type to the channel's allowedAttachmentTypes.")
{
    /// <summary>The attachment's name.</summary>
    public string AttachmentName { get; } = name;

    /// <summary>Its content type.</summary>
    public string? ContentType { get; } = contentType;
}
