using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Platform.Identity;
using Platform.Persistence.EFCore;

namespace Platform.Server.Security;

/// <summary>The authentication schemes of the server.</summary>
public static class SignInSchemes
{
    /// <summary>The default scheme: <c>Authorization: ApiKey</c> goes to the API key handler, everything else to the cookie.</summary>
    public const string Selector = "Platform";

    /// <summary>The browser sign-in cookie (user name + password, single sign-on or the first-start link).</summary>
    public const string Cookie = "Platform.Cookie";

    /// <summary>Single sign-on with an OpenID Connect provider (<c>Platform:Authentication:Oidc</c>).</summary>
    public const string Oidc = "oidc";

    /// <summary>The cookie's name.</summary>
    public const string CookieName = "platform.auth";
}

/// <summary>The claims the server adds to a signed-in user besides the name and the roles.</summary>
public static class SignInClaims
{
    /// <summary>How the user signed in: <see cref="Password"/>, <see cref="Sso"/> or <see cref="Link"/> (API keys: <c>apikey</c>).</summary>
    public const string Method = "platform:signin_method";

    /// <summary>The local account's id (password sign-in).</summary>
    public const string UserId = "platform:user_id";

    /// <summary>The local account's security stamp at sign-in: a changed stamp (role, password, disabled) ends the session.</summary>
    public const string Stamp = "platform:stamp";

    /// <summary>Signed in with a user name and password.</summary>
    public const string Password = "password";

    /// <summary>Signed in through the OpenID Connect provider.</summary>
    public const string Sso = "sso";

    /// <summary>Signed in with the one-time first-start link (may only create the first admin).</summary>
    public const string Link = "link";

    /// <summary>Builds the cookie principal.</summary>
    public static ClaimsPrincipal Principal(string name, IEnumerable<string> roles, string method, string? userId = null, string? stamp = null)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name), new(Method, method) };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        if (userId is not null) claims.Add(new Claim(UserId, userId));
        if (stamp is not null) claims.Add(new Claim(Stamp, stamp));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, SignInSchemes.Cookie, ClaimTypes.Name, ClaimTypes.Role));
    }
}

