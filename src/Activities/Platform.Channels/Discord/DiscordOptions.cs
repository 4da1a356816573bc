using Platform.Channels.Rendering;

namespace Platform.Channels.Discord;

/// <summary>Settings of one Discord application.</summary>
public sealed record DiscordOptions
{
    /// <summary>The application id (General Information → Application ID): the <c>{application.id}</c> of interaction webhooks.</summary>
    public required string ApplicationId { get; init; }

    /// <summary>The application's public key (General Information → Public Key, 64 hex digits): verifies <c>X-Signature-Ed25519</c>.</summary>
    public required string PublicKey { get; init; }

    /// <summary>The bot token for messages in channels (<c>Authorization: Bot …</c>). Secret. Null: the channel only answers
    /// interactions, within their 15 minutes.</summary>
    public string? BotToken { get; init; }

    /// <summary>The REST API base URL; tests point it at a loopback fake.</summary>
    public Uri ApiBaseUrl { get; init; } = new("https://discord.com/api/v10/");

    /// <summary>How far <c>X-Signature-Timestamp</c> may be from now.</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How long an interaction token is used for follow-ups (Discord: 15 minutes), less a margin.</summary>
    public TimeSpan InteractionTokenLifetime { get; init; } = TimeSpan.FromMinutes(14);

    /// <summary>The longest text per message; longer texts are split.</summary>
    public int MaxMessageLength { get; init; } = ChannelLimits.Discord;

    /// <summary>The attachment limits.</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>Timeout of one REST call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
