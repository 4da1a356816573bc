using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Platform.Engine.Runtime;

namespace Platform.Server.Extensions;

/// <summary>The host's part of the engine's settings: <c>Platform:Engine</c> bound to <see cref="EngineRuntimeOptions"/>.</summary>
public static class EngineHostExtensions
{
    /// <summary>
    /// Binds <c>Platform:Engine</c> (<c>DefaultRetryPolicy:MaxAttempts|Backoff|Delay|MaxDelay</c>, <c>ShutdownTimeout</c>) to
    /// <see cref="EngineRuntimeOptions"/> and checks it when the host starts (<see cref="EngineRuntimeOptionsValidator"/>).
    /// </summary>
    public static IServiceCollection AddPlatformEngineOptions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<EngineRuntimeOptions>().Bind(configuration.GetSection(EngineRuntimeOptionsValidator.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EngineRuntimeOptions>, EngineRuntimeOptionsValidator>());
        return services;
    }
}
