using Platform.Channels.Rendering;

namespace Platform.Channels.Slack;

/// <summary>Settings of one Slack app channel.</summary>
public sealed record SlackOptions
{
    /// <summary>The bot token (<c>xoxb-…</c>) for the Web API. Secret.</summary>
    public required string BotToken { get; init; }

    /// <summary>The app's signing secret (Basic Information → App Credentials). Secret.</summary>
    public required string SigningSecret { get; init; }

    /// <summary>The Web API base URL; tests point it at a loopback fake.</summary>
    public Uri ApiBaseUrl { get; init; } = new("https://slack.com/api/");

    /// <summary>How far <c>X-Slack-Request-Timestamp</c> may be from now (Slack recommends five minutes).</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The bot's own user id (<c>U…</c>); its messages are ignored. Bot messages (<c>bot_id</c>) are ignored anyway.</summary>
    public string? BotUserId { get; init; }

    /// <summary>The longest text per message; longer texts are split.</summary>
    public int MaxMessageLength { get; init; } = ChannelLimits.Slack;

    /// <summary>The attachment limits.</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>Timeout of one Web API call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
