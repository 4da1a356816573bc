using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Server.Extensions;

namespace Platform.Server.Security;

/// <summary>The registrations of API key authentication, the role policies and the lockout (docs/security.md).</summary>
public static class ApiKeyHostExtensions
{
    /// <summary>
    /// Registers the configured keys (<see cref="ApiKeyRegistry"/>), the run-time keys (<see cref="ApiKeyStore"/>, which needs
    /// <c>AddPlatformPersistence</c> first), the lockout (<c>Platform:Security:Lockout</c>), the <c>ApiKey</c> authentication
    /// scheme (the default) and one authorization policy per capability (<see cref="ApiPolicies"/>).
    /// </summary>
    public static AuthenticationBuilder AddPlatformApiKeys(this IServiceCollection services, IConfiguration configuration,
        IReadOnlyList<ApiKeyOptions> configured, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var readOnlyOperators = configuration[ApiKeyRegistry.ReadOnlyOperatorKeysSetting] is not { Length: > 0 } text || (bool.TryParse(text, out var flag)
            ? flag : throw new InvalidOperationException($"{ApiKeyRegistry.ReadOnlyOperatorKeysSetting} is '{text}'; use true (default) or false."));
        var registry = ApiKeyRegistry.Create(configured, dataDirectory, readOnlyOperators);
        var refresh = ConfigurationDocumentsHostExtensions.RefreshInterval(configuration);
        services.AddSingleton(registry);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(KeyLockoutOptions.Read(configuration));
        services.AddSingleton<KeyLockout>();
        services.AddSingleton(sp => new ApiKeyStore(registry, sp.GetRequiredService<Platform.Activities.IConfigurationDocuments>(),
            sp.GetRequiredService<KeyLockout>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ApiKeyStore>>(), refresh));
        services.AddHostedService<AdminKeySignInBanner>();

        var authorization = services.AddAuthorizationBuilder();
        foreach (var (policy, minimum) in ApiPolicies.MinimumRole)
            authorization.AddPolicy(policy, p => p.RequireAuthenticatedUser().RequireRole(ApiKeyRoles.AtLeast(minimum)));
        return services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
    }
}
