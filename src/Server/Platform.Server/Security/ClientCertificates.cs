using System.Security.Claims;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Platform.Server.Security;

/// <summary>Whether the API takes client certificates (<c>Platform:Tls:ClientCertificates:Mode</c>).</summary>
public enum ClientCertificatePolicy
{
    /// <summary>No client certificates are asked for (the default).</summary>
    Off,

    /// <summary>A client may present a certificate; a trusted one authenticates it, other clients use keys or sign-in as usual.</summary>
    Allow,

    /// <summary>Calls to <c>/api</c>, <c>/elsa/api</c> and <c>/hangfire</c> without a client certificate are refused; probes, the chat
    /// and channel endpoints stay reachable.</summary>
    Require,
}

/// <summary>A client certificate the API trusts (<c>Platform:Tls:ClientCertificates:Trusted:N</c>).</summary>
public sealed class TrustedClientCertificate
{
    /// <summary>The SHA-256 fingerprint of the certificate (hex; colons and spaces are ignored), as
    /// <c>openssl x509 -noout -fingerprint -sha256</c> prints it.</summary>
    public string? Thumbprint { get; set; }

    /// <summary>Who the certificate is (the principal's name in logs and the audit trail).</summary>
    public string? Name { get; set; }

    /// <summary>Viewer, Operator, Designer or Admin.</summary>
    public string? Role { get; set; }
}

/// <summary><c>Platform:Tls:ClientCertificates</c>.</summary>
public sealed class ClientCertificateOptions
{
    /// <summary>Off (default), Allow or Require.</summary>
    public string? Mode { get; set; }

    /// <summary>The trusted certificates, each with a name and a role.</summary>
    public List<TrustedClientCertificate> Trusted { get; set; } = [];
}

/// <summary>
/// The client certificates the API trusts, by SHA-256 fingerprint (pinned: no chain or CA is consulted, so a self-signed
/// certificate works and a certificate from a public CA is not trusted unless listed). Built from configuration at start;
/// invalid entries stop the start with a message that says what to fix.
/// </summary>
public sealed class ClientCertificateRegistry
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = TlsOptions.SectionName + ":ClientCertificates";

    private readonly Dictionary<string, ApiKeyIdentity> _trusted;

    private ClientCertificateRegistry(ClientCertificatePolicy mode, Dictionary<string, ApiKeyIdentity> trusted)
    {
        Mode = mode;
        _trusted = trusted;
    }

    /// <summary>The mode in effect.</summary>
    public ClientCertificatePolicy Mode { get; }

    /// <summary>True unless the mode is Off.</summary>
    public bool Enabled => Mode != ClientCertificatePolicy.Off;

    /// <summary>Reads and checks the settings.</summary>
    /// <exception cref="InvalidOperationException">A setting is invalid; the message names it.</exception>
    public static ClientCertificateRegistry Create(ClientCertificateOptions? options, bool tlsEnabled)
    {
        var text = options?.Mode?.Trim();
        var mode = string.IsNullOrEmpty(text) ? ClientCertificatePolicy.Off
            : Enum.TryParse<ClientCertificatePolicy>(text, true, out var parsed) && Enum.IsDefined(parsed) && !int.TryParse(text, out _) ? parsed
            : throw new InvalidOperationException($"{SectionName}:Mode is '{text}'; use Off, Allow or Require (docs/security.md).");
        if (mode != ClientCertificatePolicy.Off && !tlsEnabled)
            throw new InvalidOperationException($"{SectionName}:Mode is {mode}, but TLS is off: client certificates come with the TLS handshake. " +
                                                $"Set {TlsOptions.SectionName}:CertificatePath (docs/security.md#tls), or set the mode to Off.");
        var trusted = new Dictionary<string, ApiKeyIdentity>(StringComparer.OrdinalIgnoreCase);
        var entries = options?.Trusted ?? [];
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            var thumbprint = Normalize(e.Thumbprint);
            if (thumbprint.Length != 64 || !thumbprint.All(char.IsAsciiHexDigit))
                throw new InvalidOperationException($"{SectionName}:Trusted:{i}:Thumbprint is '{e.Thumbprint}'; use the certificate's SHA-256 fingerprint " +
                                                    "(64 hex digits), e.g. from 'openssl x509 -in client.crt -noout -fingerprint -sha256'.");
            if (string.IsNullOrWhiteSpace(e.Name))
                throw new InvalidOperationException($"{SectionName}:Trusted:{i}:Name is missing; give the certificate a name for logs and the audit trail.");
            var role = ApiKeyRoles.Parse(e.Role) ?? throw new InvalidOperationException(
                $"{SectionName}:Trusted:{i}:Role is '{e.Role}'; use one of {string.Join(", ", ApiKeyRoles.All)}.");
            if (!trusted.TryAdd(thumbprint, new ApiKeyIdentity(e.Name.Trim(), role)))
                throw new InvalidOperationException($"{SectionName}:Trusted:{i} repeats the thumbprint of another entry; list each certificate once.");
        }
        return new ClientCertificateRegistry(mode, trusted);
    }

    /// <summary>The SHA-256 fingerprint of a certificate as upper-case hex.</summary>
    public static string Thumbprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return certificate.GetCertHashString(HashAlgorithmName.SHA256);
    }

    /// <summary>Who a presented certificate is, or null when it is not trusted.</summary>
    public ApiKeyIdentity? Find(X509Certificate2 certificate) => _trusted.GetValueOrDefault(Thumbprint(certificate));

    private static string Normalize(string? thumbprint) =>
        new((thumbprint ?? "").Where(c => c is not (':' or ' ' or '-')).ToArray());
}

