using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Platform.Messaging.WebChat;

/// <summary>Registration of the channels the platform serves on its own endpoints: web chat, and synchronous webhook replies.</summary>
public static class WebChatServiceCollectionExtensions
{
    /// <summary>
    /// Adds the web chat channel kind (<see cref="WebChatChannelProvider"/>, the socket registry, conversation tokens) and
    /// wraps the webhook adapter so synchronous webhook requests get their reply in the response. Call it after the
    /// webhook provider is registered (it replaces it as the last provider of its kind).
    /// </summary>
    public static IServiceCollection AddPlatformWebChat(this IServiceCollection services)
    {
        services.AddOptions<WebChatOptions>();
        services.TryAddSingleton<WebChatConnections>();
        services.TryAddSingleton<WebChatTokens>();
        services.TryAddSingleton<AttachmentLinks>(); // signed links to stored attachments for visitors
        services.TryAddSingleton<WebChatServices>();
        services.AddSingleton<IChannelProvider, WebChatChannelProvider>();
        services.TryAddSingleton<WebhookReplyWaiters>();
        services.AddSingleton<IChannelProvider>(sp => new SyncReplyWebhookProvider(
            sp.GetRequiredService<HttpChannelProviders>().Webhook, sp.GetRequiredService<WebhookReplyWaiters>()));
        return services;
    }
}
