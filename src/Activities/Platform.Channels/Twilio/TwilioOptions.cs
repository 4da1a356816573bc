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

    /// <summary>The REST API base URL; tests point it at a loopback fake. The Twilio SDK addresses
    /// <c>api.twilio.com</c> (or its region and edge); any other base URL takes its requests instead.</summary>
    public Uri ApiBaseUrl { get; init; } = new("https://api.twilio.com/");

    /// <summary>The Twilio region (<c>ie1</c>, <c>au1</c>…) the SDK sends to, or null for the default (US).</summary>
    public string? Region { get; init; }

    /// <summary>The Twilio edge location (<c>dublin</c>, <c>sydney</c>…) the SDK sends through, or null.</summary>
    public string? Edge { get; init; }

    /// <summary>The public URL Twilio posts delivery status updates to (<c>StatusCallback</c>), or null.</summary>
    public Uri? StatusCallbackUrl { get; init; }

    /// <summary>The longest text per message; longer texts are split.</summary>
    public int MaxMessageLength { get; init; } = ChannelLimits.TwilioSms;

    /// <summary>The attachment limits.</summary>
    public AttachmentPolicy Attachments { get; init; } = AttachmentPolicy.Default;

    /// <summary>Timeout of one REST call.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
