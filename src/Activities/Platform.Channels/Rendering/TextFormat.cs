namespace Platform.Channels.Rendering;

/// <summary>The output formats of <see cref="MessageRenderer"/>.</summary>
public enum TextFormat
{
    /// <summary>Plain text (SMS, the text part of an e-mail).</summary>
    PlainText,

    /// <summary>Telegram's HTML subset (<c>parse_mode=HTML</c>).</summary>
    TelegramHtml,

    /// <summary>Telegram's MarkdownV2 (<c>parse_mode=MarkdownV2</c>).</summary>
    TelegramMarkdownV2,

    /// <summary>Slack mrkdwn.</summary>
    SlackMrkdwn,

    /// <summary>HTML for the HTML part of an e-mail.</summary>
    Html,
}

/// <summary>Length limits of the channels, in UTF-16 code units of the text sent.</summary>
public static class ChannelLimits
{
    /// <summary>Telegram <c>sendMessage</c>: 4096 characters.</summary>
    public const int Telegram = 4096;

    /// <summary>Twilio Messages: 1600 characters.</summary>
    public const int TwilioSms = 1600;

    /// <summary>Slack: a section block holds 3000 characters (<c>chat.postMessage</c> text itself truncates at 40,000);
    /// the adapter splits at 3000 so the text always fits the block that carries quick-reply buttons.</summary>
    public const int Slack = 3000;
}
