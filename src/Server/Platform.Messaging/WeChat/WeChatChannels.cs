using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Channels;
using Platform.Channels.Feishu;
using Platform.Channels.WeChat;
using Platform.Messaging.WebChat;

namespace Platform.Messaging.WeChat;

/// <summary>
/// A WeChat or WeCom channel's sender with passive replies (被动回复): a reply that a callback still waiting for its answer
/// takes goes back in that callback's response and is reported sent; every other reply (late, several parts, attachments)
/// goes out through the send API of the adapter (<see cref="Inner"/>).
/// </summary>
public sealed class PassiveReplyWeChatSender(WeChatChannel inner, WebhookReplyWaiters waiters) : IChannelSender
{
    /// <summary>The adapter, which also verifies and parses the callbacks.</summary>
    public WeChatChannel Inner { get; } = inner;

    /// <inheritdoc />
    public ChannelKind Kind => Inner.Kind;

    /// <inheritdoc />
    public string ChannelName => Inner.ChannelName;

    /// <inheritdoc />
    public Task<SendResult> SendAsync(string recipient, OutgoingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!string.IsNullOrEmpty(recipient) && Inner.CanReplyPassively(message))
        {
            var conversation = new ConversationId(Kind, ChannelName, recipient, message.ThreadId).ToString();
            var id = message.IdempotencyKey ?? Guid.CreateVersion7().ToString("N");
            if (waiters.TryHandOver(conversation, new WebhookSyncReply(id, message)))
                return Task.FromResult(new SendResult { Status = SendStatus.Sent, ChannelMessageIds = ["passive:" + id], PartsDelivered = 1, TotalParts = 1 });
        }
        return Inner.SendAsync(recipient, message, cancellationToken);
    }
}

/// <summary>The WeChat Official Account, WeCom and Feishu channel kinds.</summary>
public static class WeChatChannelServiceCollectionExtensions
{
    /// <summary>
    /// Registers the providers. Settings: WeChat <c>appId</c>, <c>appSecret</c>, <c>token</c>, <c>encodingAesKey</c>
    /// (safe mode), <c>passiveReplyMilliseconds</c>, <c>apiBaseUrl</c>; WeCom <c>corpId</c>, <c>corpSecret</c>, <c>agentId</c>,
    /// <c>token</c>, <c>encodingAesKey</c>, <c>passiveReplyMilliseconds</c>, <c>apiBaseUrl</c>; Feishu <c>appId</c>,
    /// <c>appSecret</c>, <c>encryptKey</c>, <c>verificationToken</c>, <c>apiBaseUrl</c> (Lark: https://open.larksuite.com/).
    /// </summary>
    public static IServiceCollection AddWeChatChannels(this IServiceCollection services)
    {
        services.TryAddSingleton<WebhookReplyWaiters>();
        services.AddSingleton<IChannelProvider>(sp => new Provider(ChannelKind.WeChat, c => new PassiveReplyWeChatSender(
            sp.GetRequiredService<ChannelAdapterFactory>().CreateWeChat(c.Name, WeChatSettings(c, ChannelKind.WeChat)), sp.GetRequiredService<WebhookReplyWaiters>())));
        services.AddSingleton<IChannelProvider>(sp => new Provider(ChannelKind.WeCom, c => new PassiveReplyWeChatSender(
            sp.GetRequiredService<ChannelAdapterFactory>().CreateWeChat(c.Name, WeChatSettings(c, ChannelKind.WeCom)), sp.GetRequiredService<WebhookReplyWaiters>())));
        services.AddSingleton<IChannelProvider>(sp => new Provider(ChannelKind.Feishu, c => sp.GetRequiredService<ChannelAdapterFactory>().CreateFeishu(c.Name, new FeishuOptions
        {
            AppId = c.Require("appId"), AppSecret = c.Require("appSecret"), EncryptKey = c.Get("encryptKey"), VerificationToken = c.Get("verificationToken"),
            ApiBaseUrl = Url(c) ?? new Uri("https://open.feishu.cn/"),
        })));
        return services;
    }

    private static WeChatOptions WeChatSettings(ChannelConfig c, ChannelKind kind)
    {
        var wecom = kind == ChannelKind.WeCom;
        var passive = c.Get("passiveReplyMilliseconds") is { Length: > 0 } text
            ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms <= 60_000 ? TimeSpan.FromMilliseconds(ms)
                : throw new ChannelConfigurationException($"Channel '{c.Name}': passiveReplyMilliseconds is '{text}'; set a number of milliseconds from 0 to 60000: WeChat gives up after 5 s, so keep it at most 4500 in production; 0 always uses the send API.")
            : TimeSpan.FromMilliseconds(4500);
        return new WeChatOptions
        {
            Kind = kind,
            AppId = c.Require(wecom ? "corpId" : "appId"),
            Secret = c.Require(wecom ? "corpSecret" : "appSecret"),
            Token = c.Require("token"),
            EncodingAesKey = c.Get("encodingAesKey") is { Length: > 0 } key ? key : null,
            AgentId = wecom ? c.Require("agentId") : null,
            ApiBaseUrl = Url(c),
            PassiveReplyTimeout = passive,
        };
    }

    private static Uri? Url(ChannelConfig c) => c.Get("apiBaseUrl") is { Length: > 0 } s
        ? Uri.TryCreate(s, UriKind.Absolute, out var u) ? u : throw new ChannelConfigurationException($"Channel '{c.Name}': 'apiBaseUrl' must be an absolute URL, not '{s}'.")
        : null;

    private sealed class Provider(ChannelKind kind, Func<ChannelConfig, IChannelSender> create) : IChannelProvider
    {
        public ChannelKind Kind => kind;
        public IChannelSender Create(ChannelConfig channel) => create(channel);
    }
}
