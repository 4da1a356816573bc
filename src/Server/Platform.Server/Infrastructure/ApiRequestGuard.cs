using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using Platform.Server.Extensions;

namespace Platform.Server.Infrastructure;

/// <summary>
/// Middleware for the API paths: enforces the body size limit (413 before reading when Content-Length is too large,
/// and while reading for chunked bodies) and logs every 4xx answer in one line.
/// </summary>
internal sealed class ApiRequestGuard(RequestDelegate next, IOptions<PlatformOptions> options, ILogger<ApiRequestGuard> logger,
    IServiceProvider services)
{
    private readonly long _apiLimit = options.Value.Api.MaxRequestBodySize > 0 ? options.Value.Api.MaxRequestBodySize : ApiOptions.DefaultMaxRequestBodySize;

    // Attachment uploads (POST /api/attachments) may be as large as Platform:Attachments:MaxBytes; the store checks the
    // channel's own limit while the body streams to disk.
    private readonly long _attachmentLimit = services.GetService<Platform.Messaging.AttachmentOptions>()?.MaxBytes ?? 0;

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsApi(context.Request.Path))
        {
            await next(context);
            return;
        }

        // An attachment upload answers an oversized file itself (413 naming the attachment limits), before reading when
        // Content-Length says so and as the bytes arrive otherwise; the margin lets its check come first.
        var upload = HttpMethods.IsPost(context.Request.Method) && context.Request.Path.StartsWithSegments(Platform.Channels.AttachmentStoreUrls.Prefix,
            StringComparison.OrdinalIgnoreCase);
        var limit = upload ? Math.Max(_apiLimit, _attachmentLimit + 1024 * 1024) : _apiLimit;
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = limit;

        if (context.Request.ContentLength > limit && !upload) throw new RequestBodyTooLargeException(limit);
        if (context.Request.ContentLength is null && context.Request.Body.CanRead)
            context.Request.Body = new LimitedReadStream(context.Request.Body, limit);

        await next(context);

        var status = context.Response.StatusCode;
        if (status is >= 400 and < 500 and not 401 and not 403)
            logger.LogInformation("{Method} {Path}{Query} answered {Status}", context.Request.Method, context.Request.Path,
                context.Request.QueryString, status);
    }

    internal static bool IsApi(PathString path) =>
        path.StartsWithSegments("/elsa/api", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase);

    /// <summary>Throws <see cref="RequestBodyTooLargeException"/> once more than the limit has been read.</summary>
    private sealed class LimitedReadStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int n)
        {
            _read += n;
            if (_read > limit) throw new RequestBodyTooLargeException(limit);
            return n;
        }
    }
}
