using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Platform.Server.Security;

/// <summary>
/// Authenticates <c>Authorization: ApiKey &lt;key&gt;</c> against the <see cref="ApiKeyRegistry"/> and answers
/// 401/403 with ProblemDetails that say what to do.
/// </summary>
public sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRegistry registry,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The authentication scheme name (and the word before the key in the header).</summary>
    public const string SchemeName = "ApiKey";

    private const string HowToGetAKey =
        "Send the header 'Authorization: ApiKey <key>'. Keys are configured under Platform:ApiKeys (Key, Name, Role). " +
        "When none is configured, the server generated an admin key on first start: it is in the file 'admin-api-key' in the " +
        "server's data directory, and the server logs a sign-in URL (http://localhost:5000/?key=...) at start.";

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrWhiteSpace(header)) return Task.FromResult(AuthenticateResult.NoResult());

        var space = header.IndexOf(' ');
        var scheme = space < 0 ? header : header[..space];
        if (!string.Equals(scheme, SchemeName, StringComparison.OrdinalIgnoreCase))
            return Task.FromResult(AuthenticateResult.Fail($"The Authorization header uses the scheme '{Truncate(scheme)}'; this API expects 'ApiKey <key>'."));

        var identity = registry.Validate(space < 0 ? null : header[(space + 1)..]);
        if (identity is null)
        {
            Logger.LogWarning("Rejected an invalid API key from {RemoteIp} for {Method} {Path}",
                Context.Connection.RemoteIpAddress, Request.Method, Request.Path);
            return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, identity.Name), new Claim(ClaimTypes.Role, identity.Role)], SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
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
        Logger.LogWarning("Key {KeyName} ({Role}) was refused {Method} {Path}", name, role, Request.Method, Request.Path);
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "This API key may not make changes.",
                Detail = $"The key '{name}' has the role {role}, which may only read. Use a key with the role {ApiKeyRoles.Admin} " +
                         "(Platform:ApiKeys:N:Role) to create, change, run, cancel or delete.",
            },
        });
    }

    private static string Truncate(string s) => s.Length > 20 ? s[..20] + "…" : s;
}
