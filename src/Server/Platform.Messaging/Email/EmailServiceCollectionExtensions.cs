using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Platform.Messaging.Email;

/// <summary>Registration of the e-mail channel.</summary>
public static class EmailServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="Platform.Channels.ChannelKind.Email"/> channel: the SMTP sender (an <see cref="IChannelProvider"/>), the
    /// IMAP listeners (a hosted service) and the checkpoint files (<see cref="EmailListenerService.CheckpointDirectory"/>).
    /// </summary>
    public static IServiceCollection AddEmailChannels(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(EmailListenerService))) return services;
        services.TryAddSingleton<EmailThreadIndex>();
        services.TryAddSingleton(sp => new ImapCheckpointStore(
            EmailListenerService.CheckpointDirectory(sp.GetRequiredService<IConfiguration>(), sp.GetService<IHostEnvironment>())));
        services.AddSingleton<IChannelProvider, EmailChannelProvider>();
        services.AddSingleton<EmailListenerService>();
        services.AddSingleton<IHostedService>(sp => sp.GetRequiredService<EmailListenerService>());
        return services;
    }
}
