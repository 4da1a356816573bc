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

    /// <summary>WhatsApp formatting: <c>*bold*</c>, <c>_italic_</c>, <c>~strike~</c>, <c>```mono```</c>, links as bare URLs.</summary>
    WhatsApp,

    /// <summary>Discord Markdown: <c>**bold**</c>, <c>*italic*</c>, <c>~~strike~~</c>, code, masked links.</summary>
    DiscordMarkdown,
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

    /// <summary>WhatsApp Cloud API: a text body holds 4096 characters.</summary>
    public const int WhatsApp = 4096;

    /// <summary>WhatsApp interactive messages: the body text of a button or list message holds 1024 characters.</summary>
    public const int WhatsAppInteractiveBody = 1024;

    /// <summary>Discord: a message's <c>content</c> holds 2000 characters.</summary>
    public const int Discord = 2000;
}
