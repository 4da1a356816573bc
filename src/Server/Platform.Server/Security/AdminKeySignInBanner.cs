using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Platform.Server.Security;

/// <summary>
/// Creates the key registry at start (so a missing admin key is generated before the first request) and, when the key
/// was generated, logs the Studio sign-in URL once the server listens.
/// </summary>
internal sealed class AdminKeySignInBanner(
    ApiKeyRegistry registry,
    IServer server,
    IHostApplicationLifetime lifetime,
    ILogger<AdminKeySignInBanner> logger) : IHostedService
{
    private const string DefaultBaseUrl = "http://localhost:5000";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (registry.GeneratedKey is null)
        {
            logger.LogInformation("API: {Count} configured key(s) accepted", registry.Count);
            return Task.CompletedTask;
        }
        lifetime.ApplicationStarted.Register(() =>
        {
            var baseUrl = BaseUrl();
            logger.LogWarning(
                "No API key is configured, so this server uses the generated admin key stored in {KeyFile}. " +
                "Sign in to the Studio with {SignInUrl} . Configure Platform:ApiKeys to use your own keys.",
                registry.GeneratedKeyPath, $"{baseUrl}/?key={Uri.EscapeDataString(registry.GeneratedKey)}");
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private string BaseUrl()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault(a => a.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
            ?? addresses?.FirstOrDefault();
        if (string.IsNullOrEmpty(address)) return DefaultBaseUrl;
        if (!Uri.TryCreate(address.Replace("://+", "://localhost").Replace("://*", "://localhost"), UriKind.Absolute, out var uri))
            return DefaultBaseUrl;
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "localhost" : uri.Host;
        return $"{uri.Scheme}://{host}:{uri.Port}";
    }
}
