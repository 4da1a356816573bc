using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Platform.Engine.Runtime;

namespace Platform.Server.Security;

/// <summary>
/// Caps on open web chat sockets (issue 16, M1): at most <see cref="MaxPerIp"/> from one client address (default 50) and
/// <see cref="MaxTotal"/> in all (default 5,000) on this node, from <c>Platform:Sockets:MaxPerIp</c> and <c>Platform:Sockets:MaxTotal</c>.
/// The open sockets are the <c>chat_sockets_open</c> gauge; refusals count in <c>chat_sockets_refused_total</c>.
/// </summary>
public sealed class SocketLimits
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Sockets";
    /// <summary>The default cap per client address.</summary>
    public const int DefaultMaxPerIp = 50;
    /// <summary>The default cap in all.</summary>
    public const int DefaultMaxTotal = 5_000;

    private static readonly Meter Meter = new(EngineTelemetry.MeterName);
    private static readonly Counter<long> Refused = Meter.CreateCounter<long>("chat_sockets_refused_total",
        description: "Web chat sockets refused because a client or the node had as many open as allowed (Platform:Sockets).");

    private readonly ConcurrentDictionary<string, int> _perIp = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private int _total;

    /// <summary>Creates the caps.</summary>
    public SocketLimits(int maxPerIp, int maxTotal)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPerIp, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTotal, 1);
        MaxPerIp = maxPerIp;
        MaxTotal = maxTotal;
    }

    /// <summary>The cap per client address.</summary>
    public int MaxPerIp { get; }
    /// <summary>The cap in all.</summary>
    public int MaxTotal { get; }
    /// <summary>The sockets held now.</summary>
    public int Open => Volatile.Read(ref _total);

    /// <summary>Reads the caps from configuration.</summary>
    /// <exception cref="InvalidOperationException">A value is not a positive whole number; the message names it.</exception>
    public static SocketLimits FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return new SocketLimits(Read(configuration, "MaxPerIp", DefaultMaxPerIp), Read(configuration, "MaxTotal", DefaultMaxTotal));
    }

    /// <summary>Takes a place for a socket from <paramref name="ip"/>; null with the reason when a cap is reached. Dispose the lease when the socket closes.</summary>
    public IDisposable? TryAcquire(string ip, out string? refusal)
    {
        lock (_gate)
        {
            if (_total >= MaxTotal)
            {
                refusal = $"This server has {MaxTotal} chat connections open, its limit ({SectionName}:MaxTotal).";
                Refused.Add(1);
                return null;
            }
            var mine = _perIp.GetValueOrDefault(ip);
            if (mine >= MaxPerIp)
            {
                refusal = $"Your address has {MaxPerIp} chat connections open, the limit per address ({SectionName}:MaxPerIp). Close one and try again.";
                Refused.Add(1);
                return null;
            }
            _perIp[ip] = mine + 1;
            _total++;
        }
        refusal = null;
        return new Lease(this, ip);
    }

    private void Release(string ip)
    {
        lock (_gate)
        {
            _total--;
            var left = _perIp.GetValueOrDefault(ip) - 1;
            if (left <= 0) _perIp.TryRemove(ip, out _);
            else _perIp[ip] = left;
        }
    }

    private static int Read(IConfiguration configuration, string key, int fallback)
    {
        var text = configuration[$"{SectionName}:{key}"];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value
            : throw new InvalidOperationException($"{SectionName}:{key} is '{text}'; use a positive whole number (default {fallback}).");
    }

    private sealed class Lease(SocketLimits owner, string ip) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.Release(ip);
        }
    }
}

/// <summary>Holds a <see cref="SocketLimits"/> place for each web chat WebSocket request; refuses with 429 and <c>Retry-After</c> over a cap.</summary>
public sealed class SocketLimitsMiddleware(RequestDelegate next, SocketLimits limits, ILogger<SocketLimitsMiddleware> logger)
{
    /// <summary>Runs the request, holding a place while the socket is open.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/ws", StringComparison.OrdinalIgnoreCase)
            || !string.Equals(context.Request.Headers.Upgrade.ToString(), "websocket", StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }
        var ip = AuditMiddleware.ClientIp(context) ?? "unknown";
        using var lease = limits.TryAcquire(ip, out var refusal);
        if (lease is null)
        {
            logger.LogWarning("Chat socket from {Ip} refused: {Reason}", ip, refusal);
            context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = "5";
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests, Title = "Too many chat connections.",
                    Detail = refusal + " Operators can raise the caps under " + SocketLimits.SectionName + " (see docs/security.md).",
                },
            });
            return;
        }
        await next(context);
    }
}
