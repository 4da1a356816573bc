using System.Security.Cryptography;
using System.Text;

namespace Platform.Mqtt;

/// <summary>
/// A client the embedded broker accepts besides the platform itself (<c>Platform:Mqtt:Clients:N</c>): a device, or a
/// bridge that may use the topics listed.
/// </summary>
public sealed class MqttClientAccount
{
    /// <summary>The user name the client presents.</summary>
    public string? Username { get; set; }

    /// <summary>Its password (at least 12 characters).</summary>
    public string? Password { get; set; }

    /// <summary>
    /// The device id when the client is a device: it may then publish its state on <c>devices/{id}/state</c> and subscribe
    /// to its commands on <c>devices/{id}/set</c> (and its own state).
    /// </summary>
    public string? Device { get; set; }

    /// <summary>Further topic filters the client may publish to (<c>+</c> and <c>#</c> allowed). <c>devices/+/set</c> is never allowed.</summary>
    public List<string> Publish { get; set; } = [];

    /// <summary>Further topic filters the client may subscribe to.</summary>
    public List<string> Subscribe { get; set; } = [];
}

/// <summary>What one connected client may do on the embedded broker.</summary>
/// <param name="Name">The user name (for logs).</param>
/// <param name="IsPlatform">True for the platform's own connection (and the device simulator in it): everything is allowed.</param>
/// <param name="Publish">The topic filters it may publish to.</param>
/// <param name="Subscribe">The topic filters it may subscribe to.</param>
public sealed record MqttClientAccess(string Name, bool IsPlatform, IReadOnlyList<string> Publish, IReadOnlyList<string> Subscribe)
{
    /// <summary>The command topics of all devices: only the platform may publish there.</summary>
    public const string CommandTopicFilter = "devices/+/set";

    /// <summary>True when the client may publish to <paramref name="topic"/>.</summary>
    public bool MayPublish(string topic)
    {
        if (IsPlatform) return true;
        if (MqttTopics.Matches(CommandTopicFilter, topic)) return false;
        return Publish.Any(f => MqttTopics.Matches(f, topic));
    }

    /// <summary>True when the client may subscribe to <paramref name="filter"/>: an allowed filter itself, or a topic within one.</summary>
    public bool MaySubscribe(string filter)
    {
        if (IsPlatform) return true;
        var wildcard = filter.Contains('+') || filter.Contains('#');
        return Subscribe.Any(f => string.Equals(f, filter, StringComparison.Ordinal) || (!wildcard && MqttTopics.Matches(f, filter)));
    }
}

/// <summary>
/// The embedded broker's authentication and topic ACL: the platform's credentials (configured, or generated into the data
/// directory) allow everything; <see cref="MqttOptions.Clients"/> allow their own topics; anybody else is refused.
/// </summary>
public sealed class MqttBrokerAccess
{
    /// <summary>The shortest password accepted for a client.</summary>
    public const int MinimumPasswordLength = 12;

    private readonly (byte[] User, byte[] Password, MqttClientAccess Access)[] _clients;

    /// <summary>Builds the ACL from the options (their platform credentials must be set, see <see cref="MqttOptions.EnsureEmbeddedCredentials"/>).</summary>
    /// <exception cref="InvalidOperationException">A client entry is incomplete; the message says how to fix it.</exception>
    public MqttBrokerAccess(MqttOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var list = new List<(byte[], byte[], MqttClientAccess)>();
        if (!string.IsNullOrEmpty(options.Username))
            list.Add((Hash(options.Username), Hash(options.Password ?? ""), new MqttClientAccess(options.Username, true, [], [])));
        for (var i = 0; i < options.Clients.Count; i++)
        {
            var c = options.Clients[i];
            var where = $"{MqttOptions.SectionName}:Clients:{i}";
            if (string.IsNullOrWhiteSpace(c.Username))
                throw new InvalidOperationException($"{where} has no Username. Give every MQTT client (device or bridge) a user name and a password.");
            if (string.Equals(c.Username, options.Username, StringComparison.Ordinal))
                throw new InvalidOperationException($"{where}:Username '{c.Username}' is the platform's own user name. Give the client another one.");
            if ((c.Password ?? "").Length < MinimumPasswordLength)
                throw new InvalidOperationException($"{where}:Password is missing or shorter than {MinimumPasswordLength} characters. Use a random secret, e.g. 'openssl rand -base64 24'.");
            var publish = c.Publish.Where(f => !string.IsNullOrWhiteSpace(f)).Select(f => f.Trim()).ToList();
            var subscribe = c.Subscribe.Where(f => !string.IsNullOrWhiteSpace(f)).Select(f => f.Trim()).ToList();
            if (!string.IsNullOrWhiteSpace(c.Device))
            {
                var device = c.Device.Trim();
                if (device.Contains('/') || device.Contains('+') || device.Contains('#'))
                    throw new InvalidOperationException($"{where}:Device '{device}' is not a device id (no '/', '+' or '#').");
                publish.Add($"devices/{device}/state");
                subscribe.Add($"devices/{device}/set");
                subscribe.Add($"devices/{device}/state");
            }
            list.Add((Hash(c.Username), Hash(c.Password!), new MqttClientAccess(c.Username, false, publish, subscribe)));
        }
        _clients = [.. list];
    }

    /// <summary>Who presented these credentials, or null when nobody (compared in constant time, every entry).</summary>
    public MqttClientAccess? Authenticate(string? username, string? password)
    {
        if (string.IsNullOrEmpty(username)) return null;
        var user = Hash(username);
        var pass = Hash(password ?? "");
        MqttClientAccess? match = null;
        foreach (var (u, p, access) in _clients)
        {
            var ok = CryptographicOperations.FixedTimeEquals(u, user) & CryptographicOperations.FixedTimeEquals(p, pass);
            if (ok) match = access;
        }
        return match;
    }

    private static byte[] Hash(string s) => SHA256.HashData(Encoding.UTF8.GetBytes(s));
}
