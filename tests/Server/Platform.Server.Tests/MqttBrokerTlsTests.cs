using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Protocol;
using Platform.Mqtt;
using Platform.Testing;

namespace Platform.Server.Tests;

/// <summary>
/// The embedded MQTT broker's TLS listener (issue 16, item 5): MQTTnet and Debian's <c>mosquitto_pub --cafile</c> connect over TLS
/// trusting a CA made here, with the same credentials and topic ACL as plain TCP; the platform's own connection uses TLS when the
/// plain listener is off; a plain-TCP client on the TLS port gets nowhere.
/// </summary>
public sealed class MqttBrokerTlsTests
{
    private const string LockPassword = "front-door-lock-secret-123";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Should_Accept_Device_States_Over_Tls_And_Refuse_Plain_Tcp_When_Only_The_Tls_Listener_Runs()
    {
        // Arrange: a test CA, a broker certificate it issued (for localhost), and a broker with only its TLS listener.
        using var dir = new TempDirectory("mqtt-tls");
        using var ca = CreateCa();
        using var brokerCertificate = Issue(ca, dir.File("broker.crt"), dir.File("broker.key"));
        File.WriteAllText(dir.File("ca.crt"), ca.ExportCertificatePem());
        var device = "lock-" + Guid.NewGuid().ToString("N")[..8];
        var options = new MqttOptions
        {
            EmbeddedPort = FreePort(), ClientIdPrefix = "tls-tests", CredentialsDirectory = dir.Path,
            Clients = [new MqttClientAccount { Username = device, Password = LockPassword, Device = device }],
            Broker = new MqttBrokerOptions
            {
                PlainTcp = false,
                Tls = new MqttBrokerTlsOptions { CertificatePath = dir.File("broker.crt"), KeyPath = dir.File("broker.key"), Port = FreePort() },
            },
        };
        await using var broker = new EmbeddedMqttBroker(options);
        await broker.StartAsync(Ct);
        Assert.Equal(0, broker.Port);
        Assert.Equal(options.Broker.Tls.Port, broker.TlsPort);

        // The platform's own connection (over TLS, the plain listener being off) records what devices publish.
        await using var platform = new MqttConnection(options);
        var received = new ConcurrentQueue<string>();
        var two = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await platform.SubscribeAsync($"devices/{device}/#", (m, _) =>
        {
            received.Enqueue($"{m.Topic}={m.PayloadText}");
            if (received.Count >= 2) two.TrySetResult();
            return Task.CompletedTask;
        }, MqttQos.AtLeastOnce, Ct);

        // Act: an MQTTnet device over TLS (trusting the test CA) publishes its state and tries a command; mosquitto_pub publishes too.
        using var client = new MqttClientFactory().CreateMqttClient();
        var connected = await client.ConnectAsync(TlsClientOptions(options.Broker.Tls.Port, device, LockPassword, ca), Ct);
        var state = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"devices/{device}/state").WithPayload("{\"locked\":true}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), Ct);
        var command = await client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic($"devices/{device}/set").WithPayload("{\"command\":\"unlock\"}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), Ct);
        var (exit, output) = await RunAsync("mosquitto_pub", "-h", "localhost", "-p", options.Broker.Tls.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--cafile", dir.File("ca.crt"), "-u", device, "-P", LockPassword, "-i", device + "-cli", "-V", "mqttv5", "-q", "1",
            "-t", $"devices/{device}/state", "-m", "{\"locked\":false}");
        await two.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        // Assert: both states arrived over TLS; the command was refused as on plain TCP.
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
        Assert.Equal(MqttClientPublishReasonCode.Success, state.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, command.ReasonCode);
        Assert.True(exit == 0, $"mosquitto_pub failed ({exit}): {output}");
        Assert.Equal([$"devices/{device}/state={{\"locked\":true}}", $"devices/{device}/state={{\"locked\":false}}"], received.ToArray());

        // Wrong credentials over TLS are refused; a plain-TCP client on the TLS port does not get in; nothing listens on the plain port.
        using (var wrong = new MqttClientFactory().CreateMqttClient())
        {
            var refused = await TryConnectAsync(wrong, TlsClientOptions(options.Broker.Tls.Port, device, "wrong-password-123", ca));
            Assert.NotEqual(MqttClientConnectResultCode.Success, refused);
        }
        using (var plain = new MqttClientFactory().CreateMqttClient())
        {
            var plainOptions = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", options.Broker.Tls.Port).WithCredentials(device, LockPassword)
                .WithClientId(device + "-plain").WithTimeout(TimeSpan.FromSeconds(3)).Build();
            Assert.NotEqual(MqttClientConnectResultCode.Success, await TryConnectAsync(plain, plainOptions));
            Assert.False(plain.IsConnected);
        }
        using var tcp = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(async () => await tcp.ConnectAsync(IPAddress.Loopback, options.EmbeddedPort, Ct));
    }

    [Fact]
    public void Should_Refuse_To_Start_When_The_Plain_Listener_Is_Off_Without_A_Tls_Listener()
    {
        var options = new MqttOptions { EmbeddedPort = FreePort(), Broker = new MqttBrokerOptions { PlainTcp = false } };
        var error = Assert.Throws<InvalidOperationException>(options.Validate);
        Assert.Contains("Platform:Mqtt:Broker:Tls:CertificatePath", error.Message, StringComparison.Ordinal);
    }

    private static MqttClientOptions TlsClientOptions(int port, string user, string password, X509Certificate2 ca) =>
        new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithCredentials(user, password)
            .WithClientId(user + "-" + Guid.NewGuid().ToString("N")[..6]).WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithTimeout(TimeSpan.FromSeconds(10))
            .WithTlsOptions(tls => tls.UseTls().WithTargetHost("localhost").WithCertificateValidationHandler(e =>
            {
                // Trust exactly the test CA (not the machine's store), and the name the certificate was issued for.
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var served = X509CertificateLoader.LoadCertificate(e.Certificate.GetRawCertData());
                return chain.Build(served) && served.MatchesHostname("localhost");
            }))
            .Build();

    private static async Task<MqttClientConnectResultCode> TryConnectAsync(IMqttClient client, MqttClientOptions options)
    {
        try
        {
            return (await client.ConnectAsync(options, Ct)).ResultCode;
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or OperationCanceledException or IOException or SocketException)
        {
            return e.GetType().GetProperty("ResultCode")?.GetValue(e) as MqttClientConnectResultCode?
                   ?? (e.GetType().GetProperty("Result")?.GetValue(e) as MqttClientConnectResult)?.ResultCode
                   ?? MqttClientConnectResultCode.UnspecifiedError;
        }
    }

    private static async Task<(int Exit, string Output)> RunAsync(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(limit.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static X509Certificate2 CreateCa()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Platform Test CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string certPath, string keyPath)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false)); // server authentication
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(12), serial);
        File.WriteAllText(certPath, issued.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return X509CertificateLoader.LoadCertificate(issued.RawData);
    }
}
