using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;
using Microsoft.AspNetCore.Mvc;
using Platform.Activities;

namespace Platform.Server.Security;

/// <summary>
/// The network policy (issue 16, part 5), read from <c>Platform:Network</c>:
/// <list type="bullet">
/// <item><c>ManagementAllowList</c>: CIDR networks or addresses that may reach the management surface (Studio pages, <c>/api</c>,
/// <c>/elsa/api</c>, <c>/hangfire</c>, <c>/metrics</c>: everything but the chat, channel endpoints, <c>/http/*</c> workflows and health
/// probes). Others get 403 naming the setting. Empty (default): no restriction.</item>
/// <item><c>Channels:{name}</c>: CIDR list per channel for its inbound endpoints (<c>/channels/{name}/…</c>, and the web chat's
/// page and socket with <c>?channel={name}</c>).</item>
/// <item><c>KnownProxies</c> (addresses) and <c>KnownNetworks</c> (CIDR): reverse proxies whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> are believed. Only when one is set are forwarded headers read at all, and then only from those.</item>
/// </list>
/// </summary>
public sealed class NetworkPolicy
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Network";

    private static readonly string[] PublicPrefixes = ["/channels", "/http", "/ws", "/chat", "/health", "/healthz", "/readyz"];

    private readonly IPNetwork[] _management;
    private readonly Dictionary<string, IPNetwork[]> _channels;

    /// <summary>Reads and validates the policy.</summary>
    /// <exception cref="InvalidOperationException">An entry is not an address or network; the message names the key.</exception>
    public NetworkPolicy(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SectionName);
        _management = Networks(section.GetSection("ManagementAllowList"));
        _channels = section.GetSection("Channels").GetChildren()
            .ToDictionary(c => c.Key, Networks, StringComparer.OrdinalIgnoreCase);
        KnownProxies = List(section.GetSection("KnownProxies")).Select(v => IPAddress.TryParse(v, out var a) ? a
            : throw new InvalidOperationException($"{SectionName}:KnownProxies: '{v}' is not an IP address. List the proxies' addresses, e.g. 10.0.0.5, or use KnownNetworks for CIDR networks.")).ToArray();
        KnownNetworks = Networks(section.GetSection("KnownNetworks"));
    }

    /// <summary>The proxies whose forwarded headers are believed.</summary>
    public IReadOnlyList<IPAddress> KnownProxies { get; }

    /// <summary>The networks whose forwarded headers are believed.</summary>
    public IReadOnlyList<IPNetwork> KnownNetworks { get; }

    /// <summary>True when forwarded headers are read (a proxy or network is configured).</summary>
    public bool TrustsProxies => KnownProxies.Count > 0 || KnownNetworks.Count > 0;

    /// <summary>True when the request's path belongs to the management surface.</summary>
    public static bool IsManagement(PathString path) =>
        !Array.Exists(PublicPrefixes, p => path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase));

    /// <summary>The setting that refuses <paramref name="context"/>'s client, or null when it may pass.</summary>
    public string? Refusal(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var path = context.Request.Path;
        var ip = context.Connection.RemoteIpAddress;
        if (IsManagement(path))
            return _management.Length == 0 || Contains(_management, ip) ? null : $"{SectionName}:ManagementAllowList";
        if (_channels.Count == 0) return null;
        var channel = ChannelOf(context);
        if (channel is null || !_channels.TryGetValue(channel, out var allowed) || allowed.Length == 0) return null;
        return Contains(allowed, ip) ? null : $"{SectionName}:Channels:{channel}";
    }

    private static string? ChannelOf(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/channels", StringComparison.OrdinalIgnoreCase, out var rest))
        {
            var segments = (rest.Value ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries);
            return segments.Length > 0 ? Uri.UnescapeDataString(segments[0]) : null;
        }
        if (path.StartsWithSegments("/ws", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/chat", StringComparison.OrdinalIgnoreCase))
            return context.Request.Query["channel"].FirstOrDefault() is { Length: > 0 } c ? c.Trim() : "web";
        return null;
    }

    private static bool Contains(IPNetwork[] networks, IPAddress? ip)
    {
        if (ip is null) return false;
        if (ip.IsIPv4MappedToIPv6) ip = ip.MapToIPv4();
        foreach (var n in networks)
            if (n.Contains(ip)) return true;
        return false;
    }

    private static IPNetwork[] Networks(IConfigurationSection section) => List(section).Select(v =>
    {
        if (IPNetwork.TryParse(v, out var network)) return network;
        if (IPAddress.TryParse(v, out var address)) return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        throw new InvalidOperationException($"{section.Path}: '{v}' is neither an IP address nor a CIDR network. Use entries such as 10.0.0.0/8, 192.168.1.0/24 or 127.0.0.1.");
    }).ToArray();

    /// <summary>Entries of a list setting: array items (<c>Key:0</c>, <c>Key:1</c>) or one comma-separated value.</summary>
    private static IEnumerable<string> List(IConfigurationSection section)
    {
        var values = section.Value is { } single ? [single] : section.GetChildren().Select(c => c.Value ?? "");
        return values.SelectMany(v => v.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
    }
}

/// <summary>Registers and applies the <see cref="NetworkPolicy"/>, forwarded headers and the socket caps.</summary>
public static class NetworkHostExtensions
{
    /// <summary>Reads <c>Platform:Network</c> and <c>Platform:Sockets</c> (fails at start on a bad entry) and configures forwarded headers.</summary>
    /// <exception cref="InvalidOperationException">A setting is not valid; the message names it.</exception>
    public static IServiceCollection AddPlatformNetwork(this IServiceCollection services, IConfiguration configuration)
    {
        var policy = new NetworkPolicy(configuration);
        services.AddSingleton(policy);
        services.AddSingleton(SocketLimits.FromConfiguration(configuration));
        if (policy.TrustsProxies)
        {
            services.Configure<ForwardedHeadersOptions>(o =>
            {
                o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
                o.KnownProxies.Clear();
                o.KnownIPNetworks.Clear();
                foreach (var p in policy.KnownProxies) o.KnownProxies.Add(p);
                foreach (var n in policy.KnownNetworks) o.KnownIPNetworks.Add(n);
                o.ForwardLimit = null; // walk the chain back to the first address that is not a known proxy
            });
        }
        return services;
    }

    /// <summary>
    /// Forwarded headers (only from known proxies), then the allow lists (403 naming the setting, audited as <c>network.denied</c>),
    /// then the web chat socket caps. Call first in the pipeline, before anything that uses the client's address.
    /// </summary>
    public static IApplicationBuilder UsePlatformNetwork(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var policy = app.ApplicationServices.GetRequiredService<NetworkPolicy>();
        if (policy.TrustsProxies) app.UseForwardedHeaders();
        app.Use(async (context, next) =>
        {
            if (policy.Refusal(context) is not { } setting)
            {
                await next(context);
                return;
            }
            var ip = AuditMiddleware.ClientIp(context);
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(NetworkPolicy))
                .LogWarning("Network policy: refused {Method} {Path} from {Ip} ({Setting})", context.Request.Method, context.Request.Path, ip, setting);
            context.RequestServices.GetService<IAuditLog>()?.Record(new AuditEntry
            {
                Action = "network.denied", ActorKind = AuditActorKinds.Anonymous, IpAddress = ip, Outcome = AuditOutcomes.Denied,
                Status = StatusCodes.Status403Forbidden, TargetType = "network",
                Details = System.Text.Json.JsonSerializer.Serialize(new { method = context.Request.Method, path = context.Request.Path.Value, setting }),
            });
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status403Forbidden, Title = "Your network address may not reach this page.",
                    Detail = $"The address {ip ?? "(unknown)"} is not in {setting}. An operator can add it (an address or a CIDR network, e.g. 10.0.0.0/8) " +
                             $"to {setting}; behind a reverse proxy, list the proxy in {NetworkPolicy.SectionName}:KnownProxies so the client's address is used.",
                },
            });
        });
        app.UseMiddleware<SocketLimitsMiddleware>();
        return app;
    }
}
