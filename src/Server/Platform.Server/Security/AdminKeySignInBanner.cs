using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Platform.Server.Security;

/// <summary>
/// Creates the key registry at start (so a missing admin key is generated before the first request), loads the run-time keys,
/// warns about configured Operator keys kept read-only (as before roles existed) and, when the key was generated, logs the Studio
/// sign-in URL once the server listens.
/// </summary>
internal sealed class AdminKeySignInBanner(
    ApiKeyRegistry registry,
    ApiKeyStore store,
    IServer server,
    IHostApplicationLifetime lifetime,
    ILogger<AdminKeySignInBanner> logger) : IHostedService
{
    private const string DefaultBaseUrl = "http://localhost:5000";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.LoadAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            logger.LogWarning(e, "The API keys created at run time could not be loaded yet; they are loaded on first use");
        }
        foreach (var name in registry.ReadOnlyOperatorKeyNames)
            logger.LogWarning("The configured API key {KeyName} has the role Operator, which was read-only before roles existed, so it gets the role " +
                              "Viewer (read-only). Set its Role to Viewer to keep it so, or set {Setting}=false to give configured Operator keys the " +
                              "Operator role (run, retry, cancel and resume workflows, dead letters, device commands; docs/security.md)",
                name, ApiKeyRegistry.ReadOnlyOperatorKeysSetting);
        if (registry.GeneratedKey is null)
        {
            logger.LogInformation("API: {Count} configured key(s) accepted", registry.Count);
            return;
        }
        lifetime.ApplicationStarted.Register(() =>
        {
            var baseUrl = BaseUrl();
            // The key itself never goes to the log (logs are shipped and kept): a masked form and where the file is.
            logger.LogWarning(
                "No API key is configured, so this server uses the generated admin key {MaskedKey} stored in {KeyFile} (readable by the server's user only). " +
                "Sign in to the Studio at {BaseUrl}/?key=<the key in that file>. Configure Platform:ApiKeys to use your own keys.",
                Mask(registry.GeneratedKey), registry.GeneratedKeyPath, baseUrl);
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The first and last 4 characters of a key, the rest as '…' (enough to tell keys apart, not to use one).</summary>
    internal static string Mask(string key) => key.Length <= 12 ? "…" : $"{key[..4]}…{key[^4..]}";

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
