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
