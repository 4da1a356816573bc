namespace Platform.Persistence.EFCore.Entities;

/// <summary>Row of <c>channels</c>: a configured channel (web chat, webhook, Telegram…). Secrets inside
/// <see cref="Settings"/> are encrypted (AES-256-GCM) by the messaging module before they get here.</summary>
public sealed class ChannelEntity
{
    public required string Name { get; set; }
    public required string Kind { get; set; }
    public bool Enabled { get; set; } = true;
    /// <summary>The channel's settings as JSON, secrets encrypted.</summary>
    public required string Settings { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
