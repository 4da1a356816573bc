using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// <c>POST /api/secrets/rotate</c> (Admin only, audited): re-encrypts every stored secret (channel settings, data source
/// connection strings) under the active key <c>Platform:Secrets:ActiveKeyId</c> and answers the counts. The same as the server
/// binary's <c>rotate-secrets</c> command (docs/security.md, "Secrets and key rotation").
/// </summary>
public static class SecretsApi
{
    /// <summary>The route.</summary>
    public const string RotateRoute = "/api/secrets/rotate";

    /// <summary>Maps the endpoint.</summary>
    public static IEndpointRouteBuilder MapSecretsApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapPost(RotateRoute, RotateAsync).RequireAuthorization(ApiPolicies.Admin).WithTags("Secrets");
        return app;
    }

    /// <summary>
    /// POST /api/secrets/rotate: 200 with the counts (<see cref="SecretRotationReport"/>). Values that cannot be read (under a
    /// key that is no longer configured) are left as they are and listed in <c>problems</c>; run it again after configuring
    /// that key. Idempotent: a second call rotates nothing.
    /// </summary>
    public static async Task<Ok<SecretRotationReport>> RotateAsync(HttpContext context, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(context);
        var rotation = ActivatorUtilities.CreateInstance<SecretRotation>(context.RequestServices);
        var report = await rotation.RotateAsync(ct);
        AuditMiddleware.AddDetail(context, "activeKeyId", report.ActiveKeyId);
        AuditMiddleware.AddDetail(context, "rotated", report.Rotated);
        AuditMiddleware.AddDetail(context, "current", report.Current);
        AuditMiddleware.AddDetail(context, "unreadable", report.Unreadable);
        return TypedResults.Ok(report);
    }
}
