using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Platform.Studio;

/// <summary>Registers the services of the Studio host.</summary>
public static class StudioServiceCollectionExtensions
{
    /// <summary>
    /// Adds the services that <see cref="StudioEndpointRouteBuilderExtensions.MapStudio"/> needs: the
    /// <see cref="StudioOptions"/> and the locator of the Elsa Studio bundle.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configuration">
    /// The application's root configuration; when given, <see cref="StudioOptions"/> is bound from its
    /// <c>Platform:Studio</c> section. When <see langword="null"/>, the defaults apply.
    /// </param>
    /// <returns>The same <paramref name="services"/>, for chaining.</returns>
    public static IServiceCollection AddStudio(this IServiceCollection services, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var options = services.AddOptions<StudioOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(StudioOptions.SectionName));
        }

        services.TryAddSingleton<StudioBundle>();
        services.TryAddSingleton<StudioAssets>();
        return services;
    }
}
