using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MQTTnet.Certificates;

namespace Platform.Mqtt;

/// <summary>The embedded broker's listeners (<c>Platform:Mqtt:Broker</c>): plain TCP on <see cref="MqttOptions.EmbeddedPort"/>
/// and an optional TLS listener (<see cref="Tls"/>).</summary>
public sealed class MqttBrokerOptions
{
    /// <summary>Listen for plain TCP on <see cref="MqttOptions.EmbeddedPort"/> (default true). False with <see cref="Tls"/> on leaves
    /// only the TLS listener; the platform's own connection then uses TLS too.</summary>
    public bool PlainTcp { get; set; } = true;

    /// <summary>The TLS listener (off while no certificate is configured).</summary>
    public MqttBrokerTlsOptions Tls { get; set; } = new();
}

/// <summary><c>Platform:Mqtt:Broker:Tls</c>: MQTT over TLS (1.2 and 1.3 only) from a PEM or PFX file, with the same credentials
/// and topic ACL as plain TCP.</summary>
public sealed class MqttBrokerTlsOptions
{
    /// <summary>The standard MQTT over TLS port.</summary>
    public const int DefaultPort = 8883;

    /// <summary>A PEM certificate (chain first; its key in <see cref="KeyPath"/> or in the same file) or a PFX/PKCS#12 file.
    /// Empty: no TLS listener.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key, when it is not in <see cref="CertificatePath"/>.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PFX password, or the password of an encrypted PEM key.</summary>
    public string? Password { get; set; }

    /// <summary>The TLS port (default 8883), on <see cref="MqttOptions.EmbeddedBindAddress"/>.</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>True when a certificate is configured.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(CertificatePath);

    /// <summary>The protocols the listener accepts.</summary>
    public const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;
}

/// <summary>Loads the TLS listener's certificate from its files (PEM with key, encrypted PEM, or PFX); the messages say what to fix.</summary>
public sealed class MqttBrokerCertificate : ICertificateProvider
{
    private const string Section = MqttOptions.SectionName + ":Broker:Tls";
    private readonly X509Certificate2 _certificate;

    /// <summary>Loads the certificate now.</summary>
    /// <exception cref="InvalidOperationException">A file is missing or cannot be read, or there is no private key.</exception>
    public MqttBrokerCertificate(MqttBrokerTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _certificate = Load(options);
    }

    /// <summary>The certificate the listener serves.</summary>
    public X509Certificate2 Certificate => _certificate;

    /// <inheritdoc />
    public X509Certificate2 GetCertificate() => _certificate;

    /// <summary>Loads the certificate of <paramref name="options"/>.</summary>
    /// <exception cref="InvalidOperationException">A file is missing or cannot be read, or there is no private key.</exception>
    public static X509Certificate2 Load(MqttBrokerTlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = Path.GetFullPath(options.CertificatePath!.Trim());
        var keyPath = string.IsNullOrWhiteSpace(options.KeyPath) ? null : Path.GetFullPath(options.KeyPath.Trim());
        if (!File.Exists(path))
            throw new InvalidOperationException($"{Section}:CertificatePath '{path}' does not exist. Point it at a PEM or PFX file, or remove it to run without the TLS listener.");
        if (keyPath is not null && !File.Exists(keyPath))
            throw new InvalidOperationException($"{Section}:KeyPath '{keyPath}' does not exist. Point it at the certificate's PEM private key.");
        X509Certificate2 certificate;
        try
        {
            if (File.ReadAllText(path).Contains("-----BEGIN", StringComparison.Ordinal))
            {
                certificate = string.IsNullOrEmpty(options.Password)
                    ? X509Certificate2.CreateFromPemFile(path, keyPath ?? path)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, options.Password, keyPath ?? path);
            }
            else
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, options.Password, X509KeyStorageFlags.EphemeralKeySet);
            }
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException($"{Section}:CertificatePath '{path}' could not be read ({e.Message}). Use a PEM certificate with its key " +
                                                $"({Section}:KeyPath) or a PFX file with {Section}:Password.", e);
        }
        if (!certificate.HasPrivateKey)
            throw new InvalidOperationException($"The certificate in '{path}' has no private key. Set {Section}:KeyPath to its PEM key file, or use a PFX that holds the key.");
        // SslStream on Windows cannot use an ephemeral PEM key; a PKCS#12 round trip gives it a usable one (no-op elsewhere).
        if (OperatingSystem.IsWindows())
            certificate = X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
        return certificate;
    }
}
