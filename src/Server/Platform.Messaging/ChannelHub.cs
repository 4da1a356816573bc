using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Platform.Channels;
using Platform.Channels.Slack;
using Platform.Channels.Telegram;
using Platform.Channels.Twilio;
using Platform.Channels.Webhooks;
using Platform.Channels.WhatsApp;
using Platform.Channels.Discord;

namespace Platform.Messaging;

/// <summary>Builds the adapter of one channel kind from a channel's settings. Register one per kind (integrators may add kinds' transports).</summary>
public interface IChannelProvider
{
    /// <summary>The kind it builds.</summary>
    ChannelKind Kind { get; }

    /// <summary>Builds the sender (which for HTTP channels also parses inbound deliveries).</summary>
    /// <exception cref="ChannelConfigurationException">A required setting is missing or invalid.</exception>
    IChannelSender Create(ChannelConfig channel);
}

/// <summary>A configured channel with its adapter.</summary>
/// <param name="Config">The configuration.</param>
/// <param name="Sender">The adapter, or null when it could not be built (see <paramref name="Error"/>).</param>
/// <param name="Error">Why the adapter could not be built.</param>
public sealed record ChannelRuntime(ChannelConfig Config, IChannelSender? Sender, string? Error);

/// <summary>Channels by name, with their adapters built once per configuration change.</summary>
public sealed class ChannelHub
{
    private readonly IChannelStore _store;
    private readonly Dictionary<ChannelKind, IChannelProvider> _providers;
    private readonly ILogger<ChannelHub> _logger;
    private readonly ConcurrentDictionary<string, Task<ChannelRuntime?>> _cache = new(StringComparer.Ordinal);

    public ChannelHub(IChannelStore store, IEnumerable<IChannelProvider> providers, ILogger<ChannelHub> logger)
    {
        _store = store;
        _providers = providers.GroupBy(p => p.Kind).ToDictionary(g => g.Key, g => g.Last());
        _logger = logger;
        store.Changed += name => _cache.TryRemove(name, out _);
    }

    /// <summary>The kinds that have a provider.</summary>
    public IReadOnlyCollection<ChannelKind> SupportedKinds => _providers.Keys;

    /// <summary>The channel and its adapter, or null when no channel has this name.</summary>
    public async Task<ChannelRuntime?> GetAsync(string name, CancellationToken ct = default)
    {
        var task = _cache.GetOrAdd(name, n => BuildAsync(n));
        var result = await task.ConfigureAwait(false);
        if (result is null) _cache.TryRemove(new KeyValuePair<string, Task<ChannelRuntime?>>(name, task));
        return result;
    }

    /// <summary>Drops every cached adapter (after a configuration reload).</summary>
    public void Invalidate(string? name = null)
    {
        if (name is null) _cache.Clear();
        else _cache.TryRemove(name, out _);
    }

    private async Task<ChannelRuntime?> BuildAsync(string name)
    {
        var config = await _store.FindAsync(name).ConfigureAwait(false);
        if (config is null) return null;
        if (!_providers.TryGetValue(config.Kind, out var provider))
            return new ChannelRuntime(config, null, $"No adapter for {config.Kind} channels is installed in this server.");
        try
        {
            return new ChannelRuntime(config, provider.Create(config), null);
        }
        catch (Exception e) when (e is ChannelConfigurationException or ArgumentException or FormatException or UriFormatException)
        {
            _logger.LogWarning("Channel {Channel} ({Kind}) cannot be used: {Error}", name, config.Kind, e.Message);
            return new ChannelRuntime(config, null, e.Message);
        }
    }
}

/// <summary>Telegram, Slack, Twilio SMS and HTTP webhook channels over <see cref="ChannelAdapterFactory"/>.</summary>
internal sealed class HttpChannelProviders(ChannelAdapterFactory factory)
{
    private static Uri? Url(ChannelConfig c, string name) => c.Get(name) is { Length: > 0 } s
        ? Uri.TryCreate(s, UriKind.Absolute, out var u) ? u : throw new ChannelConfigurationException($"Channel '{c.Name}': '{name}' must be an absolute URL, not '{s}'.")
        : null;

    public IChannelProvider Telegram => new Provider(ChannelKind.Telegram, c => factory.CreateTelegram(c.Name, new TelegramOptions
    {
        BotToken = c.Require("botToken"), WebhookSecretToken = c.Get("webhookSecretToken"),
        ApiBaseUrl = Url(c, "apiBaseUrl") ?? new Uri("https://api.telegram.org/"),
    }));

