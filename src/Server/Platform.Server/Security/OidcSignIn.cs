using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Platform.Activities;
using Platform.Identity;

namespace Platform.Server.Security;

/// <summary>
/// Single sign-on with any OpenID Connect provider (Keycloak, Entra ID, Authentik, ...): the authorization code flow with
/// PKCE; the provider's role claim (e.g. <c>groups</c>) is mapped to our roles by <c>RoleMap</c>. A user with no mapped role
/// (and no <c>DefaultRole</c>) is refused. Configured under <c>Platform:Authentication:Oidc</c> (docs/security.md).
/// </summary>
public static class OidcSignIn
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = SignInHostExtensions.SectionName + ":Oidc";

    /// <summary>Where the provider sends the browser back.</summary>
    public const string CallbackPath = "/signin-oidc";

    /// <summary>The settings in effect (registered as a singleton; <see cref="Enabled"/> is false without an authority).</summary>
    public sealed record Settings(bool Enabled, string DisplayName, string RoleClaim, IReadOnlyDictionary<string, string> RoleMap, string? DefaultRole)
    {
        /// <summary>Our roles for the provider's claim values (case-insensitive), else the default role, else none.</summary>
        public IReadOnlyList<string> RolesFor(IEnumerable<string> claimValues)
        {
            var roles = claimValues.Select(v => RoleMap.TryGetValue(v, out var role) ? role : null).OfType<string>().Distinct().ToList();
            if (roles.Count == 0 && DefaultRole is not null) roles.Add(DefaultRole);
            return roles;
        }
    }

    internal static void Add(AuthenticationBuilder auth, IConfigurationSection section, IHostEnvironment environment)
    {
        var authority = section["Authority"]?.Trim();
        if (string.IsNullOrEmpty(authority))
        {
            auth.Services.AddSingleton(new Settings(false, "SSO", "groups", new Dictionary<string, string>(), null));
            return;
        }
        if (!Uri.TryCreate(authority, UriKind.Absolute, out var authorityUri) || authorityUri.Scheme is not ("https" or "http"))
            throw new InvalidOperationException($"{SectionName}:Authority is '{authority}'; use the provider's issuer URL, e.g. https://keycloak.example.com/realms/main.");
        var clientId = section["ClientId"]?.Trim();
        if (string.IsNullOrEmpty(clientId))
            throw new InvalidOperationException($"{SectionName}:ClientId is missing: register this server as a client at the provider (redirect URI <server>{CallbackPath}) and set its id.");
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in section.GetSection("RoleMap").GetChildren())
        {
            map[entry.Key] = PlatformRoles.Parse(entry.Value) ?? throw new InvalidOperationException(
                $"{SectionName}:RoleMap:{entry.Key} is '{entry.Value}'; use one of {string.Join(", ", PlatformRoles.All)}.");
        }
        var defaultRole = section["DefaultRole"] is { Length: > 0 } d
            ? PlatformRoles.Parse(d) ?? throw new InvalidOperationException($"{SectionName}:DefaultRole is '{d}'; use one of {string.Join(", ", PlatformRoles.All)} or leave it empty (unmapped users are refused).")
            : null;
        var roleClaim = section["RoleClaim"] is { Length: > 0 } rc ? rc.Trim() : "groups";
        var settings = new Settings(true, section["DisplayName"] is { Length: > 0 } dn ? dn : "SSO", roleClaim, map, defaultRole);
        auth.Services.AddSingleton(settings);
        var scopes = ReadScopes(section);
        // Plain HTTP to the provider only on a loopback address (a provider on this machine, tests) unless explicitly allowed.
        var requireHttps = bool.TryParse(section["RequireHttpsMetadata"], out var rh) ? rh : !authorityUri.IsLoopback;

        auth.AddOpenIdConnect(SignInSchemes.Oidc, settings.DisplayName, o =>
        {
            o.Authority = authority;
            o.ClientId = clientId;
            o.ClientSecret = section["ClientSecret"];
            o.ResponseType = OpenIdConnectResponseType.Code;
            o.UsePkce = true;
            o.ResponseMode = OpenIdConnectResponseMode.Query; // a top-level GET back: works with SameSite=Lax correlation cookies over HTTP too
            o.CallbackPath = CallbackPath;
            o.SignInScheme = SignInSchemes.Cookie;
            o.RequireHttpsMetadata = requireHttps;
            o.MapInboundClaims = false;
            o.GetClaimsFromUserInfoEndpoint = true;
            o.SaveTokens = false;
            o.Scope.Clear();
            foreach (var scope in scopes) o.Scope.Add(scope);
            o.ClaimActions.MapJsonKey(roleClaim, roleClaim);
            o.ClaimActions.MapUniqueJsonKey("preferred_username", "preferred_username");
            o.CorrelationCookie.SameSite = SameSiteMode.Lax;
            o.NonceCookie.SameSite = SameSiteMode.Lax;
            o.Events.OnTicketReceived = context => OnTicketReceivedAsync(context, settings);
            o.Events.OnRemoteFailure = context =>
            {
                context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OidcSignIn))
                    .LogWarning(context.Failure, "Single sign-on failed: {Message}", context.Failure?.Message);
                Audit(context.HttpContext, null, AuditOutcomes.Failed, new Dictionary<string, object?>
                {
                    ["reason"] = "sso-failed", ["error"] = Truncate(context.Failure?.Message),
                });
                context.Response.Redirect("/signin?error=sso-failed");
                context.HandleResponse();
                return Task.CompletedTask;
            };
        });
    }

    private static Task OnTicketReceivedAsync(TicketReceivedContext context, Settings settings)
    {
        var principal = context.Principal!;
        var name = principal.FindFirstValue("preferred_username") ?? principal.FindFirstValue("name")
                   ?? principal.FindFirstValue("email") ?? principal.FindFirstValue("sub") ?? "unknown";
        var values = principal.FindAll(settings.RoleClaim).Select(c => c.Value).Distinct(StringComparer.Ordinal).ToList();
        var roles = settings.RolesFor(values);
        var logger = context.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OidcSignIn));
        if (roles.Count == 0)
        {
            logger.LogWarning("Single sign-on refused {User}: none of its {Claim} values ({Values}) is mapped to a role",
                name, settings.RoleClaim, string.Join(", ", values));
            Audit(context.HttpContext, name, AuditOutcomes.Denied, new Dictionary<string, object?>
            {
                ["reason"] = "no-role", ["claim"] = settings.RoleClaim, ["values"] = values.Take(20).ToList(),
            });
            context.Response.Redirect("/signin?error=no-role");
            context.HandleResponse();
            return Task.CompletedTask;
        }
        Audit(context.HttpContext, name, AuditOutcomes.Success, new Dictionary<string, object?> { ["roles"] = roles });
        logger.LogInformation("Signed in {User} by single sign-on with the role(s) {Roles}", name, string.Join(", ", roles));
        context.Principal = SignInClaims.Principal(name, roles, SignInClaims.Sso);
        return Task.CompletedTask;
    }

    /// <summary>The audit action of a single sign-on (success, refusal for want of a mapped role, or a failure at or with the provider).</summary>
    public const string AuditAction = "auth.sso.signin";

    private static void Audit(HttpContext context, string? user, string outcome, Dictionary<string, object?> details)
    {
        details["provider"] = SignInSchemes.Oidc;
        context.RequestServices.GetService<IAuditLog>()?.Record(new AuditEntry
        {
            Action = AuditAction,
            Actor = user is { Length: > 200 } ? user[..200] : user,
            ActorKind = user is null ? AuditActorKinds.Anonymous : AuditActorKinds.User,
            IpAddress = AuditMiddleware.ClientIp(context),
            TargetType = "auth",
            Outcome = outcome,
            Status = StatusCodes.Status302Found, // every outcome sends the browser on: to the Studio, or to /signin with the error
            Details = System.Text.Json.JsonSerializer.Serialize(details),
        });
    }

    private static string? Truncate(string? text) => text is { Length: > 300 } ? text[..300] : text;

    private static List<string> ReadScopes(IConfigurationSection section)
    {
        var scopes = new List<string>();
        if (section["Scopes"] is { Length: > 0 } text) scopes.AddRange(text.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        scopes.AddRange(section.GetSection("Scopes").GetChildren().Select(c => c.Value).OfType<string>().Where(v => v.Length > 0));
        if (scopes.Count == 0) scopes.AddRange(["openid", "profile"]);
        if (!scopes.Contains("openid")) scopes.Insert(0, "openid");
        return scopes.Distinct().ToList();
    }
}