/// <summary>
/// Users and browser sign-in (issue 16): ASP.NET Core Identity accounts on the platform database, the sign-in cookie, the
/// scheme selector (API key or cookie), single sign-on with OpenID Connect and the first-start link. See docs/security.md.
/// </summary>
public static class SignInHostExtensions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Authentication";

    /// <summary>
    /// Registers the identity database and stores, the cookie and, when <c>Platform:Authentication:Oidc:Authority</c> is set,
    /// OpenID Connect. Lockout: <c>Platform:Authentication:Lockout:MaxFailedAttempts</c> (5) and <c>:Duration</c> (15 min);
    /// the session: <c>Platform:Authentication:CookieLifetime</c> (8 h, sliding).
    /// </summary>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message says which and how to fix it.</exception>
    public static AuthenticationBuilder AddPlatformSignIn(this AuthenticationBuilder auth, WebApplicationBuilder builder, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var section = builder.Configuration.GetSection(SectionName);

        services.AddPlatformIdentityDatabase(PlatformDatabaseSettings.FromConfiguration(builder.Configuration, dataDirectory));
        var maxFailures = ReadInt(section, "Lockout:MaxFailedAttempts", 5);
        var lockout = ReadTimeSpan(section, "Lockout:Duration", TimeSpan.FromMinutes(15));
        var lifetime = ReadTimeSpan(section, "CookieLifetime", TimeSpan.FromHours(8));
        services.AddIdentityCore<PlatformUser>(o =>
            {
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = maxFailures;
                o.Lockout.DefaultLockoutTimeSpan = lockout;
                o.Password.RequiredLength = 10;
                o.Password.RequireNonAlphanumeric = false;
                o.User.RequireUniqueEmail = false;
                o.ClaimsIdentity.RoleClaimType = ClaimTypes.Role;
                o.ClaimsIdentity.UserNameClaimType = ClaimTypes.Name;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PlatformIdentityDbContext>()
            .AddDefaultTokenProviders();

        // The cookie is sealed with ASP.NET Core data protection; its keys live in the data directory (0700) so that a
        // restart keeps sessions. Several nodes must share that folder (or sessions stay on the node that signed in).
        services.AddDataProtection().SetApplicationName("platform")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataDirectory, "data-protection-keys")));

        services.AddScoped<SignInAccounts>();
        services.AddSingleton<SignInLinks>();
        services.AddHostedService<SignInLinkBanner>();

        auth.AddPolicyScheme(SignInSchemes.Selector, "API key or sign-in cookie", o => o.ForwardDefaultSelector = context =>
            context.Request.Headers.Authorization.Count > 0 ? ApiKeyAuthenticationHandler.SchemeName
            : ClientCertificateHostExtensions.UsesClientCertificate(context) ? ClientCertificateAuthenticationHandler.SchemeName
            : SignInSchemes.Cookie);
        auth.AddCookie(SignInSchemes.Cookie, o =>
        {
            o.Cookie.Name = SignInSchemes.CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = lifetime;
            o.SlidingExpiration = true;
            o.LoginPath = "/signin";
            o.Events.OnRedirectToLogin = context => WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized,
                "Sign in first.", "Sign in at /signin (user name and password or single sign-on), or send 'Authorization: ApiKey <key>'.");
            o.Events.OnRedirectToAccessDenied = context => WriteProblemAsync(context.HttpContext, StatusCodes.Status403Forbidden,
                "Your role may not do this.",
                $"'{context.HttpContext.User.Identity?.Name}' has the role(s) {string.Join(", ", context.HttpContext.User.FindAll(ClaimTypes.Role).Select(c => c.Value).DefaultIfEmpty("none"))}. " +
                "Ask an Admin to change your role on the Users page (/users).");
            o.Events.OnValidatePrincipal = CookieValidation.ValidateAsync;
        });
        OidcSignIn.Add(auth, builder.Configuration.GetSection(OidcSignIn.SectionName), builder.Environment);
        return auth;
    }

    /// <summary>
    /// Refuses unsafe requests (POST, PUT, PATCH, DELETE) that carry the sign-in cookie but come from another site
    /// (<c>Sec-Fetch-Site: cross-site</c> or an <c>Origin</c> of another host): the cookie is SameSite=Strict too.
    /// </summary>
    public static IApplicationBuilder UsePlatformSignInProtection(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var method = context.Request.Method;
        if (!HttpMethods.IsGet(method) && !HttpMethods.IsHead(method) && !HttpMethods.IsOptions(method)
            && context.Request.Cookies.ContainsKey(SignInSchemes.CookieName) && !IsSameOrigin(context.Request))
        {
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SignInHostExtensions))
                .LogWarning("Refused a cross-site {Method} {Path} with the sign-in cookie (Origin {Origin})", method, context.Request.Path,
                    context.Request.Headers.Origin.ToString());
            await WriteProblemAsync(context, StatusCodes.Status403Forbidden, "Cross-site request refused.",
                "Requests that change something must come from this server's own pages. Open the Studio on this server and try again.");
            return;
        }
        await next(context);
    });

    /// <summary>
    /// True when the browser says the request comes from this origin (or from no page, or a non-browser client sent no
    /// such headers): <c>Sec-Fetch-Site</c> is <c>same-origin</c> or <c>none</c>, and <c>Origin</c>, when sent, is this host.
    /// </summary>
    public static bool IsSameOrigin(HttpRequest request)
    {
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0 && site is not ("same-origin" or "none")) return false;
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0) return true;
        return string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
    }

    internal static Task WriteProblemAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        }).AsTask();
    }

    private static int ReadInt(IConfiguration section, string key, int fallback)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return int.TryParse(text, out var value) && value > 0 ? value
            : throw new InvalidOperationException($"{SectionName}:{key} is '{text}'; use a whole number above 0 (default {fallback}).");
    }

    internal static TimeSpan ReadTimeSpan(IConfiguration section, string key, TimeSpan fallback)
    {
        var text = section[key];
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        return TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > TimeSpan.Zero ? value
            : throw new InvalidOperationException($"{SectionName}:{key} is '{text}'; use a time span such as 00:15:00 (default {fallback}).");
    }
}

/// <summary>
/// Checks a password session at most once a minute: the account must still exist, be enabled and have the security stamp it
/// had at sign-in (changing the role or password, disabling or deleting the user ends its sessions).
/// </summary>
internal static class CookieValidation
{
    private const string CheckedAt = "platform:checked";
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var userId = context.Principal?.FindFirstValue(SignInClaims.UserId);
        if (userId is null) return; // single sign-on and link sessions carry no local account
        var now = DateTimeOffset.UtcNow;
        if (context.Properties.Items.TryGetValue(CheckedAt, out var text) && long.TryParse(text, out var ticks)
            && now - new DateTimeOffset(ticks, TimeSpan.Zero) < Interval)
            return;
        var users = context.HttpContext.RequestServices.GetRequiredService<UserManager<PlatformUser>>();
        var user = await users.FindByIdAsync(userId);
        if (user is null || user.Disabled || user.SecurityStamp != context.Principal!.FindFirstValue(SignInClaims.Stamp))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(SignInSchemes.Cookie);
            return;
        }
        context.Properties.Items[CheckedAt] = now.UtcTicks.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.ShouldRenew = true;
    }
}
