using System.Net.Http.Headers;

namespace Platform.Channels;

/// <summary>
/// A channel that can fetch the files of its incoming messages from its service (Telegram <c>getFile</c>, Slack
/// <c>url_private</c> with the bot token, WhatsApp media ids, Twilio <c>MediaUrlN</c>, Discord CDN URLs). The gateway
/// streams each file into the <see cref="IAttachmentStore"/> before the workflow runs, so workflows see a stable stored
/// copy instead of a service URL that expires.
/// </summary>
public interface IInboundAttachmentSource
{
    /// <summary>True when <paramref name="attachment"/> (its <see cref="MessageAttachment.SourceUri"/>) is a file of this
    /// channel's service that <see cref="OpenAsync"/> can fetch.</summary>
    bool CanOpen(MessageAttachment attachment);

    /// <summary>Starts the download of <paramref name="attachment"/>; the caller reads <see cref="AttachmentDownload.Content"/>
    /// to the end and disposes the result. Nothing is buffered whole.</summary>
    /// <exception cref="AttachmentTooLargeException">The service declares a size over <paramref name="policy"/>'s limit.</exception>
    /// <exception cref="AttachmentDownloadException">The service refused or could not be reached.</exception>
    Task<AttachmentDownload> OpenAsync(MessageAttachment attachment, AttachmentPolicy policy, CancellationToken cancellationToken = default);
}

/// <summary>An open download of an inbound attachment: its content as a stream, and what the service says about it.</summary>
public sealed class AttachmentDownload : IAsyncDisposable, IDisposable
{
    private readonly IDisposable? _owner;

    /// <summary>Wraps <paramref name="content"/>; <paramref name="owner"/> (such as the HTTP response) is disposed with it.</summary>
    public AttachmentDownload(Stream content, string? contentType, long? length, IDisposable? owner = null)
    {
        ArgumentNullException.ThrowIfNull(content);
        Content = content;
        ContentType = contentType;
        Length = length;
        _owner = owner;
    }

    /// <summary>The bytes, read once from start to end.</summary>
    public Stream Content { get; }

    /// <summary>The content type the service answered, or null.</summary>
    public string? ContentType { get; }

    /// <summary>The length the service announced, or null.</summary>
    public long? Length { get; }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync().ConfigureAwait(false);
        _owner?.Dispose();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Content.Dispose();
        _owner?.Dispose();
    }

    /// <summary>Sends <paramref name="request"/> and opens its body as a download (headers read, body streamed). A non-2xx
    /// answer throws <see cref="AttachmentDownloadException"/> naming <paramref name="service"/>; a declared length over
    /// <paramref name="policy"/>'s limit throws <see cref="AttachmentTooLargeException"/>.</summary>
    public static async Task<AttachmentDownload> SendAsync(HttpClient http, HttpRequestMessage request, string service, string name,
        AttachmentPolicy policy, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(policy);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new AttachmentDownloadException($"{service} could not be reached to download '{name}': {e.Message}", retryable: true, e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AttachmentDownloadException($"{service} did not answer the download of '{name}' in time.", retryable: true, e);
        }

        try
        {
            var status = (int)response.StatusCode;
            if (status is < 200 or >= 300)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw new AttachmentDownloadException(
                    $"{service} answered {status} to the download of '{name}': {(body.Length > 300 ? body[..300] + "…" : body)}",
                    retryable: status is 408 or 429 or >= 500);
            }

            var length = response.Content.Headers.ContentLength;
            if (length is { } declared)
            {
                policy.EnsureAllowed(name, declared);
            }

            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new AttachmentDownload(stream, MediaType(response.Content.Headers.ContentType), length, response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    private static string? MediaType(MediaTypeHeaderValue? type) => type?.MediaType;
}

/// <summary>The service refused the download of an inbound attachment or could not be reached.</summary>
public sealed class AttachmentDownloadException(string message, bool retryable, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>True when trying again later may succeed (network, 408, 429, 5xx).</summary>
    public bool Retryable { get; } = retryable;
}
