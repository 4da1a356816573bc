using MailKit.Security;
using MimeKit;
using Platform.Channels;

namespace Platform.Messaging.Email;

/// <summary>
/// The settings of an <see cref="ChannelKind.Email"/> channel: <c>imapHost</c>, <c>imapPort</c>, <c>smtpHost</c>, <c>smtpPort</c>,
/// <c>username</c>, <c>password</c> (secret), <c>from</c>, <c>useTls</c> (<c>none</c>, <c>starttls</c> or <c>ssl</c>), <c>folder</c>
/// (default <c>INBOX</c>), <c>pollSeconds</c> (when the server has no IDLE, default 60), <c>useIdle</c> (default true), <c>maxAttachmentBytes</c>.
/// </summary>
public sealed record EmailSettings
{
    /// <summary>The channel name.</summary>
    public required string ChannelName { get; init; }

    /// <summary>The IMAP server, or null for a send-only channel.</summary>
    public string? ImapHost { get; init; }

    /// <summary>The IMAP port (143, or 993 with <c>ssl</c>).</summary>
    public int ImapPort { get; init; }

    /// <summary>The SMTP server, or null for a receive-only channel.</summary>
    public string? SmtpHost { get; init; }

    /// <summary>The SMTP port (587, or 465 with <c>ssl</c>).</summary>
    public int SmtpPort { get; init; }

    /// <summary>The login for IMAP and SMTP (SMTP skips authentication when it is empty).</summary>
    public string? Username { get; init; }

    /// <summary>The password.</summary>
    public string? Password { get; init; }

    /// <summary>The sender address of outgoing mail.</summary>
    public MailboxAddress? From { get; init; }

    /// <summary>Transport security for both servers.</summary>
    public SecureSocketOptions Security { get; init; } = SecureSocketOptions.StartTls;

    /// <summary>The watched IMAP folder.</summary>
    public string Folder { get; init; } = "INBOX";

    /// <summary>How often to look for mail when the server has no IDLE.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>False to poll even when the server offers IDLE (setting <c>useIdle</c>, default true).</summary>
    public bool UseIdle { get; init; } = true;

    /// <summary>The attachment limit; larger attachments are left out of the incoming message (and listed in its metadata).</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>Reads and checks the settings of <paramref name="channel"/>.</summary>
    /// <exception cref="ChannelConfigurationException">A setting is invalid; the message says which and how to fix it.</exception>
    public static EmailSettings Read(ChannelConfig channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var security = (channel.Get("useTls") ?? "starttls").Trim().ToLowerInvariant() switch
        {
            "none" or "false" or "no" => SecureSocketOptions.None,
            "starttls" or "true" or "yes" or "" => SecureSocketOptions.StartTls,
            "ssl" or "tls" or "sslonconnect" => SecureSocketOptions.SslOnConnect,
            var other => throw new ChannelConfigurationException(
                $"Channel '{channel.Name}' (Email): useTls is '{other}'; use 'none', 'starttls' (port 587/143) or 'ssl' (port 465/993)."),
        };
        var ssl = security == SecureSocketOptions.SslOnConnect;
        var username = Trimmed(channel.Get("username"));
        var fromText = Trimmed(channel.Get("from")) ?? (username is not null && username.Contains('@', StringComparison.Ordinal) ? username : null);
        MailboxAddress? from = null;
        if (fromText is not null && !MailboxAddress.TryParse(fromText, out from))
            throw new ChannelConfigurationException($"Channel '{channel.Name}' (Email): from is '{fromText}', which is not an e-mail address. Use 'bot@example.com' or 'Bot <bot@example.com>'.");
        var settings = new EmailSettings
        {
            ChannelName = channel.Name,
            ImapHost = Trimmed(channel.Get("imapHost")),
            ImapPort = Port(channel, "imapPort", ssl ? 993 : 143),
            SmtpHost = Trimmed(channel.Get("smtpHost")),
            SmtpPort = Port(channel, "smtpPort", ssl ? 465 : 587),
            Username = username,
            Password = channel.Get("password"),
            From = from,
            Security = security,
            Folder = Trimmed(channel.Get("folder")) ?? "INBOX",
            PollInterval = TimeSpan.FromSeconds(Number(channel, "pollSeconds", 60, 1, 86_400)),
            UseIdle = !bool.TryParse(channel.Get("useIdle"), out var idle) || idle,
            Attachments = new AttachmentPolicy { MaxBytes = Number(channel, "maxAttachmentBytes", AttachmentPolicy.DefaultMaxBytes, 0, long.MaxValue) },
        };
        if (settings.ImapHost is null && settings.SmtpHost is null)
            throw new ChannelConfigurationException($"Channel '{channel.Name}' (Email) needs 'imapHost' (to receive) and/or 'smtpHost' (to send).");
        if (settings.ImapHost is not null && (username is null || string.IsNullOrEmpty(settings.Password)))
            throw new ChannelConfigurationException($"Channel '{channel.Name}' (Email) receives over IMAP and needs 'username' and 'password' (the mailbox login).");
        return settings;
    }

    private static string? Trimmed(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static int Port(ChannelConfig channel, string name, int fallback) => (int)Number(channel, name, fallback, 1, 65_535);

    private static long Number(ChannelConfig channel, string name, long fallback, long min, long max)
    {
        var text = Trimmed(channel.Get(name));
        if (text is null) return fallback;
        return long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ChannelConfigurationException($"Channel '{channel.Name}' (Email): {name} is '{text}'; use a whole number from {min} to {max}.");
    }
}
