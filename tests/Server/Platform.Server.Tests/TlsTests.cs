using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>HTTPS served by Kestrel from PEM and PFX files (issue 16, item 5), on real loopback ports.</summary>
public sealed class TlsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_ServeTheNewCertificate_When_ThePemFilesAreReplaced()
    {
        using var directory = new TempDirectory("platform-tls-test");
        var (certPath, keyPath) = (directory.File("server.crt"), directory.File("server.key"));
        using var first = WritePem(certPath, keyPath, "CN=first.localhost");
        await using var server = Start(directory.Path, new()
        {
            ["Platform:Tls:CertificatePath"] = certPath,
            ["Platform:Tls:KeyPath"] = keyPath,
            ["Platform:Tls:ReloadCheckInterval"] = "00:00:00.1",
        });

        Assert.Equal(first.Thumbprint, (await HandshakeAsync(server.Https)).Thumbprint);

        using var second = WritePem(certPath, keyPath, "CN=second.localhost");
        File.SetLastWriteTimeUtc(certPath, DateTime.UtcNow.AddSeconds(5)); // a renewal, whatever the clock's resolution
        X509Certificate2? served = null;
        for (var i = 0; i < 100 && served?.Thumbprint != second.Thumbprint; i++)
        {
            await Task.Delay(100, Ct);
            served = await HandshakeAsync(server.Https);
        }

        Assert.Equal(second.Thumbprint, served!.Thumbprint);
    }

    [Fact]
    public async Task Should_ServeHttpsWithHsts_When_APfxIsConfigured()
    {
        using var directory = new TempDirectory("platform-tls-test");
        using var certificate = CreateCertificate("CN=pfx.localhost");
        var pfx = directory.File("server.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "pfx-password"), Ct);
        await using var server = Start(directory.Path, new()
        {
            ["Platform:Tls:CertificatePath"] = pfx,
            ["Platform:Tls:Password"] = "pfx-password",
        });

        using var client = TrustingClient(certificate.Thumbprint, SslProtocols.None);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Https, "/health"));
        request.Headers.Host = "platform.example"; // ASP.NET Core sends no HSTS to localhost and loopback addresses
        using var health = await client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.StartsWith("max-age=31536000", health.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri(server.Https, "/api/keys"), Ct)).StatusCode);
        Assert.Equal(certificate.Thumbprint, (await HandshakeAsync(server.Https)).Thumbprint); // and it negotiates TLS 1.2 or 1.3
    }

    [Fact]
    public async Task Should_RedirectPlainHttp_But_NotProbes_When_TlsIsOn()
    {
        using var directory = new TempDirectory("platform-tls-test");
        var (certPath, keyPath) = (directory.File("server.crt"), directory.File("server.key"));
        using var certificate = WritePem(certPath, keyPath, "CN=redirect.localhost");
        await using var server = Start(directory.Path, new() { ["Platform:Tls:CertificatePath"] = certPath, ["Platform:Tls:KeyPath"] = keyPath });

        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var studio = await client.GetAsync(new Uri(server.Http, "/api/keys?x=1"), Ct);
        Assert.Equal(HttpStatusCode.PermanentRedirect, studio.StatusCode);
        Assert.Equal("https", studio.Headers.Location!.Scheme);
        Assert.Equal(server.Https.Port, studio.Headers.Location.Port);
        Assert.Equal("/api/keys?x=1", studio.Headers.Location.PathAndQuery);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri(server.Http, "/health"), Ct)).StatusCode);
    }

    [Fact]
    public void Should_RefuseToStart_When_TheCertificateFileIsMissing()
    {
        using var directory = new TempDirectory("platform-tls-test");
        var error = Assert.ThrowsAny<Exception>(() =>
        {
            using var server = Start(directory.Path, new() { ["Platform:Tls:CertificatePath"] = directory.File("missing.pem") });
        });

        Assert.Contains("Platform:Tls:CertificatePath", Flatten(error), StringComparison.Ordinal);
    }

    private static string Flatten(Exception e) => e.InnerException is null ? e.Message : e.Message + " " + Flatten(e.InnerException);

    private sealed class TlsServer(PlatformServerFactory factory) : IAsyncDisposable, IDisposable
    {
        public PlatformServerFactory Factory { get; } = factory;
        public Uri Http { get; private set; } = null!;
        public Uri Https { get; private set; } = null!;

        public void Start()
        {
            Factory.StartServer();
            var addresses = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            Http = new Uri(addresses.Single(a => a.StartsWith("http://", StringComparison.Ordinal)));
            Https = new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal)));
        }

        public ValueTask DisposeAsync() => Factory.DisposeAsync();
        public void Dispose() => Factory.Dispose();
    }

    private static TlsServer Start(string dataDirectory, Dictionary<string, string?> tls)
    {
        var settings = PlatformServerFactory.WithKeys(dataDirectory);
        settings["urls"] = "http://127.0.0.1:0;https://127.0.0.1:0";
        settings["environment"] = "Production"; // HSTS is off in Development
        foreach (var (key, value) in tls) settings[key] = value;
        var server = new TlsServer(new PlatformServerFactory(settings));
        server.Factory.UseKestrel();
        server.Start();
        return server;
    }

    private static async Task<X509Certificate2> HandshakeAsync(Uri https)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(https.Host, https.Port, Ct);
        await using var ssl = new SslStream(tcp.GetStream(), false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, Ct);
        Assert.True(ssl.SslProtocol is SslProtocols.Tls12 or SslProtocols.Tls13, $"negotiated {ssl.SslProtocol}");
        return new X509Certificate2(ssl.RemoteCertificate!);
    }

    private static HttpClient TrustingClient(string thumbprint, SslProtocols protocols) => new(new SocketsHttpHandler
    {
        SslOptions = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = protocols,
            RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && c.Thumbprint == thumbprint,
        },
    });

    private static X509Certificate2 WritePem(string certPath, string keyPath, string subject)
    {
        var certificate = CreateCertificate(subject);
        File.WriteAllText(keyPath, certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        return certificate;
    }

    private static X509Certificate2 CreateCertificate(string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }
}
