using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Platform.Server.Tests.Infrastructure;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>
/// Client certificates for the API (issue 16, item 5), over a real TLS port with certificates made here: a trusted certificate
/// is a principal with its configured name and role; an untrusted one gets 401; Require refuses API calls without one while
/// probes and the chat stay reachable; Allow lets keys work as before.
/// </summary>
public sealed class ClientCertificateTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Authenticate_Trusted_Certificates_And_Refuse_Others_When_Client_Certificates_Are_Required()
    {
        // Arrange: a server that requires client certificates and trusts one of two (listed as openssl prints the fingerprint).
        using var directory = new TempDirectory("platform-client-certs");
        using var server = ServerCertificate(directory);
        using var trusted = ClientCertificate("CN=backup robot");
        using var stranger = ClientCertificate("CN=stranger");
        await using var factory = Start(directory.Path, server.Paths, new()
        {
            ["Platform:Tls:ClientCertificates:Mode"] = "Require",
            ["Platform:Tls:ClientCertificates:Trusted:0:Thumbprint"] = Convert.ToHexString(trusted.GetCertHash(HashAlgorithmName.SHA256)).Chunk(2)
                .Select(c => new string(c)).Aggregate((a, b) => a + ":" + b),
            ["Platform:Tls:ClientCertificates:Trusted:0:Name"] = "backup robot",
            ["Platform:Tls:ClientCertificates:Trusted:0:Role"] = "Operator",
        }, out var https);

        // Act + Assert: the trusted certificate is 'backup robot' with the role Operator: it reads, runs, but may not design.
        using (var robot = Client(server.Certificate, trusted, https))
        {
            var me = (await robot.GetFromJsonAsync<JsonObject>("/api/auth/me", Ct))!;
            Assert.Equal(("backup robot", "Operator", "certificate"), (me.Str("name"), me["roles"]![0]!.GetValue<string>(), me.Str("method")));
            Assert.Equal(HttpStatusCode.OK, (await robot.GetAsync("/api/channels", Ct)).StatusCode);
            using var design = await robot.PostAsJsonAsync("/api/intents", new JsonObject(), Ct);
            Assert.Contains("Operator", (await design.AssertProblemAsync(HttpStatusCode.Forbidden)).Str("title"));
        }

        // An untrusted certificate: 401 that names it and says how to trust it.
        using (var other = Client(server.Certificate, stranger, https))
        {
            using var refused = await other.GetAsync("/api/channels", Ct);
            var problem = await refused.AssertProblemAsync(HttpStatusCode.Unauthorized);
            Assert.Contains("not trusted", problem.Str("title"));
            Assert.Contains("Platform:Tls:ClientCertificates:Trusted", problem.Str("detail"));
        }

        // No certificate: even a valid Admin key is refused on the API; probes and the chat are not.
        using var anonymous = Client(server.Certificate, null, https);
        using (var keyed = new HttpRequestMessage(HttpMethod.Get, "/api/channels"))
        {
            keyed.Headers.Authorization = new AuthenticationHeaderValue("ApiKey", PlatformServerFactory.AdminKey);
            using var refused = await anonymous.SendAsync(keyed, Ct);
            Assert.Contains("client certificate is required", (await refused.AssertProblemAsync(HttpStatusCode.Forbidden)).Str("title"));
        }
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health", Ct)).StatusCode);
        var chat = (await anonymous.GetAsync("/chat", Ct)).StatusCode;
        Assert.True(chat is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) && (int)chat < 500, $"/chat answered {(int)chat}");
    }

    [Fact]
    public async Task Should_Keep_Keys_Working_And_Accept_A_Trusted_Certificate_When_Client_Certificates_Are_Allowed()
    {
        using var directory = new TempDirectory("platform-client-certs");
        using var server = ServerCertificate(directory);
        using var trusted = ClientCertificate("CN=dashboard");
        await using var factory = Start(directory.Path, server.Paths, new()
        {
            ["Platform:Tls:ClientCertificates:Mode"] = "allow",
            ["Platform:Tls:ClientCertificates:Trusted:0:Thumbprint"] = Convert.ToHexString(trusted.GetCertHash(HashAlgorithmName.SHA256)).ToLowerInvariant(),
            ["Platform:Tls:ClientCertificates:Trusted:0:Name"] = "dashboard",
            ["Platform:Tls:ClientCertificates:Trusted:0:Role"] = "Viewer",
        }, out var https);

        using var withKey = Client(server.Certificate, null, https);
        withKey.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", PlatformServerFactory.AdminKey);
        Assert.Equal(HttpStatusCode.OK, (await withKey.GetAsync("/api/users", Ct)).StatusCode);
        using var dashboard = Client(server.Certificate, trusted, https);
        Assert.Equal("dashboard", (await dashboard.GetFromJsonAsync<JsonObject>("/api/auth/me", Ct))!.Str("name"));
        using var keys = await dashboard.GetAsync("/api/users", Ct);
        await keys.AssertProblemAsync(HttpStatusCode.Forbidden);
        using var anonymous = Client(server.Certificate, null, https);
        await (await anonymous.GetAsync("/api/channels", Ct)).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public void Should_Refuse_To_Start_When_Client_Certificates_Are_Required_Without_Tls()
    {
        using var directory = new TempDirectory("platform-client-certs");
        var settings = PlatformServerFactory.WithKeys(directory.Path);
        settings["Platform:Tls:ClientCertificates:Mode"] = "Require";
        using var factory = new PlatformServerFactory(settings);
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Platform:Tls:CertificatePath", Flatten(error), StringComparison.Ordinal);
    }

    private static string Flatten(Exception e) => e.InnerException is null ? e.Message : e.Message + " " + Flatten(e.InnerException);

    private static PlatformServerFactory Start(string dataDirectory, (string Cert, string Key) tls, Dictionary<string, string?> extra, out Uri https)
    {
        var settings = PlatformServerFactory.WithKeys(dataDirectory);
        settings["urls"] = "http://127.0.0.1:0;https://127.0.0.1:0";
        settings["Platform:Tls:CertificatePath"] = tls.Cert;
        settings["Platform:Tls:KeyPath"] = tls.Key;
        foreach (var (key, value) in extra) settings[key] = value;
        var factory = new PlatformServerFactory(settings);
        factory.UseKestrel();
        factory.StartServer();
        var addresses = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        https = new Uri(addresses.Single(a => a.StartsWith("https://", StringComparison.Ordinal)));
        return factory;
    }

    private static HttpClient Client(X509Certificate2 serverCertificate, X509Certificate2? clientCertificate, Uri https)
    {
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is X509Certificate2 c && c.Thumbprint == serverCertificate.Thumbprint,
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate!,
            },
        };
        if (clientCertificate is not null) handler.SslOptions.ClientCertificates = [clientCertificate];
        return new HttpClient(handler) { BaseAddress = https };
    }

    private sealed record ServerTls(X509Certificate2 Certificate, (string Cert, string Key) Paths) : IDisposable
    {
        public void Dispose() => Certificate.Dispose();
    }

    private static ServerTls ServerCertificate(TempDirectory directory)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var (cert, key) = (directory.File("server.crt"), directory.File("server.key"));
        File.WriteAllText(key, rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(cert, certificate.ExportCertificatePem());
        return new ServerTls(certificate, (cert, key));
    }

    private static X509Certificate2 ClientCertificate(string subject)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false)); // client authentication
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        // A PKCS#12 round trip gives the key a form every platform's TLS stack can use for the client's signature.
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12, "x"), "x");
    }
}
