using System.Reflection;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Channels;
using Platform.Messaging;
using Platform.Messaging.WebChat;

namespace Platform.Server.Apis;

/// <summary>
/// The web chat: the socket <c>/ws/chat?channel=web[&amp;token=…&amp;lastSeen=…]</c> (protocol in docs/channels.md), the
/// chat page <c>/chat?channel=web</c> and the embed script <c>/chat/widget.js</c>. All anonymous: visitors have no API key;
/// a conversation is reached only with its token.
/// </summary>
public static class ChatApi
{
    /// <summary>The socket path.</summary>
    public const string SocketPath = "/ws/chat";

    /// <summary>The channel used when the request names none (defined in appsettings.json).</summary>
    public const string DefaultChannel = "web";

    private static readonly Dictionary<string, (string Resource, string ContentType)> Assets = new(StringComparer.Ordinal)
    {
        ["chat.js"] = ("Platform.Server.Chat.chat.js", "text/javascript; charset=utf-8"),
        ["chat.css"] = ("Platform.Server.Chat.chat.css", "text/css; charset=utf-8"),
        ["widget.js"] = ("Platform.Server.Chat.widget.js", "text/javascript; charset=utf-8"),
    };

    /// <summary>Maps the endpoints and adds the WebSocket middleware (when <paramref name="app"/> is the application).</summary>
    public static IEndpointRouteBuilder MapChatApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app is IApplicationBuilder pipeline) pipeline.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        app.Map(SocketPath, SocketAsync).AllowAnonymous().WithTags("Web chat");
        app.MapGet("/chat", PageAsync).AllowAnonymous().WithTags("Web chat");
        app.MapPost("/chat/upload", UploadAsync).AllowAnonymous().DisableAntiforgery().WithTags("Web chat");
        app.MapGet(AttachmentLinks.Prefix + "{token}", FileAsync).AllowAnonymous().WithTags("Web chat");
        app.MapGet("/chat/{file}", Asset).AllowAnonymous().WithTags("Web chat");
        return app;
    }

    /// <summary>The chat socket. 400 when it is not a WebSocket request, 404 for an unknown channel, 403 for a foreign origin.</summary>
    public static async Task<IResult> SocketAsync(HttpContext context, ChannelHub hub, WebChatServices services, ILoggerFactory loggers,
        IHostApplicationLifetime lifetime, string? channel = null, string? token = null, string? lastSeen = null)
    {
        var logger = loggers.CreateLogger(typeof(ChatApi));
        if (!context.WebSockets.IsWebSocketRequest)
            return Problems.BadRequest("This is the web chat's WebSocket endpoint.",
                $"Open it with a WebSocket client (new WebSocket('ws://<host>{SocketPath}?channel=web')), or embed the chat with <script src=\"/chat/widget.js\" data-channel=\"web\"></script>.");
        var (config, problem) = await FindChannelAsync(hub, channel, logger, context.RequestAborted);
        if (problem is not null) return problem;
        var settings = WebChatSettings.From(config!);
        var origin = context.Request.Headers.Origin.FirstOrDefault();
        if (!settings.IsSocketOriginAllowed(origin, context.Request.Host.Value ?? ""))
        {
            logger.LogWarning("Chat socket on {Channel} refused for origin {Origin}.", config!.Name, origin);
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: $"Pages of {origin} may not open the chat of channel '{config.Name}'.",
                detail: $"Add the origin to the channel's allowedOrigins setting (comma-separated), or embed the chat with <script src=\"{ServerOrigin(context.Request)}/chat/widget.js\" data-channel=\"{config.Name}\"></script>.");
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        using var ended = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        await WebChatSession.RunAsync(socket, config!, services, token, lastSeen, ended.Token);
        return Results.Empty;
    }

    /// <summary>A visitor's file, as the answer of <c>POST /chat/upload</c>.</summary>
    /// <param name="File">The token to list in the message frame's <c>attachments</c>.</param>
    /// <param name="Name">The file name.</param>
    /// <param name="ContentType">The type.</param>
    /// <param name="Size">The size in bytes.</param>
    /// <param name="Url">A signed link to the file (see <see cref="AttachmentLinks"/>).</param>
    /// <param name="Image">True when the chat shows it inline.</param>
    public sealed record ChatUpload(string File, string Name, string ContentType, long Size, string Url, bool Image);

    /// <summary>
    /// <c>POST /chat/upload?channel=web&amp;token=&lt;conversation token&gt;&amp;name=&lt;file name&gt;</c>: a visitor's file (the raw body,
    /// its <c>Content-Type</c> the file's type) streamed into the attachment store under the channel's limits. 201 with
    /// <see cref="ChatUpload"/>; the visitor then sends <c>{"type":"message","attachments":["&lt;file&gt;"]}</c> on the socket.
    /// 400 without a conversation token, 401 with one that is not valid (or expired), 413 over the limit, 400 for a type the channel does not accept, 404 for an
    /// unknown channel.
    /// </summary>
    public static async Task<IResult> UploadAsync(HttpContext context, ChannelHub hub, WebChatServices services, WebChatTokens tokens,
        ILoggerFactory loggers, string? channel = null, string? token = null, string? name = null)
    {
        var logger = loggers.CreateLogger(typeof(ChatApi));
        var (config, problem) = await FindChannelAsync(hub, channel, logger, context.RequestAborted);
        if (problem is not null) return problem;
        var settings = WebChatSettings.From(config!);
        if (string.IsNullOrWhiteSpace(token))
            return Problems.BadRequest("The conversation token is missing.", "Send the token of the chat's welcome frame as ?token=…; files belong to a conversation.");
        if (!tokens.TryRead(config!.Name, token, settings.TokenLifetime, out _, out var expired))
        {
            logger.LogWarning("Chat upload on {Channel} refused: {Reason} conversation token.", config.Name, expired ? "an expired" : "a missing or invalid");
            return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "The conversation token is missing or not valid.",
                detail: "Send the token of the chat's welcome frame as ?token=…; open the chat again when it expired.");
        }
        if (services.PolicyFor(config) is not { } policy || services.Store is null || services.Links is null)
            return Problems.BadRequest("This server takes no files in the chat.", "Configure the attachment store (Platform:Attachments).");
        var fileName = string.IsNullOrWhiteSpace(name) ? "file" : name.Trim();
        // The server's body limit (Platform:Api:MaxRequestBodySize, 10 MB) is for requests; a file may be as large as the channel's limit.
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = policy.MaxBytes + 1024 * 1024;
        if (context.Request.ContentLength is { } declared && declared > policy.MaxBytes)
        {
            logger.LogInformation("Chat upload of {Name} on {Channel} refused: {Size} bytes, the limit is {Max}.", fileName, config.Name, declared, policy.MaxBytes);
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The file is too large.",
                detail: $"That file is too large ({InboundAttachments.FormatSize(declared)}); the limit is {InboundAttachments.FormatSize(policy.MaxBytes)}.");
        }
        try
        {
            var stored = await services.Store.SaveAsync(context.Request.Body, fileName, context.Request.ContentType ?? "application/octet-stream", config.Name, policy,
                context.RequestAborted);
            logger.LogInformation("Chat upload on {Channel}: attachment {Id} ({Size} bytes).", config.Name, stored.Id, stored.Size);
            var file = services.Links.Issue(stored.Id);
            var image = WebChatFrames.Attachments([new MessageAttachment { Name = stored.Name, ContentType = stored.ContentType, BlobReference = AttachmentStoreUrls.Scheme + stored.Id }],
                services.Links)[0]!["image"]!.GetValue<bool>();
            return TypedResults.Created(AttachmentLinks.Prefix + file, new ChatUpload(file, stored.Name, stored.ContentType, stored.Size, AttachmentLinks.Prefix + file, image));
        }
        catch (AttachmentTooLargeException e)
        {
            logger.LogInformation("Chat upload of {Name} on {Channel} refused: {Message}", fileName, config.Name, e.Message);
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "The file is too large.",
                detail: $"That file is too large (more than {InboundAttachments.FormatSize(policy.MaxBytes)}); the limit is {InboundAttachments.FormatSize(policy.MaxBytes)}.");
        }
        catch (AttachmentTypeNotAllowedException e)
        {
            logger.LogInformation("Chat upload of {Name} on {Channel} refused: {Message}", fileName, config.Name, e.Message);
            return Problems.BadRequest("This type of file is not accepted here.", e.Message);
        }
    }

    /// <summary><c>GET /chat/files/{token}</c>: a stored file by its signed link (images inline, other files as downloads); 404
    /// when the link is not genuine, expired, or the file is gone.</summary>
    public static async Task<IResult> FileAsync(string token, HttpContext context, WebChatServices services)
    {
        if (services.Links is null || services.Store is null || !services.Links.TryRead(token, out var id)
            || await services.Store.FindAsync(id, context.RequestAborted) is not { } attachment
            || await services.Store.OpenReadAsync(id, context.RequestAborted) is not { } content)
            return Problems.NotFound("This file link is not valid or has expired.", "Open the chat again: replies get fresh links when the chat reconnects.");
        var inline = attachment.ContentType.Split(';')[0].Trim().ToLowerInvariant() is "image/png" or "image/jpeg" or "image/gif" or "image/webp";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "private, max-age=3600";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        context.Response.Headers.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = attachment.Name, Inline = inline }.ToString();
        return TypedResults.Stream(content, inline ? attachment.ContentType : "application/octet-stream", enableRangeProcessing: true);
    }

    /// <summary>The chat page. Any site may frame it unless the channel lists <c>allowedOrigins</c>.</summary>
    public static async Task<IResult> PageAsync(HttpContext context, ChannelHub hub, ILoggerFactory loggers, string? channel = null)
    {
        var (config, problem) = await FindChannelAsync(hub, channel, loggers.CreateLogger(typeof(ChatApi)), context.RequestAborted);
        if (problem is not null) return problem;
        var settings = WebChatSettings.From(config!);
        var host = context.Request.Host.Value;
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = $"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
            $"connect-src 'self' ws://{host} wss://{host}; frame-ancestors {settings.FrameAncestors}; base-uri 'none'; form-action 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-cache";
        headers["Referrer-Policy"] = "no-referrer";
        var html = Read("Platform.Server.Chat.chat.html").Replace("{{channel}}", System.Net.WebUtility.HtmlEncode(config!.Name), StringComparison.Ordinal);
        return TypedResults.Content(html, "text/html; charset=utf-8");
    }

    /// <summary>The page's script and styles and the embed script.</summary>
    public static IResult Asset(string file, HttpContext context)
    {
        if (!Assets.TryGetValue(file, out var asset))
            return Problems.NotFound($"There is no chat file '{file}'.", "The chat serves /chat, /chat/widget.js, /chat/chat.js and /chat/chat.css.");
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers["Cross-Origin-Resource-Policy"] = "cross-origin";
        return TypedResults.Content(Read(asset.Resource), asset.ContentType);
    }

    private static async Task<(ChannelConfig?, IResult?)> FindChannelAsync(ChannelHub hub, string? channel, ILogger logger, CancellationToken ct)
    {
        var name = string.IsNullOrWhiteSpace(channel) ? DefaultChannel : channel.Trim();
        var runtime = EfChannelStore.IsValidName(name) ? await hub.GetAsync(name, ct) : null;
        if (runtime is null || runtime.Config.Kind != ChannelKind.WebChat || !runtime.Config.Enabled)
        {
            logger.LogWarning("Web chat for unknown or disabled channel {Channel} refused.", name);
            return (null, Problems.NotFound($"There is no enabled web chat channel '{name}'.",
                $"Use channel={DefaultChannel} (the default), or create a channel of kind WebChat with POST /api/channels."));
        }
        if (runtime.Sender is null)
        {
            logger.LogWarning("Web chat channel {Channel} is misconfigured: {Error}", name, runtime.Error);
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"Web chat channel '{name}' is not configured correctly.", detail: runtime.Error));
        }
        return (runtime.Config, null);
    }

    private static string ServerOrigin(HttpRequest request) => $"{request.Scheme}://{request.Host.Value}".ToLowerInvariant();

    private static string Read(string resource)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded chat file {resource} is missing from Platform.Server; rebuild the server.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
