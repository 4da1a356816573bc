using Platform.Channels.Rendering;

namespace Platform.Channels.WhatsApp;

/// <summary>Settings of one WhatsApp Business phone number on the Cloud API.</summary>
public sealed record WhatsAppOptions
{
    /// <summary>The business phone number's id (WhatsApp Manager → API Setup), the <c>{phone-number-id}</c> of the Graph API paths.</summary>
    public required string PhoneNumberId { get; init; }

    /// <summary>A system-user access token with <c>whatsapp_business_messaging</c>, sent as <c>Authorization: Bearer</c>. Secret.</summary>
    public required string AccessToken { get; init; }

    /// <summary>The Meta app's secret (App settings → Basic): the key of <c>X-Hub-Signature-256</c>. Secret.</summary>
    public required string AppSecret { get; init; }

    /// <summary>The verify token typed into the app's webhook settings; the GET handshake must carry it. Secret.</summary>
    public required string VerifyToken { get; init; }

    /// <summary>The Graph API base URL; tests point it at a loopback fake.</summary>
    public Uri ApiBaseUrl { get; init; } = new("https://graph.facebook.com/");

    /// <summary>The Graph API version in the paths.</summary>
    public string ApiVersion { get; init; } = "v21.0";

    /// <summary>
    /// An approved message template sent instead when the customer's last message is more than 24 hours old (the service
    /// answers error 131047 to free-form messages then). Its body must take one text parameter, which carries the message text
    /// (line breaks become spaces, at most 1024 characters). Null: such messages fail with the service's error.
    /// </summary>
    public string? TemplateName { get; init; }

    /// <summary>The language code of <see cref="TemplateName"/> (<c>en_US</c>, <c>de</c>…).</summary>
    public string TemplateLanguage { get; init; } = "en_US";

    /// <summary>Mark each inbound message read and show the typing indicator while the reply is prepared.</summary>
    public bool SendReadReceipts { get; init; } = true;

    /// <summary>The longest text per message; longer texts are split.</summary>
    public int MaxMessageLength { get; init; } = ChannelLimits.WhatsApp;

    /// <summary>The attachment limits.</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>How long a seen signature is remembered, so a replayed delivery is refused.</summary>
    public TimeSpan ReplayWindow { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Timeout of one Graph API call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