    public IChannelProvider Slack => new Provider(ChannelKind.Slack, c => factory.CreateSlack(c.Name, new SlackOptions
    {
        BotToken = c.Require("botToken"), SigningSecret = c.Require("signingSecret"), BotUserId = c.Get("botUserId"),
        ApiBaseUrl = Url(c, "apiBaseUrl") ?? new Uri("https://slack.com/api/"),
    }));

    public IChannelProvider Sms => new Provider(ChannelKind.Sms, c => factory.CreateTwilio(c.Name, new TwilioOptions
    {
        AccountSid = c.Require("accountSid"), AuthToken = c.Require("authToken"), FromNumber = c.Get("fromNumber"),
        MessagingServiceSid = c.Get("messagingServiceSid"), ApiBaseUrl = Url(c, "apiBaseUrl") ?? new Uri("https://api.twilio.com/"),
        StatusCallbackUrl = TwilioStatusCallbackUrl(c), Region = c.Get("region"), Edge = c.Get("edge"),
    }));

    /// <summary>
    /// Where Twilio reports the delivery status of an SMS channel's messages: the <c>statusCallbackUrl</c> setting; else the
    /// <c>publicBaseUrl</c> setting (the server's public address, such as <c>https://bot.example.com</c>) plus
    /// <c>/channels/{name}/twilio/status</c>; else the <c>publicUrl</c> setting (the inbound URL configured at Twilio) with its
    /// <c>/twilio/messages</c> changed to <c>/twilio/status</c>. Null when none is set: messages then go out without a status callback.
    /// </summary>
    public static Uri? TwilioStatusCallbackUrl(ChannelConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (Url(c, "statusCallbackUrl") is { } explicitUrl) return explicitUrl;
        if (Url(c, "publicBaseUrl") is { } baseUrl)
        {
            if (baseUrl.Scheme is not ("http" or "https") || baseUrl.Query.Length > 0)
                throw new ChannelConfigurationException($"Channel '{c.Name}': 'publicBaseUrl' must be the server's public http(s) address without a query, such as https://bot.example.com, not '{baseUrl}'.");
            return new Uri(baseUrl.GetLeftPart(UriPartial.Path).TrimEnd('/') + TwilioChannel.StatusCallbackPath(c.Name));
        }
        const string inbound = "/twilio/messages";
        if (Url(c, "publicUrl") is { } publicUrl && publicUrl.AbsolutePath.EndsWith(inbound, StringComparison.Ordinal))
        {
            var path = publicUrl.GetLeftPart(UriPartial.Path);
            return new Uri(path[..^inbound.Length] + "/twilio/status");
        }
        return null;
    }

    public IChannelProvider Webhook => new Provider(ChannelKind.Webhook, c => factory.CreateWebhook(c.Name, new WebhookChannelOptions
    {
        Secret = c.Require("secret"), PreviousSecret = c.Get("previousSecret"), OutboundUrl = Url(c, "outboundUrl"),
    }));

    public IChannelProvider WhatsApp => new Provider(ChannelKind.WhatsApp, c => factory.CreateWhatsApp(c.Name, new WhatsAppOptions
    {
        PhoneNumberId = c.Require("phoneNumberId"), AccessToken = c.Require("accessToken"), AppSecret = c.Require("appSecret"),
        VerifyToken = c.Require("verifyToken"), ApiBaseUrl = Url(c, "apiBaseUrl") ?? new Uri("https://graph.facebook.com/"),
        ApiVersion = c.Get("apiVersion") is { Length: > 0 } version ? version : "v21.0",
        TemplateName = c.Get("templateName") is { Length: > 0 } template ? template : null,
        TemplateLanguage = c.Get("templateLanguage") is { Length: > 0 } language ? language : "en_US",
        SendReadReceipts = c.Get("sendReadReceipts") is not ("false" or "False"),
    }));

    public IChannelProvider Discord => new Provider(ChannelKind.Discord, c => factory.CreateDiscord(c.Name, new DiscordOptions
    {
        ApplicationId = c.Require("applicationId"), PublicKey = c.Require("publicKey"), BotToken = c.Get("botToken") is { Length: > 0 } bot ? bot : null,
        ApiBaseUrl = Url(c, "apiBaseUrl") ?? new Uri("https://discord.com/api/v10/"),
    }));

    private sealed class Provider(ChannelKind kind, Func<ChannelConfig, IChannelSender> create) : IChannelProvider
    {
        public ChannelKind Kind => kind;
        public IChannelSender Create(ChannelConfig channel) => create(channel);
    }
}
