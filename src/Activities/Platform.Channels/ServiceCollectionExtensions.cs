using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Activities.Security;
using Platform.Channels.Feishu;
using Platform.Channels.Slack;
using Platform.Channels.Telegram;
using Platform.Channels.Twilio;
using Platform.Channels.WeChat;
using Platform.Channels.Webhooks;
using Platform.Channels.WhatsApp;
using Platform.Channels.Discord;

namespace Platform.Channels;

/// <summary>Creates channel adapters with <see cref="HttpClient"/>s from <see cref="IHttpClientFactory"/>.</summary>
public sealed class ChannelAdapterFactory(IHttpClientFactory httpClients, IReplayCache replayCache, TimeProvider time, ILoggerFactory loggers)
{
    /// <summary>The name of the <see cref="HttpClient"/> the adapters use.</summary>
    public const string HttpClientName = "Platform.Channels";

    /// <summary>A Telegram channel.</summary>
    public TelegramChannel CreateTelegram(string name, TelegramOptions options) =>
        new(name, options, httpClients.CreateClient(HttpClientName), time, loggers.CreateLogger<TelegramChannel>());

    /// <summary>A Slack channel.</summary>
    public SlackChannel CreateSlack(string name, SlackOptions options) =>
        new(name, options, httpClients.CreateClient(HttpClientName), time, loggers.CreateLogger<SlackChannel>());

    /// <summary>A Twilio SMS channel.</summary>
    public TwilioChannel CreateTwilio(string name, TwilioOptions options) =>
        new(name, options, httpClients.CreateClient(HttpClientName), time, loggers.CreateLogger<TwilioChannel>());

    /// <summary>An HTTP webhook channel.</summary>
    public WebhookChannel CreateWebhook(string name, WebhookChannelOptions options) =>
        new(name, options, httpClients.CreateClient(HttpClientName), replayCache, time, loggers.CreateLogger<WebhookChannel>());

    /// <summary>A WhatsApp Cloud API channel.</summary>
    public WhatsAppChannel CreateWhatsApp(string name, WhatsAppOptions options) =>
        new(name, options, httpClients.CreateClient(HttpClientName), replayCache, time, loggers.CreateLogger<WhatsAppChannel>());

    /// <summary>A Discord application channel.</summary>
    public DiscordChannel CreateDiscord(string name, DiscordOptions options) =>
        new(name, options, httpClients.CreateClient(HttpClientName), replayCache, time, loggers.CreateLogger<DiscordChannel>());
    /// <summary>A WeChat Official Account or WeCom app channel (<see cref="WeChatOptions.Kind"/>).</summary>
    public WeChatChannel CreateWeChat(string name, WeChatOptions options) =>
        new(name, options, httpClients.CreateClient(HttpClientName), replayCache, time, loggers.CreateLogger<WeChatChannel>());

    /// <summary>A Feishu / Lark bot channel.</summary>
    public FeishuChannel CreateFeishu(string name, FeishuOptions options) =>
        new(name, options, httpClients.CreateClient(HttpClientName), replayCache, time, loggers.CreateLogger<FeishuChannel>());
}

/// <summary>Registration of the channel layer.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ChannelAdapterFactory"/>, the named <see cref="HttpClient"/> (its own timeout off: each
    /// adapter applies <c>RequestTimeout</c> per call), <see cref="TimeProvider.System"/>, an
    /// <see cref="InMemoryReplayCache"/> and an <see cref="InMemoryTelegramOffsetStore"/> unless already registered, and
    /// <see cref="SecretProtector"/> from <see cref="SecretProtectionOptions"/> (bind section
    /// <see cref="SecretProtectionOptions.SectionName"/>; a missing key fails when the protector is first resolved).
    /// </summary>
    public static IServiceCollection AddPlatformChannels(this IServiceCollection services)
    {
        services.AddHttpClient(ChannelAdapterFactory.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddLogging();
        services.AddOptions<SecretProtectionOptions>();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IReplayCache>(sp => new InMemoryReplayCache(sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<ITelegramOffsetStore, InMemoryTelegramOffsetStore>();
        services.TryAddSingleton(sp => SecretProtector.FromOptions(sp.GetRequiredService<IOptions<SecretProtectionOptions>>().Value));
        services.TryAddSingleton<ChannelAdapterFactory>();
        return services;
    }
}
