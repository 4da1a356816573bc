using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Channels;
using Platform.Messaging;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Attachments under <c>/api/attachments</c>: <c>POST</c> streams a file (the raw body, up to
/// <c>Platform:Attachments:MaxBytes</c>, 50 MB by default) into the attachment store (Operator); <c>GET /{id}</c> downloads
/// it (any role). Messages refer to attachments by id and this URL, never carry their bytes.
/// </summary>
public static class AttachmentsApi
{
    /// <summary>Types shown inline by browsers; everything else downloads (<c>Content-Disposition: attachment</c>).</summary>
    private static readonly HashSet<string> InlineTypes = new(StringComparer.OrdinalIgnoreCase) { "image/png", "image/jpeg", "image/gif", "image/webp" };

    /// <summary>An attachment as answered, with its download URL.</summary>
    public sealed record AttachmentResponse(string Id, string Name, string ContentType, long Size, string Sha256, DateTimeOffset CreatedAt,
        string? Channel, string Url);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapAttachmentsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(AttachmentStoreUrls.Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Attachments");
        group.MapGet("/{id}", DownloadAsync);
        group.MapPost("/", UploadAsync).RequireAuthorization(ApiPolicies.Operate).DisableAntiforgery();
        return app;
    }

    private static AttachmentResponse ToResponse(StoredAttachment a) =>
        new(a.Id, a.Name, a.ContentType, a.Size, a.Sha256, a.CreatedAt, a.Channel, AttachmentStoreUrls.Download(a.Id));

    /// <summary>GET /api/attachments/{id}: the file, streamed (ranges supported); 404 for an unknown id.</summary>
    public static async Task<IResult> DownloadAsync(string id, IAttachmentStore store, HttpContext http, CancellationToken ct)
    {
        if (await store.FindAsync(id, ct) is not { } attachment || await store.OpenReadAsync(id, ct) is not { } content)
            return Problems.NotFound($"Attachment '{id}' was not found.", "It may have been removed by the retention job; ask the sender to send it again.");
        http.Response.Headers.XContentTypeOptions = "nosniff";
        var inline = InlineTypes.Contains(attachment.ContentType.Split(';')[0].Trim());
        http.Response.Headers.ContentDisposition = new System.Net.Mime.ContentDisposition
        {
            FileName = attachment.Name, Inline = inline,
        }.ToString();
        return TypedResults.Stream(content, inline ? attachment.ContentType : "application/octet-stream", enableRangeProcessing: true);
    }

    /// <summary>POST /api/attachments?name=&amp;channel=: the body is the file, its Content-Type the file's type. 201 with the
    /// attachment; 400 for an unknown channel or a type the channel does not accept; 413 when larger than the limit.</summary>
    public static async Task<Results<Created<AttachmentResponse>, ProblemHttpResult>> UploadAsync(string? name, string? channel, HttpContext http,
        IAttachmentStore store, AttachmentOptions options, IChannelStore channels, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger(typeof(AttachmentsApi));
        ChannelConfig? config = null;
        if (!string.IsNullOrEmpty(channel) && (config = await channels.FindAsync(channel, ct)) is null)
            return Problems.BadRequest($"Channel '{channel}' was not found.", "Leave 'channel' out, or name a channel from GET /api/channels.");
        AttachmentPolicy policy;
        try
        {
            policy = options.PolicyFor(config);
        }
        catch (ChannelConfigurationException e)
        {
            return Problems.BadRequest("The channel's attachment limits are not valid.", e.Message);
        }

        var fileName = string.IsNullOrWhiteSpace(name) ? "attachment" : name;
        if (http.Request.ContentLength is { } declared && declared > policy.MaxBytes)
        {
            logger.LogInformation("Upload of {Name} refused: {Size} bytes over the limit {Max}.", fileName, declared, policy.MaxBytes);
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The file is too large.",
                detail: new AttachmentTooLargeException(fileName, declared, policy.MaxBytes).Message);
        }

        try
        {
            var stored = await store.SaveAsync(http.Request.Body, fileName, http.Request.ContentType ?? "application/octet-stream", config?.Name, policy, ct);
            logger.LogInformation("Attachment {Id} ({Name}, {Size} bytes) stored by {User}.", stored.Id, stored.Name, stored.Size, http.User.Identity?.Name);
            return TypedResults.Created(AttachmentStoreUrls.Download(stored.Id), ToResponse(stored));
        }
        catch (AttachmentTooLargeException e)
        {
            logger.LogInformation("Upload of {Name} refused: {Message}", fileName, e.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The file is too large.", detail: e.Message);
        }
        catch (AttachmentTypeNotAllowedException e)
        {
            logger.LogInformation("Upload of {Name} refused: {Message}", fileName, e.Message);
            return Problems.BadRequest("This type of file is not accepted.", e.Message);
        }
    }
}