/// <summary>
/// Authenticates a request by the client certificate of its TLS connection (<see cref="ClientCertificateRegistry"/>): a trusted
/// certificate becomes a principal with its configured name and role; any other certificate is refused with 401 and a message
/// that says how to trust it. The scheme selector sends requests here when they carry a client certificate and no
/// <c>Authorization</c> header.
/// </summary>
public sealed class ClientCertificateAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ClientCertificateRegistry registry,
    TimeProvider clock,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    /// <summary>The scheme's name.</summary>
    public const string SchemeName = "ClientCertificate";

    /// <summary>The sign-in method claim value of a certificate principal (<c>GET /api/auth/me</c> shows it).</summary>
    public const string Method = "certificate";

    /// <summary>The claim with the certificate's SHA-256 fingerprint.</summary>
    public const string ThumbprintClaim = "platform:certificate-sha256";

    /// <inheritdoc />
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!registry.Enabled || Context.Connection.ClientCertificate is not { } certificate) return Task.FromResult(AuthenticateResult.NoResult());
        var thumbprint = ClientCertificateRegistry.Thumbprint(certificate);
        var now = clock.GetUtcNow();
        if (registry.Find(certificate) is not { } identity)
        {
            Logger.LogWarning("Refused an untrusted client certificate {Subject} (SHA-256 {Thumbprint}) from {RemoteIp} for {Method} {Path}",
                certificate.Subject, thumbprint, Context.Connection.RemoteIpAddress, Request.Method, Request.Path);
            return Task.FromResult(AuthenticateResult.Fail($"The client certificate '{certificate.Subject}' (SHA-256 {thumbprint}) is not trusted."));
        }
        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
            return Task.FromResult(AuthenticateResult.Fail(
                $"The client certificate '{identity.Name}' is valid from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}, not now."));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
        [
            new Claim(ClaimTypes.Name, identity.Name), new Claim(ClaimTypes.Role, identity.Role), new Claim(SignInClaims.Method, Method),
            new Claim(ThumbprintClaim, thumbprint),
        ], SchemeName, ClaimTypes.Name, ClaimTypes.Role));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    /// <inheritdoc />
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = result.Failure?.Message ?? "A trusted client certificate is required.",
                Detail = $"An Admin trusts a certificate by adding its SHA-256 fingerprint with a Name and a Role under {ClientCertificateRegistry.SectionName}:Trusted " +
                         "(docs/security.md). Without a client certificate, send 'Authorization: ApiKey <key>' or sign in at /signin.",
            },
        });
    }

    /// <inheritdoc />
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var name = Context.User.Identity?.Name ?? "this certificate";
        var role = Context.User.FindFirstValue(ClaimTypes.Role) ?? "none";
        Logger.LogWarning("Client certificate {Name} ({Role}) was refused {Method} {Path}", name, role, Request.Method, Request.Path);
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = $"The role {role} may not do this.",
                Detail = $"The client certificate '{name}' has the role {role}. Its role is set under {ClientCertificateRegistry.SectionName}:Trusted; " +
                         "docs/security.md lists what each role may do.",
            },
        });
    }
}

