using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Platform.Server.Security;

/// <summary>
/// <c>Platform:Tls</c>: HTTPS served by Kestrel from a PEM or PFX file (docs/security.md#tls).
/// </summary>
public sealed class TlsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Tls";

    /// <summary>The certificate: a PEM file (with <see cref="KeyPath"/>, or with the key in the same file) or a PFX/PKCS#12
    /// file (with <see cref="Password"/> if it has one). A relative path is resolved against the content root. Empty: no TLS.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key file, when it is not in <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX password, or the password of an encrypted PEM key.</summary>
    public string? Password { get; set; }

    /// <summary>The HTTPS port added when no <c>https://</c> URL is configured (<c>--urls</c>, <c>ASPNETCORE_URLS</c>). Default 5001.</summary>
    public int HttpsPort { get; set; } = 5001;

    /// <summary>Redirect plain HTTP requests to HTTPS (health probes and <c>/metrics</c> excepted). Default true.</summary>
    public bool RedirectHttp { get; set; } = true;

    /// <summary>How often the certificate files are looked at for a change (they are reloaded without a restart). Default 10 s.</summary>
    public TimeSpan ReloadCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Client certificates for the API (<c>Platform:Tls:ClientCertificates</c>: Mode Off/Allow/Require and the trusted
    /// fingerprints with their names and roles; see <see cref="ClientCertificateRegistry"/>).</summary>
    public ClientCertificateOptions ClientCertificates { get; set; } = new();

    /// <summary>True when a certificate is configured.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(CertificatePath);
}

/// <summary>
/// Loads the server certificate from its files and loads it again when they change, so a renewed certificate (certbot,
/// cert-manager) is served by new connections without a restart. A change that cannot be read (a key written after its
/// certificate, a wrong password) keeps the previous certificate and is logged.
/// </summary>
public sealed partial class ReloadingCertificate(TlsOptions options, string contentRoot, TimeProvider clock)
{
    private readonly Lock _lock = new();
    private X509Certificate2? _current;
    private (DateTime Certificate, DateTime Key) _stamps;
    private DateTimeOffset _nextCheck;

    /// <summary>Where loads and failed reloads are logged (set once the host's logging is built).</summary>
    public ILogger Logger { get; set; } = Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>The certificate file, resolved against the content root.</summary>
    public string CertificatePath { get; } = Resolve(contentRoot, options.CertificatePath!);

    /// <summary>The key file, resolved, or null.</summary>
    public string? KeyPath { get; } = string.IsNullOrWhiteSpace(options.KeyPath) ? null : Resolve(contentRoot, options.KeyPath);

    /// <summary>Loads the certificate now; throws with a message that says what to fix when it cannot be read.</summary>
    public X509Certificate2 LoadInitial()
    {
        lock (_lock)
        {
            _stamps = Stamps();
            _current = Load();
            _nextCheck = clock.GetUtcNow() + options.ReloadCheckInterval;
            return _current;
        }
    }

    /// <summary>The certificate to serve: the current one, reloaded first when its files changed since the last look.</summary>
    public X509Certificate2 Current
    {
        get
        {
            var now = clock.GetUtcNow();
            if (_current is not null && now < _nextCheck) return _current;
            lock (_lock)
            {
                if (_current is null) return LoadInitial();
                if (now < _nextCheck) return _current;
                _nextCheck = now + options.ReloadCheckInterval;
                var stamps = Stamps();
                if (stamps == _stamps) return _current;
                try
                {
                    var loaded = Load();
                    _stamps = stamps;
                    _current = loaded; // the old one stays valid for connections that already use it
                    LogLoaded(Logger, loaded.Subject, loaded.Thumbprint, loaded.NotAfter);
                }
                catch (Exception e) when (e is CryptographicException or IOException or InvalidOperationException or ArgumentException)
                {
                    LogReloadFailed(Logger, CertificatePath, e.Message);
                }
                return _current;
            }
        }
    }

    private (DateTime, DateTime) Stamps() =>
        (File.GetLastWriteTimeUtc(CertificatePath), KeyPath is null ? default : File.GetLastWriteTimeUtc(KeyPath));

