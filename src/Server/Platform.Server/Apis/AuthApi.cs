using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Activities;
using Platform.Identity;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Browser sign-in under <c>/api/auth</c> (docs/security.md): user name and password, single sign-on, the first-start link,
/// sign-out and who is signed in. The session is the HttpOnly, SameSite=Strict cookie <c>platform.auth</c>.
/// </summary>
public static class AuthApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/auth";

    /// <summary>A sign-in request (JSON or form fields <c>userName</c>, <c>password</c>).</summary>
    public sealed record SignInBody(string? UserName, string? Password);

    /// <summary>Redeems the first-start link's token.</summary>
    public sealed record LinkBody(string? Token);

    /// <summary>Who is signed in.</summary>
    /// <param name="Name">The user, key or SSO name.</param>
    /// <param name="Roles">The roles (Admin, Designer, Operator, Viewer).</param>
    /// <param name="Method"><c>password</c>, <c>sso</c>, <c>link</c> or <c>apikey</c>.</param>
    public sealed record MeResponse(string Name, IReadOnlyList<string> Roles, string Method);

    /// <summary>What the sign-in page offers.</summary>
    /// <param name="Sso">Whether single sign-on is configured.</param>
    /// <param name="SsoName">The button's provider name.</param>
    /// <param name="SetupPending">True while no user account exists (the first-start link creates the first admin).</param>
    public sealed record ProvidersResponse(bool Sso, string SsoName, bool SetupPending);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).WithTags("Sign-in");
        group.MapGet("/providers", ProvidersAsync).AllowAnonymous();
        group.MapPost("/signin", SignInAsync).AllowAnonymous().DisableAntiforgery();
        group.MapPost("/signout", SignOutAsync).AllowAnonymous();
        group.MapGet("/me", Me).RequireAuthorization();
        group.MapGet("/sso", Sso).AllowAnonymous();
        group.MapPost("/link", LinkAsync).AllowAnonymous();
        group.MapPost("/setup", SetupAsync).RequireAuthorization();
        return app;
    }

    private static async Task<Ok<ProvidersResponse>> ProvidersAsync(OidcSignIn.Settings oidc, SignInLinks links, CancellationToken ct) =>
        TypedResults.Ok(new ProvidersResponse(oidc.Enabled, oidc.DisplayName, !await links.AnyUserAsync(ct)));

    /// <summary>The audit action written when wrong passwords lock an account.</summary>
    public const string LockoutAuditAction = "auth.lockout";

    private static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> SignInAsync(HttpContext context, SignInAccounts accounts, ILoggerFactory loggers)
    {
        var audit = context.RequestServices.GetService<IAuditLog>();
        var logger = loggers.CreateLogger(typeof(AuthApi));
        var request = context.Request;
        // Not CSRF-able: a page of another site can neither send JSON nor a custom header without CORS, and a form post must
        // come from this origin (the browser's Sec-Fetch-Site / Origin say so).
        if (!SignInHostExtensions.IsSameOrigin(request)
            || (request.HasFormContentType && request.Headers.Origin.Count == 0 && request.Headers["Sec-Fetch-Site"].Count == 0))
            return Problem(StatusCodes.Status403Forbidden, "Cross-site sign-in refused.", "Sign in on this server's own sign-in page (/signin).");
        SignInBody? body;
        try
        {
            if (request.HasFormContentType)
            {
                var form = await request.ReadFormAsync(context.RequestAborted);
                body = new SignInBody(form["userName"], form["password"]);
            }
            else
            {
                body = await request.ReadFromJsonAsync<SignInBody>(context.RequestAborted);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException or BadHttpRequestException)
        {
            return Problem(StatusCodes.Status400BadRequest, "The sign-in request could not be read.",
                "Send JSON {\"userName\": \"...\", \"password\": \"...\"} (Content-Type: application/json) or the same as form fields.");
        }
        if (string.IsNullOrWhiteSpace(body?.UserName) || string.IsNullOrEmpty(body.Password))
            return Problem(StatusCodes.Status400BadRequest, "User name and password are required.", "Fill in both fields (userName, password).");

        var users = accounts.Users;
        var user = await users.FindByNameAsync(body.UserName.Trim());
        var ip = context.Connection.RemoteIpAddress;
        AuditMiddleware.AddDetail(context, "userName", body.UserName.Trim()); // the audit trail names who tried, also when refused
        if (user is null)
        {
            logger.LogWarning("Sign-in failed for unknown user {User} from {Ip}", body.UserName.Trim(), ip);
            AuditMiddleware.AddDetail(context, "reason", "unknown-user");
            return WrongPassword();
        }
        if (await users.IsLockedOutAsync(user))
        {
            logger.LogWarning("Sign-in refused for locked-out user {User} from {Ip}", user.UserName, ip);
            AuditMiddleware.AddDetail(context, "reason", "locked-out");
            var until = await users.GetLockoutEndDateAsync(user);
            var minutes = until is null ? 15 : Math.Max(1, (int)Math.Ceiling((until.Value - DateTimeOffset.UtcNow).TotalMinutes));
            return Problem(StatusCodes.Status403Forbidden, "This account is locked after too many failed sign-ins.",
                $"Try again in {minutes} minute(s), or ask an Admin to reset the password on the Users page.");
        }
        if (!await users.CheckPasswordAsync(user, body.Password))
        {
            await users.AccessFailedAsync(user);
            logger.LogWarning("Sign-in failed for user {User} from {Ip} (wrong password)", user.UserName, ip);
            AuditMiddleware.AddDetail(context, "reason", "wrong-password");
            if (await users.IsLockedOutAsync(user))
            {
                // This failure locked the account: its own entry, so that lockouts can be found (action auth.lockout).
                var until = await users.GetLockoutEndDateAsync(user);
                logger.LogWarning("Locked the account {User} until {Until} after {Failures} wrong passwords in a row (last from {Ip})", user.UserName, until,
                    users.Options.Lockout.MaxFailedAccessAttempts, ip);
                audit?.Record(new AuditEntry
                {
                    Action = LockoutAuditAction, Actor = user.UserName, ActorKind = AuditActorKinds.User, IpAddress = AuditMiddleware.ClientIp(context),
                    TargetType = "users", TargetId = user.Id, Outcome = AuditOutcomes.Denied, Status = StatusCodes.Status401Unauthorized,
                    Details = JsonSerializer.Serialize(new Dictionary<string, object?>
                    {
                        ["lockedUntil"] = until, ["failedAttempts"] = users.Options.Lockout.MaxFailedAccessAttempts,
                    }),
                });
            }
            return WrongPassword();
        }
        if (user.Disabled)
        {
            logger.LogWarning("Sign-in refused for disabled user {User} from {Ip}", user.UserName, ip);
            AuditMiddleware.AddDetail(context, "reason", "disabled");
            return Problem(StatusCodes.Status403Forbidden, "This account is disabled.", "Ask an Admin to enable it on the Users page.");
        }
        await users.ResetAccessFailedCountAsync(user);
        var role = await accounts.RoleOfAsync(user);
        if (role is null)
            return Problem(StatusCodes.Status403Forbidden, "This account has no role.", "Ask an Admin to give it a role on the Users page.");
        var principal = SignInClaims.Principal(user.UserName!, [role], SignInClaims.Password, user.Id, user.SecurityStamp);
        await context.SignInAsync(SignInSchemes.Cookie, principal);
        AuditMiddleware.SetActor(context, user.UserName!, AuditActorKinds.User);
        logger.LogInformation("Signed in {User} ({Role}) with a password from {Ip}", user.UserName, role, ip);
        return TypedResults.Ok(new MeResponse(user.UserName!, [role], SignInClaims.Password));
    }

    private static async Task<NoContent> SignOutAsync(HttpContext context, ILoggerFactory loggers)
    {
        await context.SignOutAsync(SignInSchemes.Cookie);
        if (context.User.Identity?.IsAuthenticated == true)
            loggers.CreateLogger(typeof(AuthApi)).LogInformation("Signed out {User}", context.User.Identity.Name);
        return TypedResults.NoContent();
    }

    private static Ok<MeResponse> Me(ClaimsPrincipal user) => TypedResults.Ok(Describe(user));

    private static Results<ChallengeHttpResult, ProblemHttpResult> Sso(OidcSignIn.Settings oidc, string? returnUrl)
    {
        if (!oidc.Enabled)
            return Problem(StatusCodes.Status404NotFound, "Single sign-on is not configured.",
                $"Set {OidcSignIn.SectionName}:Authority, ClientId, ClientSecret and RoleMap (docs/security.md).");
        return TypedResults.Challenge(new AuthenticationProperties { RedirectUri = LocalUrl(returnUrl) }, [SignInSchemes.Oidc]);
    }

    private static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> LinkAsync(HttpContext context, LinkBody? body, SignInLinks links, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(AuthApi));
        if (!await links.RedeemAsync(body?.Token, context.RequestAborted))
        {
            logger.LogWarning("Refused a first-start sign-in link from {Ip} (unknown, used or expired, or users exist)", context.Connection.RemoteIpAddress);
            return Problem(StatusCodes.Status401Unauthorized, "This sign-in link is not valid.",
                "A first-start link works once, for 15 minutes, and only while there is no user. Restart the server for a new link " +
                "(it is written to 'first-sign-in-link' in the data directory), or sign in with your user name and password.");
        }
        var principal = SignInClaims.Principal("first-start", [PlatformRoles.Admin], SignInClaims.Link);
        await context.SignInAsync(SignInSchemes.Cookie, principal, new AuthenticationProperties { ExpiresUtc = DateTimeOffset.UtcNow.AddMinutes(15), IsPersistent = false });
        logger.LogInformation("Signed in with the first-start link from {Ip}", context.Connection.RemoteIpAddress);
        return TypedResults.Ok(Describe(principal));
    }

    private static async Task<Results<Created<MeResponse>, ProblemHttpResult>> SetupAsync(HttpContext context, SignInBody? body, SignInAccounts accounts,
        SignInLinks links, ILoggerFactory loggers)
    {
        if (context.User.FindFirstValue(SignInClaims.Method) != SignInClaims.Link)
            return Problem(StatusCodes.Status403Forbidden, "Only the first-start link can create the first admin.", "Admins create users on the Users page (/users).");
        if (await links.AnyUserAsync(context.RequestAborted))
            return Problem(StatusCodes.Status409Conflict, "The first admin exists already.", "Sign in with that user name and password.");
        if (string.IsNullOrWhiteSpace(body?.UserName) || string.IsNullOrEmpty(body.Password))
            return Problem(StatusCodes.Status400BadRequest, "User name and password are required.", "Choose a user name and a password of at least 10 characters.");
        var (user, errors) = await accounts.CreateAsync(body.UserName, body.Password, PlatformRoles.Admin);
        if (user is null)
            return Problem(StatusCodes.Status400BadRequest, "The user could not be created.", string.Join(" ", errors));
        var principal = SignInClaims.Principal(user.UserName!, [PlatformRoles.Admin], SignInClaims.Password, user.Id, user.SecurityStamp);
        await context.SignInAsync(SignInSchemes.Cookie, principal);
        loggers.CreateLogger(typeof(AuthApi)).LogInformation("Created the first admin {User} through the first-start link", user.UserName);
        return TypedResults.Created(Prefix + "/me", Describe(principal));
    }

    private static MeResponse Describe(ClaimsPrincipal user) => new(
        user.Identity?.Name ?? "",
        user.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList(),
        user.FindFirstValue(SignInClaims.Method) ?? (user.Identity?.AuthenticationType == ApiKeyAuthenticationHandler.SchemeName ? "apikey" : "unknown"));

    private static string LocalUrl(string? url) =>
        !string.IsNullOrEmpty(url) && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal) ? url : "/";

    private static ProblemHttpResult WrongPassword() => Problem(StatusCodes.Status401Unauthorized, "The user name or password is wrong.",
        "Check both and try again; after several failures in a row the account is locked for a while (15 minutes by default).");

    private static ProblemHttpResult Problem(int status, string title, string detail) => TypedResults.Problem(statusCode: status, title: title, detail: detail);
}
