using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace Platform.Server.Security;

/// <summary>
/// Abuse limits (issue 16, M1): token buckets per client IP on the anonymous surfaces (web chat, channel webhooks and
/// callbacks, <c>/http/*</c> workflows) and per key on the API (<c>/api</c>, <c>/elsa/api</c>, the dashboard). On by default at
/// rates nobody reaches by hand; a refused request gets 429 with <c>Retry-After</c>. Each group is configured under
/// <c>Platform:RateLimits:{Anonymous|Api}</c> (<c>TokenLimit</c>, <c>TokensPerSecond</c>); <c>Platform:RateLimits:Enabled=false</c>
/// turns them off.
/// </summary>
public static class RateLimits
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:RateLimits";

    /// <summary>The settings of one group.</summary>
    /// <param name="TokenLimit">The burst: requests accepted at once from one client.</param>
    /// <param name="TokensPerSecond">The sustained rate per client.</param>
    public sealed record Bucket(int TokenLimit, int TokensPerSecond);

    /// <summary>Anonymous surfaces, per IP: bursts of 2,000 and 200 requests a second (the load benchmarks stay below).</summary>
    public static readonly Bucket DefaultAnonymous = new(2_000, 200);

    /// <summary>The API, per key (or IP without one): bursts of 2,000 and 200 requests a second.</summary>
    public static readonly Bucket DefaultApi = new(2_000, 200);

    /// <summary>Registers the limiter from configuration.</summary>
    /// <exception cref="InvalidOperationException">A value is not a positive number; the message says which.</exception>
    public static IServiceCollection AddPlatformRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(SectionName);
        if (bool.TryParse(section["Enabled"], out var enabled) && !enabled) return services;
        var anonymous = Read(section.GetSection("Anonymous"), DefaultAnonymous);
        var api = Read(section.GetSection("Api"), DefaultApi);
        services.AddRateLimiter(o =>
        {
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            {
                var (group, bucket) = GroupOf(context, anonymous, api);
                if (bucket is null) return RateLimitPartition.GetNoLimiter("none");
                var client = group == "api" && context.User.Identity?.IsAuthenticated == true
                    ? "key:" + context.User.Identity.Name
                    : "ip:" + context.Connection.RemoteIpAddress;
                return RateLimitPartition.GetTokenBucketLimiter($"{group}|{client}", _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = bucket.TokenLimit, TokensPerPeriod = bucket.TokensPerSecond, ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0, AutoReplenishment = true,
                });
            });
            o.OnRejected = async (rejected, ct) =>
            {
                var context = rejected.HttpContext;
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)) : 1;
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RateLimits))
                    .LogWarning("Rate limit: refused {Method} {Path} from {Ip} ({User}).", context.Request.Method, context.Request.Path,
                        context.Connection.RemoteIpAddress, context.User.Identity?.Name ?? "anonymous");
                await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context,
                    ProblemDetails = new Microsoft.AspNetCore.Mvc.ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests.",
                        Detail = $"This client sent more requests than allowed. Try again in {retryAfter} s. Operators can raise the limits under {SectionName} (see docs/security.md).",
                    },
                });
            };
        });
        return services;
    }

    /// <summary>Adds the limiter (after authentication, so the API is limited per key).</summary>
    public static IApplicationBuilder UsePlatformRateLimits(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.ApplicationServices.GetService<Microsoft.Extensions.Options.IOptions<RateLimiterOptions>>()?.Value.GlobalLimiter is null ? app : app.UseRateLimiter();
    }

    private static (string Group, Bucket? Bucket) GroupOf(HttpContext context, Bucket anonymous, Bucket api)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/channels") || path.StartsWithSegments("/http") || path.StartsWithSegments("/ws")
            || path.StartsWithSegments("/chat"))
            return ("anonymous", anonymous);
        if (path.StartsWithSegments("/api") || path.StartsWithSegments("/elsa/api") || path.StartsWithSegments("/hangfire"))
            return ("api", api);
        return ("none", null);
    }

    private static Bucket Read(IConfigurationSection section, Bucket fallback)
    {
        var limit = Positive(section, "TokenLimit", fallback.TokenLimit);
        var rate = Positive(section, "TokensPerSecond", fallback.TokensPerSecond);
        return new Bucket(limit, rate);
    }

    private static int Positive(IConfigurationSection section, string key, int fallback)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0 ? value
            : throw new InvalidOperationException($"{section.Path}:{key} is '{text}'; use a positive whole number (default {fallback}).");
    }
}
