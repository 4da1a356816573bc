namespace Platform.Mqtt;

/// <summary>
/// The MQTT settings (<c>Platform:Mqtt</c>). With no <see cref="Host"/>, an embedded broker starts in-process on
/// <see cref="EmbeddedPort"/> and the shared connection uses it; with a <see cref="Host"/>, the connection goes to that broker.
/// </summary>
public sealed class MqttOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Mqtt";

    /// <summary>The standard MQTT port.</summary>
    public const int DefaultPort = 1883;

    /// <summary>The external broker's host name or address. Empty means: use the embedded broker.</summary>
    public string? Host { get; set; }

    /// <summary>The external broker's port (default 1883).</summary>
    public int Port { get; set; } = DefaultPort;

    /// <summary>The user name for the external broker; for the embedded broker, the user name clients must present.</summary>
    public string? Username { get; set; }

    /// <summary>The password that goes with <see cref="Username"/>.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// The clients the embedded broker accepts besides the platform: devices (which may publish only their own state topic)
    /// and bridges with the topics they may use. Nobody else connects, and only the platform publishes commands (<c>devices/+/set</c>).
    /// </summary>
    public List<MqttClientAccount> Clients { get; set; } = [];

    /// <summary>
    /// Where the embedded broker's generated platform password is kept (<c>{DataDirectory}/mqtt-platform-password</c>, mode
    /// 0600) when <see cref="Username"/> is not configured; null keeps a generated password in memory only.
    /// </summary>
    public string? CredentialsDirectory { get; set; }

    /// <summary>The user name of the platform's own connection when none is configured.</summary>
    public const string GeneratedUsername = "platform";

    /// <summary>The file, in <see cref="CredentialsDirectory"/>, that holds the generated platform password.</summary>
    public const string PasswordFileName = "mqtt-platform-password";

    private readonly Lock _credentialsLock = new();

    /// <summary>
    /// For the embedded broker without a configured <see cref="Username"/>: sets the platform's credentials to user
    /// <see cref="GeneratedUsername"/> and a generated password (read from, or written to, <see cref="CredentialsDirectory"/>),
    /// so the broker never accepts anonymous clients. Idempotent.
    /// </summary>
    public void EnsureEmbeddedCredentials()
    {
        if (!StartsEmbeddedBroker) return;
        lock (_credentialsLock)
        {
            if (!string.IsNullOrEmpty(Username)) return;
            Password = string.IsNullOrWhiteSpace(CredentialsDirectory)
                ? NewSecret()
                : SecretFile.LoadOrCreate(Path.Combine(CredentialsDirectory, PasswordFileName), NewSecret);
            Username = GeneratedUsername;
        }
    }

    private static string NewSecret() =>
        Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The start of the client id; a random suffix keeps every connection unique (default <c>platform</c>).</summary>
    public string ClientIdPrefix { get; set; } = "platform";

    /// <summary>When true (the default) and no <see cref="Host"/> is set, an embedded broker starts in-process.</summary>
    public bool Embedded { get; set; } = true;

    /// <summary>The embedded broker's port (default 1883). 0 means: do not start the embedded broker.</summary>
    public int EmbeddedPort { get; set; } = DefaultPort;

    /// <summary>
    /// The address the embedded broker listens on (default <c>127.0.0.1</c>, this machine only). Set <c>0.0.0.0</c> to let
    /// devices on the network connect, and then also set <see cref="Username"/> and <see cref="Password"/>.
    /// </summary>
    public string EmbeddedBindAddress { get; set; } = "127.0.0.1";

    /// <summary>The embedded broker's listeners: <c>Platform:Mqtt:Broker:PlainTcp</c> (default true) and the optional TLS listener
    /// <c>Platform:Mqtt:Broker:Tls</c> (CertificatePath, KeyPath, Password, Port 8883).</summary>
    public MqttBrokerOptions Broker { get; set; } = new();

    /// <summary>True when the platform's own connection to the embedded broker goes over TLS (the plain listener is off).</summary>
    internal bool UsesEmbeddedTls => !HasExternalBroker && !Broker.PlainTcp && Broker.Tls.IsEnabled;

    /// <summary>How long one connection attempt may take (default 5 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The first delay between reconnection attempts; it doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The longest delay between reconnection attempts (default 30 s).</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>True when an external broker is configured.</summary>
    public bool HasExternalBroker => !string.IsNullOrWhiteSpace(Host);

    /// <summary>True when the embedded broker should start.</summary>
    public bool StartsEmbeddedBroker => !HasExternalBroker && Embedded && EmbeddedPort > 0;

    /// <summary>True when the shared connection has a broker to connect to.</summary>
    public bool IsConfigured => HasExternalBroker || StartsEmbeddedBroker;

    /// <summary>The broker the shared connection uses, as <c>host:port</c>, or null when none is configured.</summary>
    public string? Endpoint => HasExternalBroker ? $"{Host!.Trim()}:{Port}"
        : StartsEmbeddedBroker ? (UsesEmbeddedTls ? $"{EmbeddedClientHost}:{Broker.Tls.Port} (TLS)" : $"{EmbeddedClientHost}:{EmbeddedPort}") : null;

    /// <summary>The host name the shared connection uses for the embedded broker.</summary>
    internal string EmbeddedClientHost =>
        System.Net.IPAddress.TryParse(EmbeddedBindAddress, out var a) && !a.Equals(System.Net.IPAddress.Any) && !a.Equals(System.Net.IPAddress.IPv6Any)
            && !System.Net.IPAddress.IsLoopback(a) ? a.ToString() : "127.0.0.1";

    /// <summary>Checks the values; the message says how to fix them.</summary>
    /// <exception cref="InvalidOperationException">A value is out of range.</exception>
    public void Validate()
    {
        if (Port is <= 0 or > 65535)
            throw new InvalidOperationException($"{SectionName}:Port is {Port}; use a TCP port between 1 and 65535 (MQTT's default is 1883).");
        if (EmbeddedPort is < 0 or > 65535)
            throw new InvalidOperationException($"{SectionName}:EmbeddedPort is {EmbeddedPort}; use a TCP port between 1 and 65535, or 0 to not start the embedded broker.");
        if (StartsEmbeddedBroker && !System.Net.IPAddress.TryParse(EmbeddedBindAddress, out _))
            throw new InvalidOperationException($"{SectionName}:EmbeddedBindAddress '{EmbeddedBindAddress}' is not an IP address; use 127.0.0.1 (this machine) or 0.0.0.0 (all interfaces).");
        Broker ??= new MqttBrokerOptions();
        Broker.Tls ??= new MqttBrokerTlsOptions();
        if (Broker.Tls.IsEnabled && Broker.Tls.Port is <= 0 or > 65535)
            throw new InvalidOperationException($"{SectionName}:Broker:Tls:Port is {Broker.Tls.Port}; use a TCP port between 1 and 65535 (MQTT over TLS's default is 8883).");
        if (StartsEmbeddedBroker && Broker.Tls.IsEnabled && Broker.PlainTcp && Broker.Tls.Port == EmbeddedPort)
            throw new InvalidOperationException($"{SectionName}:Broker:Tls:Port and {SectionName}:EmbeddedPort are both {EmbeddedPort}; give the TLS listener its own port (8883), or set {SectionName}:Broker:PlainTcp=false.");
        if (StartsEmbeddedBroker && !Broker.PlainTcp && !Broker.Tls.IsEnabled)
            throw new InvalidOperationException($"{SectionName}:Broker:PlainTcp is false but no TLS listener is configured, so the embedded broker would not listen at all. " +
                                                $"Set {SectionName}:Broker:Tls:CertificatePath (and KeyPath), or set PlainTcp back to true.");
    }
}
