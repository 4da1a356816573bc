using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Platform.Channels;
using Platform.Engine.Contracts;

namespace Platform.Messaging;

/// <summary>Registration of the message gateway.</summary>
public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// Adds channels (from <c>Platform:Channels</c> and the <c>channels</c> table), the inbox processor and the outbox dispatcher,
    /// with the Telegram, Slack, SMS (Twilio) and webhook adapters. Other kinds register an <see cref="IChannelProvider"/>.
    /// Needs the platform persistence and a <c>SecretProtector</c>.
    /// </summary>
    public static IServiceCollection AddPlatformMessaging(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddPlatformChannels();
        services.Configure<MessagingOptions>(o =>
        {
            var s = configuration.GetSection(MessagingOptions.SectionName);
            if (int.TryParse(s["Lanes"], out var lanes)) o.Lanes = lanes;
            if (int.TryParse(s["MaxDeliveryAttempts"], out var max)) o.MaxDeliveryAttempts = max;
            if (TimeSpan.TryParse(s["RetryDelay"], out var delay)) o.RetryDelay = delay;
            if (TimeSpan.TryParse(s["PollInterval"], out var poll)) o.PollInterval = poll;
            if (s["ErrorReplyText"] is { Length: > 0 } text) o.ErrorReplyText = text;
            if (s["MaxMessageLength"] is { Length: > 0 } maxText)
            {
                o.MaxMessageLength = int.TryParse(maxText, out var maxLength) && maxLength is >= 1 and <= 1_000_000 ? maxLength
                    : throw new InvalidOperationException($"{MessagingOptions.SectionName}:MaxMessageLength is '{maxText}'. Set a number of characters between 1 and 1000000 (default {MessagingOptions.DefaultMaxMessageLength}).");
            }
            if (s["TooLongReplyText"] is { Length: > 0 } tooLong) o.TooLongReplyText = tooLong;
            if (s["AttachmentTooLargeReplyText"] is { Length: > 0 } tooLarge) o.AttachmentTooLargeReplyText = tooLarge;
            if (s["AttachmentTooLargeReplyTextZh"] is { Length: > 0 } tooLargeZh) o.AttachmentTooLargeReplyTextZh = tooLargeZh;
            if (s["AttachmentTypeReplyText"] is { Length: > 0 } type) o.AttachmentTypeReplyText = type;
            if (s["AttachmentTypeReplyTextZh"] is { Length: > 0 } typeZh) o.AttachmentTypeReplyTextZh = typeZh;
            if (TimeSpan.TryParse(s["PartialReplyInterval"], System.Globalization.CultureInfo.InvariantCulture, out var partial) && partial >= TimeSpan.Zero) o.PartialReplyInterval = partial;
        });
        services.TryAddSingleton<IChannelStore, EfChannelStore>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Platform.Engine.Contracts.IStartupWarmUp, MessagingWarmUp>());
        services.TryAddSingleton<HttpChannelProviders>();
        services.AddSingleton(sp => sp.GetRequiredService<HttpChannelProviders>().Telegram);
        services.AddSingleton(sp => sp.GetRequiredService<HttpChannelProviders>().Slack);
        services.AddSingleton(sp => sp.GetRequiredService<HttpChannelProviders>().Sms);
        services.AddSingleton(sp => sp.GetRequiredService<HttpChannelProviders>().Webhook);
        services.AddSingleton(sp => sp.GetRequiredService<HttpChannelProviders>().WhatsApp);
        services.AddSingleton(sp => sp.GetRequiredService<HttpChannelProviders>().Discord);
        WebChat.WebChatServiceCollectionExtensions.AddPlatformWebChat(services); // web chat sockets; synchronous webhook replies (after the webhook provider)
        services.TryAddSingleton<ChannelHub>();
        services.TryAddSingleton<OutboxDispatcher>();
        services.AddSingleton<IOutboxListener>(sp => sp.GetRequiredService<OutboxDispatcher>());
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<OutboxDispatcher>());
        services.TryAddSingleton<IMessageDeliveryStatus, OutboxDeliveryStatus>();
        services.AddHostedService<DeliveryWatcher>(); // resumes a Send Message that waits for its deliveries
        services.TryAddSingleton<ChannelHealthMonitor>(); // channel health: delivery attempts per node, last error with a fix
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<ChannelHealthMonitor>());
        NotifyingConversationHandoffs.Decorate(services, configuration); // hand-off notifications (Platform:Handoffs:Notify)
        services.TryAddSingleton<InboundAttachments>(); // inbound files into the attachment store, before the workflow runs
        services.TryAddSingleton<InboxProcessor>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<InboxProcessor>());
        services.TryAddSingleton<MessageInbox>();
        services.TryAddSingleton<Platform.Activities.IConversationMemory, ConversationMemoryFromMessages>(); // the last turns of a conversation (AskModel history)
        services.TryAddSingleton<Platform.Activities.IReplyStreams, ChannelReplyStreams>(); // streamed partial replies (web chat)
        services.TryAddSingleton<Platform.Activities.ITypingIndicator, ChannelTypingIndicator>(); // "typing…" on Telegram, Slack threads, web chat
        services.AddHostedService<Telegram.TelegramPollingService>(); // Telegram channels with mode=polling
        Email.EmailServiceCollectionExtensions.AddEmailChannels(services); // IMAP in, SMTP out
        Mqtt.MqttChannelServiceCollectionExtensions.AddMqttChannels(services); // topics in, reply topic out
        WeChat.WeChatChannelServiceCollectionExtensions.AddWeChatChannels(services); // WeChat Official Account, WeCom, Feishu
        return services;
    }
}
