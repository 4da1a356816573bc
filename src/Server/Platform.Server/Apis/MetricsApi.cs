using Microsoft.AspNetCore.Authorization;
using Platform.Server.Observability;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// <c>GET /metrics</c>: Prometheus text format. A scraper sends a key of any role (<c>Authorization: ApiKey &lt;key&gt;</c>)
/// or scrapes from a network listed in <c>Platform:Metrics:AllowedNetworks</c>. The series are listed in docs/operations.md.
/// </summary>
public static class MetricsApi
{
    /// <summary>Maps the endpoint when <c>Platform:Metrics:Enabled</c> is true.</summary>
    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ServiceProvider.GetService<PlatformMetrics>() is null) return app;
        app.MapGet("/metrics", ScrapeAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> ScrapeAsync(HttpContext http, PlatformMetrics metrics, IAuthorizationService authorization, CancellationToken ct)
    {
        if (!metrics.IsAllowed(http.Connection.RemoteIpAddress)
            && !(await authorization.AuthorizeAsync(http.User, ApiPolicies.Read)).Succeeded)
            return http.User.Identity?.IsAuthenticated == true ? TypedResults.Forbid() : TypedResults.Challenge();
        http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await metrics.Registry.CollectAndExportAsTextAsync(http.Response.Body, ct);
        return TypedResults.Empty;
    }
}
