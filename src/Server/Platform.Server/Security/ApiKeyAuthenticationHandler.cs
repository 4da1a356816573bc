using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Platform.Server.Security;

/// <summary>
/// Authenticates <c>Authorization: ApiKey &lt;key&gt;</c> through <see cref="ApiKeyStore.CheckAsync"/> and answers 401, 403
/// (with the role the route needs) or 429 (a locked-out address) with ProblemDetails that say what to do.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyStore keys,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The authentication scheme name (and the word before the key in the header).</summary>
    public const string SchemeName = "ApiKey";

    private const string LockedOutItem = "platform:key-lockout";

    private const string HowToGetAKey =
        "Send the header 'Authorization: ApiKey <key>'. An Admin creates keys with POST /api/keys (or the Studio's Keys page); keys can also be " +
        "configured under Platform:ApiKeys (Key, Name, Role). When none is configured, the server generated an admin key on first start: it is " +
        "in the file 'admin-api-key' in the server's data directory.";

    /// <inheritdoc />
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header)) return AuthenticateResult.NoResult();

        var space = header.IndexOf(' ');
        var scheme = space < 0 ? header : header[..space];
        if (!string.Equals(scheme, SchemeName, StringComparison.OrdinalIgnoreCase))
            return AuthenticateResult.Fail($"The Authorization header uses the scheme '{Truncate(scheme)}'; this API expects 'ApiKey <key>'.");

        var check = await keys.CheckAsync(space < 0 ? null : header[(space + 1)..], Context.Connection.RemoteIpAddress, Context.RequestAborted);
        switch (check.Outcome)
        {
            case ApiKeyCheckOutcome.Valid:
                return AuthenticateResult.Success(new AuthenticationTicket(ApiKeyStore.CreatePrincipal(check.Identity!, SchemeName), SchemeName));
            case ApiKeyCheckOutcome.LockedOut:
                Context.Items[LockedOutItem] = check.RetryAfter ?? TimeSpan.FromSeconds(1);
                return AuthenticateResult.Fail(check.Message!);
            case ApiKeyCheckOutcome.None:
                return AuthenticateResult.Fail("The Authorization header has no key after 'ApiKey'.");
            default:
                Logger.LogWarning("Rejected an API key from {RemoteIp} for {Method} {Path}: {Reason}",
                    Context.Connection.RemoteIpAddress, Request.Method, Request.Path, check.Message);
                return AuthenticateResult.Fail(check.Message ?? "The API key is not valid.");
        }
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (Context.Items[LockedOutItem] is TimeSpan wait)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = Context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status429TooManyRequests, Title = result.Failure?.Message ?? "Too many invalid API keys.",
                    Detail = $"This address is locked out for {seconds} s after too many invalid API keys; every key from it is refused until then. " +
                             $"Check the key your client sends. Operators configure the lockout under {KeyLockoutOptions.SectionName} (docs/security.md).",
                },
            });
            return;
        }
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = SchemeName;
        var title = result.Failure is null ? "An API key is required." : result.Failure.Message;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status401Unauthorized, Title = title, Detail = HowToGetAKey },
        });
    }

    /// <inheritdoc />
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        var name = Context.User.Identity?.Name ?? "this key";
        var role = Context.User.FindFirstValue(ClaimTypes.Role) ?? "none";
        var needed = RequiredRole(Context) ?? ApiKeyRoles.Admin;
        Logger.LogWarning("Key {KeyName} ({Role}) was refused {Method} {Path}, which needs {Needed}", name, role, Request.Method, Request.Path, needed);
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = $"The role {role} may not do this; it needs {needed}.",
                Detail = $"The key '{name}' has the role {role}. {Request.Method} {Request.Path} needs the role {needed} or a more privileged one " +
                         $"({string.Join(" < ", ApiKeyRoles.All)}). Ask an Admin for such a key (POST /api/keys); docs/security.md lists what each role may do.",
            },
        });
    }

    /// <summary>The least privileged role the endpoint's policies need, from its authorization metadata.</summary>
    private static string? RequiredRole(HttpContext context)
    {
        var policies = context.GetEndpoint()?.Metadata.GetOrderedMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>()
            .Select(a => a.Policy).OfType<string>().ToList();
        if (policies is null || policies.Count == 0) return null;
        return policies.Select(p => ApiPolicies.MinimumRole.GetValueOrDefault(p)).OfType<string>()
            .OrderByDescending(r => ApiKeyRoles.All.ToList().IndexOf(r)).FirstOrDefault();
    }

    private static string Truncate(string s) => s.Length > 20 ? s[..20] + "…" : s;
}
