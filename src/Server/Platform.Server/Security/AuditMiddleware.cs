using System.Net;
using System.Text.Json;
using Platform.Activities;

namespace Platform.Server.Security;

/// <summary>
/// Writes the audit trail of the management surface (<c>/api</c>, <c>/elsa/api</c>, <c>/hangfire</c>) in one place: every write
/// (POST, PUT, PATCH, DELETE) with the authenticated principal's name, the outcome and status code and the target from the route;
/// every export (a GET whose route contains <c>export</c>); and every refused credential (401 when a key was presented), with the
/// client's IP address. Runs after authentication, so it sees who asked, and around authorisation and rate limiting, so refusals
/// are recorded as <c>denied</c>.
/// </summary>
public sealed class AuditMiddleware(RequestDelegate next, IAuditLog audit)
{
    /// <summary>The action of a refused credential.</summary>
    public const string AuthFailedAction = "auth.failed";

    private static readonly string[] Surfaces = ["/api", "/elsa/api", "/hangfire"];
    private const string ActorItem = "platform.audit.actor";
    private const string DetailsItem = "platform.audit.details";

    /// <summary>
    /// Names the actor of a request that authenticates someone itself (a password or link sign-in): the request's principal
    /// is not set yet when the entry is recorded.
    /// </summary>
    public static void SetActor(HttpContext context, string name, string kind)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Items[ActorItem] = (name.Length > 200 ? name[..200] : name, kind);
    }

    /// <summary>Adds a value to the entry's details (for example the user name a failed sign-in tried).</summary>
    public static void AddDetail(HttpContext context, string key, object? value)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items[DetailsItem] is not Dictionary<string, object?> details) context.Items[DetailsItem] = details = [];
        details[key] = value is string text && text.Length > 200 ? text[..200] : value;
    }

    /// <summary>Runs the request and records it when it is audited.</summary>
    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var prefix = Array.Find(Surfaces, s => path.StartsWithSegments(s, StringComparison.OrdinalIgnoreCase));
        if (prefix is null)
        {
            await next(context);
            return;
        }
        var status = 0;
        try
        {
            await next(context);
            status = context.Response.StatusCode;
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            status = 499; // the client left
            throw;
        }
        catch
        {
            status = StatusCodes.Status500InternalServerError;
            throw;
        }
        finally
        {
            Record(context, prefix, status);
        }
    }

    private void Record(HttpContext context, string prefix, int status)
    {
        var request = context.Request;
        var method = request.Method;
        var write = HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        var export = !write && (route ?? request.Path.Value ?? "").Contains("export", StringComparison.OrdinalIgnoreCase);
        var refused = status == StatusCodes.Status401Unauthorized && PresentedCredentials(request);
        if (!write && !export && !refused) return;

        var user = context.User.Identity;
        var authenticated = user?.IsAuthenticated == true;
        var template = route is null ? request.Path.Value ?? "" : "/" + route.TrimStart('/');
        var details = new Dictionary<string, object?> { ["method"] = method, ["path"] = request.Path.Value };
        if (refused) details["scheme"] = Scheme(request);
        if (authenticated && context.User.FindFirst(ApiKeyStore.OwnerClaim)?.Value is { } keyOwner) details["keyOwner"] = keyOwner; // whose key it is
        if (context.Items[DetailsItem] is Dictionary<string, object?> extra)
            foreach (var (key, value) in extra) details[key] = value;
        var named = context.Items[ActorItem] as (string Name, string Kind)?;
        audit.Record(new AuditEntry
        {
            Action = refused ? AuthFailedAction : $"{method} {template}",
            Actor = authenticated ? user!.Name : named?.Name,
            ActorKind = authenticated || named is null ? AuditActorOf.Kind(context.User) : named.Value.Kind,
            IpAddress = ClientIp(context),
            TargetType = TargetType(request.Path, prefix),
            TargetId = TargetId(context),
            Outcome = OutcomeOf(status),
            Status = status,
            Details = JsonSerializer.Serialize(details),
        });
    }

    /// <summary>The outcome of an HTTP status code: success below 400; denied for 401, 403 and 429; failed otherwise.</summary>
    public static string OutcomeOf(int status) => status switch
    {
        > 0 and < 400 => AuditOutcomes.Success,
        StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden or StatusCodes.Status429TooManyRequests => AuditOutcomes.Denied,
        _ => AuditOutcomes.Failed,
    };

    /// <summary>The client's address as text (IPv4-mapped IPv6 addresses as IPv4), or null.</summary>
    public static string? ClientIp(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var ip = context.Connection.RemoteIpAddress;
        if (ip is null) return null;
        return (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString();
    }

    private static bool PresentedCredentials(HttpRequest request) =>
        !string.IsNullOrWhiteSpace(request.Headers.Authorization) || request.Query.ContainsKey("key")
        || request.Cookies.ContainsKey(Extensions.SchedulingHostExtensions.DashboardCookie);

    private static string Scheme(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            var space = header.IndexOf(' ');
            var scheme = space < 0 ? header : header[..space];
            return scheme.Length > 20 ? scheme[..20] : scheme;
        }
        return request.Query.ContainsKey("key") ? "query" : "cookie";
    }

    private static string? TargetType(PathString path, string prefix)
    {
        if (string.Equals(prefix, "/hangfire", StringComparison.OrdinalIgnoreCase)) return "hangfire";
        var rest = (path.Value ?? "")[prefix.Length..].Trim('/');
        var slash = rest.IndexOf('/');
        var first = slash < 0 ? rest : rest[..slash];
        return first.Length == 0 ? null : WebUtility.UrlDecode(first);
    }

    private static string? TargetId(HttpContext context)
    {
        if (context.GetEndpoint() is not RouteEndpoint endpoint) return null;
        foreach (var parameter in endpoint.RoutePattern.Parameters)
            if (context.Request.RouteValues.TryGetValue(parameter.Name, out var value) && value?.ToString() is { Length: > 0 } text)
                return text;
        return null;
    }
}

/// <summary>The audit actor kind of a principal.</summary>
public static class AuditActorOf
{
    /// <summary><c>key</c> for an API key, <c>user</c> for any other authenticated principal, <c>anonymous</c> otherwise.</summary>
    public static string Kind(System.Security.Claims.ClaimsPrincipal? principal)
    {
        var identity = principal?.Identity;
        if (identity?.IsAuthenticated != true) return AuditActorKinds.Anonymous;
        return string.Equals(identity.AuthenticationType, ApiKeyAuthenticationHandler.SchemeName, StringComparison.Ordinal) ? AuditActorKinds.Key : AuditActorKinds.User;
    }
}