    private X509Certificate2 Load()
    {
        if (!File.Exists(CertificatePath))
            throw new InvalidOperationException($"Platform:Tls:CertificatePath '{CertificatePath}' does not exist. Point it at a PEM or PFX file, or remove it to serve plain HTTP.");
        if (KeyPath is not null && !File.Exists(KeyPath))
            throw new InvalidOperationException($"Platform:Tls:KeyPath '{KeyPath}' does not exist. Point it at the certificate's PEM private key.");
        X509Certificate2 certificate;
        if (IsPem(CertificatePath))
        {
            var key = KeyPath ?? CertificatePath;
            certificate = string.IsNullOrEmpty(options.Password)
                ? X509Certificate2.CreateFromPemFile(CertificatePath, key)
                : X509Certificate2.CreateFromEncryptedPemFile(CertificatePath, options.Password, key);
        }
        else
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(CertificatePath, options.Password, X509KeyStorageFlags.EphemeralKeySet);
        }
        if (!certificate.HasPrivateKey)
            throw new InvalidOperationException($"The certificate in '{CertificatePath}' has no private key. Set Platform:Tls:KeyPath to its PEM key file, or use a PFX that holds the key.");
        return certificate;
    }

    private static bool IsPem(string path)
    {
        using var stream = File.OpenRead(path);
        Span<byte> start = stackalloc byte[64];
        var read = stream.Read(start);
        return System.Text.Encoding.ASCII.GetString(start[..read]).Contains("-----BEGIN", StringComparison.Ordinal);
    }

    private static string Resolve(string root, string path) => Path.GetFullPath(Path.IsPathRooted(path) ? path : Path.Combine(root, path));

    /// <summary>Logs the certificate being served.</summary>
    public void LogCurrent() { var c = Current; LogLoaded(Logger, c.Subject, c.Thumbprint, c.NotAfter); }

    [LoggerMessage(1, LogLevel.Information, "TLS certificate loaded: {Subject} ({Thumbprint}), valid until {NotAfter:u}.")]
    private static partial void LogLoaded(ILogger logger, string subject, string thumbprint, DateTime notAfter);

    [LoggerMessage(2, LogLevel.Error, "The changed TLS certificate '{Path}' could not be loaded; the previous certificate is still served: {Error}")]
    private static partial void LogReloadFailed(ILogger logger, string path, string error);
}

/// <summary>Registers TLS when <c>Platform:Tls:CertificatePath</c> is set.</summary>
public static class TlsHostExtensions
{
    private static readonly string[] PlainHttpPaths = ["/health", "/healthz", "/readyz", "/livez", "/metrics"];

    /// <summary>
    /// With a certificate configured: every HTTPS endpoint of Kestrel serves it (TLS 1.2 and 1.3 only, reloaded when its
    /// files change), an HTTPS URL on <see cref="TlsOptions.HttpsPort"/> is added when none is configured, and HTTP
    /// requests are redirected to HTTPS (<see cref="UsePlatformTls"/>). The certificate is loaded here, so a wrong path or
    /// password stops the start with a message that says what to fix.
    /// </summary>
    public static WebApplicationBuilder AddPlatformTls(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(TlsOptions.SectionName).Get<TlsOptions>() ?? new TlsOptions();
        builder.Services.AddSingleton(options);
        var clientCertificates = builder.AddPlatformClientCertificates(options); // Platform:Tls:ClientCertificates (ClientCertificates.cs)
        if (!options.IsEnabled) return builder;

        var certificate = new ReloadingCertificate(options, builder.Environment.ContentRootPath, TimeProvider.System);
        certificate.LoadInitial();
        builder.Services.AddSingleton(certificate);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureHttpsDefaults(https =>
        {
            https.SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13;
            https.ServerCertificateSelector = (_, _) => certificate.Current;
            clientCertificates.Configure(https); // Allow/Require: ask for a client certificate
        }));

        // Where Kestrel listens: --urls / ASPNETCORE_URLS, else ASPNETCORE_HTTP_PORTS (as in our Dockerfile), else the default.
        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        var httpPorts = builder.Configuration["http_ports"];
        var list = !string.IsNullOrWhiteSpace(urls) ? urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            : !string.IsNullOrWhiteSpace(httpPorts) ? httpPorts.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => $"http://*:{p}").ToArray()
            : ["http://localhost:5000"];
        var httpsConfigured = list.Any(u => u.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            || !string.IsNullOrWhiteSpace(builder.Configuration["https_ports"])
            || builder.Configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();
        if (!httpsConfigured)
        {
            var host = new UriBuilder(list[0].Replace("*", "localhost", StringComparison.Ordinal).Replace("+", "localhost", StringComparison.Ordinal)).Host;
            var hostPart = list[0].Contains("://+", StringComparison.Ordinal) ? "+" : list[0].Contains("://*", StringComparison.Ordinal) ? "*" : host;
            builder.WebHost.UseUrls([.. list, $"https://{hostPart}:{options.HttpsPort}"]);
        }
        builder.Services.Configure<HttpsRedirectionOptions>(o => o.RedirectStatusCode = StatusCodes.Status308PermanentRedirect);
        return builder;
    }

    /// <summary>With TLS on and <see cref="TlsOptions.RedirectHttp"/>: plain HTTP requests get a 308 to HTTPS, except
    /// health probes and <c>/metrics</c>, which scrapers and orchestrators call over plain HTTP inside the network.</summary>
    public static WebApplication UsePlatformTls(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<TlsOptions>();
        if (app.Services.GetService<ReloadingCertificate>() is { } certificate)
        {
            certificate.Logger = app.Services.GetRequiredService<ILogger<ReloadingCertificate>>();
            certificate.LogCurrent();
        }
        if (!options.IsEnabled) return app;
        if (options.RedirectHttp)
        {
            app.UseWhen(context => !context.Request.IsHttps && !PlainHttpPaths.Any(p => context.Request.Path.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)),
                branch => branch.UseHttpsRedirection());
        }
        app.UsePlatformClientCertificates(); // mode Require: /api, /elsa/api and /hangfire refuse requests without a client certificate
        return app;
    }
}