/// <summary>Registration and the Require check of client certificates.</summary>
public static class ClientCertificateHostExtensions
{
    private static readonly string[] ApiSurfaces = ["/api", "/elsa/api", "/hangfire"];

    /// <summary>Reads <c>Platform:Tls:ClientCertificates</c>, registers the <see cref="ClientCertificateRegistry"/> and, unless the mode
    /// is Off, the authentication scheme and Kestrel's request for a certificate at the handshake (never required there, so that
    /// probes and the chat stay reachable; Kestrel accepts any certificate and the handler checks its fingerprint).</summary>
    public static ClientCertificateRegistry AddPlatformClientCertificates(this WebApplicationBuilder builder, TlsOptions tls)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(tls);
        var registry = ClientCertificateRegistry.Create(tls.ClientCertificates, tls.IsEnabled);
        builder.Services.AddSingleton(registry);
        if (!registry.Enabled) return registry;
        builder.Services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, ClientCertificateAuthenticationHandler>(ClientCertificateAuthenticationHandler.SchemeName, null);
        return registry;
    }

    /// <summary>Asks HTTPS clients for a certificate at the handshake when the mode is not Off (called from the one
    /// <c>ConfigureHttpsDefaults</c> of <see cref="TlsHostExtensions.AddPlatformTls"/>: a second call would replace it).</summary>
    public static void Configure(this ClientCertificateRegistry registry, Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions https)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(https);
        if (!registry.Enabled) return;
        https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
        https.ClientCertificateValidation = (_, _, _) => true; // pinned by fingerprint in ClientCertificateAuthenticationHandler
    }

    /// <summary>True when the request should be authenticated by its client certificate (it has one and no Authorization header).</summary>
    public static bool UsesClientCertificate(HttpContext context) =>
        context.Connection.ClientCertificate is not null && context.Request.Headers.Authorization.Count == 0
        && context.RequestServices.GetService<ClientCertificateRegistry>() is { Enabled: true };

    /// <summary>In Require mode: a request to <c>/api</c>, <c>/elsa/api</c> or <c>/hangfire</c> without a client certificate gets 403
    /// with a problem that says so.</summary>
    public static IApplicationBuilder UsePlatformClientCertificates(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        if (app.ApplicationServices.GetService<ClientCertificateRegistry>() is not { Mode: ClientCertificatePolicy.Require }) return app;
        return app.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (context.Connection.ClientCertificate is null && ApiSurfaces.Any(s => path.StartsWithSegments(s, StringComparison.OrdinalIgnoreCase)))
            {
                context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ClientCertificateHostExtensions))
                    .LogWarning("Refused {Method} {Path} from {RemoteIp}: no client certificate (mode Require)", context.Request.Method, path,
                        context.Connection.RemoteIpAddress);
                await SignInHostExtensions.WriteProblemAsync(context, StatusCodes.Status403Forbidden, "A client certificate is required.",
                    $"This server's API takes only clients that present a trusted certificate over HTTPS ({ClientCertificateRegistry.SectionName}:Mode " +
                    "is Require). Configure your client with its certificate and key; an Admin lists the certificate's SHA-256 fingerprint under " +
                    $"{ClientCertificateRegistry.SectionName}:Trusted (docs/security.md).");
                return;
            }
            await next(context);
        });
    }
}
