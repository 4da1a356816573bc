namespace Platform.Channels;

/// <summary>The kind of a channel. A platform can have several channels of one kind (two Telegram bots, say),
/// each with its own <see cref="IncomingMessage.ChannelName"/>.</summary>
public enum ChannelKind
{
    /// <summary>The embedded WebSocket chat.</summary>
    WebChat,

    /// <summary>Signed HTTP webhooks, in and out.</summary>
    Webhook,

    /// <summary>MQTT topics.</summary>
    Mqtt,

    /// <summary>A Telegram bot.</summary>
    Telegram,

    /// <summary>A Slack app (Events API in, Web API out).</summary>
    Slack,

    /// <summary>A mailbox (IMAP in, SMTP out).</summary>
    Email,

    /// <summary>SMS through Twilio.</summary>
    Sms,

    /// <summary>WhatsApp through the WhatsApp Business Cloud API (webhooks in, Graph API out).</summary>
    WhatsApp,

    /// <summary>A Discord application (interactions endpoint in, bot and interaction webhooks out).</summary>
    Discord,
    /// <summary>A WeChat Official Account (微信公众号): XML callbacks in, passive replies or the customer-service API out.</summary>
    WeChat,

    /// <summary>A WeCom (企业微信) self-built app: encrypted XML callbacks in, <c>message/send</c> out.</summary>
    WeCom,

    /// <summary>A Feishu / Lark (飞书) bot: event subscription in, <c>im/v1/messages</c> out.</summary>
    Feishu,
}
