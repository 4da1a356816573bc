using Platform.Channels.Rendering;

namespace Platform.Channels.Telegram;

/// <summary>Settings of one Telegram bot channel.</summary>
public sealed record TelegramOptions
{
    /// <summary>The bot token from @BotFather (<c>123456:ABC-DEF…</c>). Secret.</summary>
    public required string BotToken { get; init; }

    /// <summary>The secret Telegram sends back in <c>X-Telegram-Bot-Api-Secret-Token</c> on every webhook call
    /// (1–256 characters of <c>A-Z a-z 0-9 _ -</c>). Required for webhook mode. Secret.</summary>
    public string? WebhookSecretToken { get; init; }

    /// <summary>The Bot API base URL; tests point it at a loopback fake.</summary>
    public Uri ApiBaseUrl { get; init; } = new("https://api.telegram.org/");

    /// <summary>How text is sent: <see cref="TextFormat.TelegramHtml"/> (the default),
    /// <see cref="TextFormat.TelegramMarkdownV2"/> or <see cref="TextFormat.PlainText"/>.</summary>
    public TextFormat ParseMode { get; init; } = TextFormat.TelegramHtml;

    /// <summary>The longest text per message; longer texts are split.</summary>
    public int MaxMessageLength { get; init; } = ChannelLimits.Telegram;

    /// <summary>The attachment limits.</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>Timeout of one Bot API call (long polls add their poll timeout to it).</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The long-polling <c>timeout</c> of <c>getUpdates</c>, in seconds.</summary>
    public int PollTimeoutSeconds { get; init; } = 30;

    /// <summary>The update types asked for (webhook and polling).</summary>
    public IReadOnlyList<string> AllowedUpdates { get; init; } = ["message", "callback_query"];
}
