using Platform.Channels.Rendering;

namespace Platform.Channels.Twilio;

/// <summary>Settings of one Twilio SMS channel.</summary>
public sealed record TwilioOptions
{
    /// <summary>The Account SID (<c>AC…</c>).</summary>
    public required string AccountSid { get; init; }

    /// <summary>The Auth Token: the basic-auth password and the key of <c>X-Twilio-Signature</c>. Secret.</summary>
    public required string AuthToken { get; init; }

    /// <summary>The sending number in E.164 (<c>+15017122661</c>); or set <see cref="MessagingServiceSid"/>.</summary>
    public string? FromNumber { get; init; }

    /// <summary>A Messaging Service SID (<c>MG…</c>) to send from instead of <see cref="FromNumber"/>.</summary>
    public string? MessagingServiceSid { get; init; }

    /// <summary>The REST API base URL; tests point it at a loopback fake.</summary>
    public Uri ApiBaseUrl { get; init; } = new("https://api.twilio.com/");

    /// <summary>The public URL Twilio posts delivery status updates to (<c>StatusCallback</c>), or null.</summary>
    public Uri? StatusCallbackUrl { get; init; }

    /// <summary>The longest text per message; longer texts are split.</summary>
    public int MaxMessageLength { get; init; } = ChannelLimits.TwilioSms;

    /// <summary>The attachment limits.</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>Timeout of one REST call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
