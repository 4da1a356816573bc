using System.Globalization;
using System.Text.Json.Nodes;

namespace Platform.Messaging.WebChat;

/// <summary>
/// The settings of a web chat channel (<see cref="Platform.Channels.ChannelKind.WebChat"/>):
/// <list type="bullet">
/// <item><c>allowedOrigins</c>: the sites that may open the chat socket from their own pages and frame the <c>/chat</c> page,
/// comma-separated (<c>https://shop.example.com, https://www.example.com</c>) or <c>*</c>. Not set: the socket accepts
/// only pages of this server (the <c>/chat</c> page, also when another site embeds it with <c>widget.js</c>) and clients
/// that send no <c>Origin</c> (apps, scripts); any site may embed the <c>/chat</c> page.</item>
/// <item><c>maxMessageLength</c>: the longest message text accepted, in characters (default 4096).</item>
/// <item><c>fallbackText</c>: as for every channel, the answer when no workflow takes a message.</item>
/// </list>
/// </summary>
public sealed record WebChatSettings
{
    /// <summary>The default longest message text.</summary>
    public const int DefaultMaxMessageLength = 4096;

    /// <summary>Origins allowed besides this server's own; empty when none is configured.</summary>
    public IReadOnlyList<string> AllowedOrigins { get; init; } = [];

    /// <summary>True when <c>allowedOrigins</c> is <c>*</c>.</summary>
    public bool AnyOrigin { get; init; }

    /// <summary>The longest message text accepted.</summary>
    public int MaxMessageLength { get; init; } = DefaultMaxMessageLength;

    /// <summary>How long a conversation token is accepted after it was issued (setting <c>tokenLifetime</c>, a time span
    /// such as <c>30.00:00:00</c> or a number of days); each resume issues a fresh token.</summary>
    public TimeSpan TokenLifetime { get; init; } = WebChatTokens.DefaultLifetime;

    /// <summary>True when <c>allowedOrigins</c> was set.</summary>
    public bool OriginsConfigured => AnyOrigin || AllowedOrigins.Count > 0;

    /// <summary>Reads the settings of a channel.</summary>
    /// <exception cref="ChannelConfigurationException">A setting has a wrong value.</exception>
    public static WebChatSettings From(ChannelConfig channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        var origins = new List<string>();
        if (channel.Settings.TryGetPropertyValue("allowedOrigins", out var node) && node is JsonArray array)
            origins.AddRange(array.Select(n => n?.ToString() ?? "").Where(s => s.Length > 0));
        else if (channel.Get("allowedOrigins") is { Length: > 0 } text)
            origins.AddRange(text.Split([',', ';', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        var any = origins.Contains("*");
        var normalized = new List<string>();
        foreach (var origin in origins.Where(o => o != "*"))
        {
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ChannelConfigurationException(
                    $"Channel '{channel.Name}': allowedOrigins entry '{origin}' is not an origin. Use scheme://host[:port], for example https://www.example.com, or *.");
            normalized.Add(uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant());
        }

        var max = DefaultMaxMessageLength;
        if (channel.Get("maxMessageLength") is { Length: > 0 } maxText
            && (!int.TryParse(maxText, NumberStyles.Integer, CultureInfo.InvariantCulture, out max) || max is < 1 or > 100_000))
            throw new ChannelConfigurationException($"Channel '{channel.Name}': maxMessageLength must be a number of characters between 1 and 100000, not '{maxText}'.");

        var lifetime = WebChatTokens.DefaultLifetime;
        if (channel.Get("tokenLifetime") is { Length: > 0 } lifetimeText)
        {
            if (double.TryParse(lifetimeText, NumberStyles.Float, CultureInfo.InvariantCulture, out var days) && days is > 0 and <= 3650)
                lifetime = TimeSpan.FromDays(days);
            else if (!TimeSpan.TryParse(lifetimeText, CultureInfo.InvariantCulture, out lifetime) || lifetime <= TimeSpan.Zero || lifetime > TimeSpan.FromDays(3650))
                throw new ChannelConfigurationException(
                    $"Channel '{channel.Name}': tokenLifetime must be a number of days (e.g. 30) or a time span (e.g. 7.00:00:00) up to 3650 days, not '{lifetimeText}'.");
        }

        return new WebChatSettings { AllowedOrigins = normalized, AnyOrigin = any, MaxMessageLength = max, TokenLifetime = lifetime };
    }

    /// <summary>
    /// Whether a browser page of <paramref name="origin"/> may open the chat socket on a server reached as
    /// <paramref name="serverHost"/> (host[:port]): no origin (not a browser), a page of this server (same host and port,
    /// either scheme, for TLS-terminating proxies), or an allowed origin.
    /// </summary>
    public bool IsSocketOriginAllowed(string? origin, string serverHost)
    {
        if (string.IsNullOrEmpty(origin)) return true;
        if (AnyOrigin) return true;
        if (!Uri.TryCreate(origin.Trim(), UriKind.Absolute, out var uri)) return false;
        return string.Equals(uri.Authority, serverHost, StringComparison.OrdinalIgnoreCase)
            || AllowedOrigins.Contains(uri.GetLeftPart(UriPartial.Authority).ToLowerInvariant());
    }

    /// <summary>The CSP <c>frame-ancestors</c> value for the chat page: any site when no origins are configured.</summary>
    public string FrameAncestors => !OriginsConfigured || AnyOrigin ? "*" : "'self' " + string.Join(' ', AllowedOrigins);
}
