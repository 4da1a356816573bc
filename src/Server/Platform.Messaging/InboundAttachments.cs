using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Platform.Activities;
using Platform.Channels;

namespace Platform.Messaging;

/// <summary>Why an incoming message's file was not taken: over the channel's size limit, or of a type it does not accept.</summary>
/// <param name="Name">The file name.</param>
/// <param name="Size">Its size in bytes (declared by the service, or what arrived before the limit stopped it).</param>
/// <param name="SizeKnown">False when the service declared no size and the download was stopped at the limit.</param>
/// <param name="MaxBytes">The limit.</param>
/// <param name="ContentType">Its type, when the type was refused.</param>
/// <param name="AllowedTypes">The accepted types, when the type was refused.</param>
public sealed record AttachmentRefusal(string Name, long Size, bool SizeKnown, long MaxBytes, string? ContentType = null, IReadOnlyList<string>? AllowedTypes = null)
{
    /// <summary>True for a file over the limit, false for a refused type.</summary>
    public bool TooLarge => AllowedTypes is null;
}

/// <summary>
/// Copies the files of an incoming message into the <see cref="IAttachmentStore"/> before a workflow sees the message, so the
/// workflow gets a stable stored copy (id, name, type, size, download URL) instead of a service URL that expires. The inbox
/// processor calls it under the message's lease, after the message was stored and the service answered (a webhook's fast
/// answer never waits for a download). Files are streamed from the channel's service (<see cref="IInboundAttachmentSource"/>)
/// or from the bytes a webhook carried, checked against the channel's limits (<see cref="AttachmentOptions.PolicyFor"/>).
/// </summary>
/// <remarks>
/// The stored ids are not written back to the inbox row: when processing is repeated (a crash before the workflow's commit, a
/// retry after a failed download), the files are fetched again and the earlier copies are left to the retention job. The
/// workflow's commit and the "processed" mark stay one transaction, so the message is still handled exactly once.
/// </remarks>
public sealed class InboundAttachments(ChannelHub channels, ILogger<InboundAttachments> logger, IAttachmentStore? store = null, AttachmentOptions? options = null)
{
    /// <summary>The message with its files stored (<see cref="MessageAttachment.BlobReference"/> <c>attachment:&lt;id&gt;</c>), or
    /// the refusal to answer the sender with. References this server cannot fetch (a webhook's URL, a channel without a
    /// download) and files the service refuses to give are kept as they are, with a warning in the log.</summary>
    /// <exception cref="AttachmentDownloadException">The service could not be reached or answered a retryable error: the
    /// processor tries the message again later.</exception>
    public async Task<(IncomingMessage Message, AttachmentRefusal? Refusal)> StoreAsync(IncomingMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(message);
        // A file the channel left out when it took the message in (e-mail parts over the limit).
        if (message.Metadata.TryGetValue(RefusedMetadataKey, out var described) && Parse(described) is { } left) return (message, left);
        if (store is null || message.Attachments.Count == 0 || message.Attachments.All(a => a.StoredId is not null)) return (message, null);
        var runtime = await channels.GetAsync(message.ChannelName, ct).ConfigureAwait(false);
        AttachmentPolicy policy;
        try { policy = (options ?? new AttachmentOptions()).PolicyFor(runtime?.Config); }
        catch (ChannelConfigurationException e)
        {
            logger.LogWarning("Channel {Channel}: {Error} The server-wide attachment limits apply.", message.ChannelName, e.Message);
            policy = (options ?? new AttachmentOptions()).PolicyFor(null);
        }
        var source = runtime?.Sender as IInboundAttachmentSource;
        var list = new List<MessageAttachment>(message.Attachments.Count);
        foreach (var a in message.Attachments)
        {
            if (a.StoredId is not null)
            {
                list.Add(a);
                continue;
            }
            if (a.Size > policy.MaxBytes) return (message, new AttachmentRefusal(a.Name, a.Size, true, policy.MaxBytes));
            if (!policy.IsTypeAllowed(a.ContentType))
                return (message, new AttachmentRefusal(a.Name, a.Size, a.Size >= 0, policy.MaxBytes, a.ContentType, policy.AllowedContentTypes));

            AttachmentDownload? download = null;
            Stream content;
            try
            {
                if (a.Content is { } bytes)
                {
                    content = MemoryMarshal.TryGetArray(bytes, out var segment) && segment.Array is not null
                        ? new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false)
                        : new MemoryStream(bytes.ToArray(), writable: false);
                }
                else if (source?.CanOpen(a) == true)
                {
                    download = await source.OpenAsync(a, policy, ct).ConfigureAwait(false);
                    content = download.Content;
                }
                else
                {
                    logger.LogInformation("Attachment '{Name}' of message {Key} is a reference this server does not fetch ({Source}); it is passed on as is.",
                        a.Name, message.DeduplicationKey, a.SourceUri);
                    list.Add(a);
                    continue;
                }

                var type = a.ContentType is "application/octet-stream" or "" && download?.ContentType is { Length: > 0 } answered ? answered : a.ContentType;
                var stored = await store.SaveAsync(content, a.Name, type, message.ChannelName, policy, ct).ConfigureAwait(false);
                logger.LogInformation("Attachment '{Name}' of message {Key} stored as {Id} ({Size} bytes).", a.Name, message.DeduplicationKey, stored.Id, stored.Size);
                list.Add(a with { BlobReference = AttachmentStoreUrls.Scheme + stored.Id, Size = stored.Size, ContentType = stored.ContentType, Content = null });
            }
            catch (AttachmentTooLargeException e)
            {
                var known = a.Size >= 0 || download?.Length is not null || download is null;
                var size = a.Size >= 0 ? a.Size : download?.Length ?? e.Size;
                logger.LogInformation("Attachment '{Name}' of message {Key} is over the limit: {Error}", a.Name, message.DeduplicationKey, e.Message);
                return (message, new AttachmentRefusal(a.Name, size, known, policy.MaxBytes));
            }
            catch (AttachmentTypeNotAllowedException)
            {
                return (message, new AttachmentRefusal(a.Name, a.Size, a.Size >= 0, policy.MaxBytes, a.ContentType, policy.AllowedContentTypes));
            }
            catch (AttachmentDownloadException e) when (!e.Retryable)
            {
                logger.LogWarning("Attachment '{Name}' of message {Key} could not be downloaded; it is passed on as a reference: {Error}",
                    a.Name, message.DeduplicationKey, e.Message);
                list.Add(a);
            }
            finally
            {
                if (download is not null) await download.DisposeAsync().ConfigureAwait(false);
            }
        }
        return (message with { Attachments = list }, null);
    }

    /// <summary>The metadata key of a file a channel left out of a message when it took it in (value: see <see cref="Describe"/>).</summary>
    public const string RefusedMetadataKey = "platform.refusedAttachment";

    /// <summary><c>size|max|name</c>: a refused file for <see cref="RefusedMetadataKey"/>.</summary>
    public static string Describe(AttachmentRefusal refusal)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        return string.Create(CultureInfo.InvariantCulture, $"{refusal.Size}|{refusal.MaxBytes}|{refusal.Name}");
    }

    private static AttachmentRefusal? Parse(string described)
    {
        var parts = described.Split('|', 3);
        return parts.Length == 3 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var size)
            && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var max)
            ? new AttachmentRefusal(parts[2], size, true, max)
            : null;
    }

    /// <summary>The reply to <paramref name="refusal"/>, in Chinese when the conversation is (the channel's <c>language</c>
    /// setting, Telegram's <c>language_code</c>, or Chinese characters in the message text), else in English.</summary>
    public static string ReplyText(AttachmentRefusal refusal, IncomingMessage message, ChannelConfig? channel, MessagingOptions options)
    {
        ArgumentNullException.ThrowIfNull(refusal);
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(options);
        var chinese = IsChinese(message, channel);
        var template = refusal.TooLarge
            ? chinese ? options.AttachmentTooLargeReplyTextZh : options.AttachmentTooLargeReplyText
            : chinese ? options.AttachmentTypeReplyTextZh : options.AttachmentTypeReplyText;
        var size = refusal.SizeKnown ? FormatSize(refusal.Size) : (chinese ? "超过 " : "more than ") + FormatSize(refusal.MaxBytes);
        return template.Replace("{name}", refusal.Name, StringComparison.Ordinal).Replace("{size}", size, StringComparison.Ordinal)
            .Replace("{max}", FormatSize(refusal.MaxBytes), StringComparison.Ordinal)
            .Replace("{type}", refusal.ContentType ?? "", StringComparison.Ordinal)
            .Replace("{allowed}", string.Join(", ", refusal.AllowedTypes ?? []), StringComparison.Ordinal);
    }

    /// <summary>A size for people: <c>62 MB</c>, <c>512 KB</c>, <c>900 bytes</c> (1 MB = 1,048,576 bytes, as the limits).</summary>
    public static string FormatSize(long bytes) => bytes switch
    {
        >= 1024 * 1024 => (bytes / (1024.0 * 1024)).ToString("0.#", CultureInfo.InvariantCulture) + " MB",
        >= 1024 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " bytes",
    };

    private static bool IsChinese(IncomingMessage message, ChannelConfig? channel)
    {
        var configured = channel?.Get("language")?.Trim().ToLowerInvariant();
        if (configured is { Length: > 0 }) return configured.StartsWith("zh", StringComparison.Ordinal);
        if (message.Metadata.TryGetValue("language", out var language) && language.Length > 0) return language.StartsWith("zh", StringComparison.OrdinalIgnoreCase);
        if (TriggeringMessage.DetectLanguage(message.Text) is { } detected) return detected == "zh";
        return message.Metadata.TryGetValue("telegram.language_code", out var code) && code.StartsWith("zh", StringComparison.OrdinalIgnoreCase);
    }
}
