using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Platform.Identity;

namespace Platform.Server.Security;

/// <summary>
/// The one-time first-start sign-in link: while there is no user account, the server creates a random token valid for
/// 15 minutes and for one use, stores only its SHA-256, and writes the link to <c>first-sign-in-link</c> in the data
/// directory (0600). Opening the link signs the bearer in as Admin, who then sets the first user name and password.
/// </summary>
public sealed class SignInLinks(IServiceScopeFactory scopes, TimeProvider? time = null)
{
    /// <summary>How long a link is valid.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(15);

    /// <summary>The file in the data directory that holds the full link.</summary>
    public const string FileName = "first-sign-in-link";

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>Whether any user account exists.</summary>
    public async Task<bool> AnyUserAsync(CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<PlatformIdentityDbContext>().Users.AnyAsync(ct);
    }

    /// <summary>Creates a new link (earlier ones stop working) when no user exists; returns its token, or null.</summary>
    public async Task<string?> CreateIfNoUsersAsync(CancellationToken ct = default)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformIdentityDbContext>();
        if (await db.Users.AnyAsync(ct)) return null;
        var token = Base64Url(RandomNumberGenerator.GetBytes(32));
        await db.SignInLinks.ExecuteDeleteAsync(ct);
        db.SignInLinks.Add(new SignInLink { TokenHash = Hash(token), ExpiresAt = _time.GetUtcNow() + Lifetime });
        await db.SaveChangesAsync(ct);
        return token;
    }

    /// <summary>
    /// Uses a link: true when the token is known, unused and not expired and there is still no user (the link is then used up).
    /// </summary>
    public async Task<bool> RedeemAsync(string? token, CancellationToken ct = default)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 200) return false;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformIdentityDbContext>();
        if (await db.Users.AnyAsync(ct)) return false;
        var hash = Hash(token.Trim());
        var link = await db.SignInLinks.FirstOrDefaultAsync(l => l.TokenHash == hash, ct);
        var now = _time.GetUtcNow();
        if (link is null || link.UsedAt is not null || link.ExpiresAt <= now) return false;
        // Conditional update: of two requests racing with the same token, one wins.
        var used = await db.SignInLinks.Where(l => l.TokenHash == hash && l.UsedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.UsedAt, now), ct);
        return used == 1;
    }

    internal static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>
/// At start, when there is no user account: creates the first-start link, writes it to the data directory (0600) and logs
/// it masked with the file's path once the server listens. When users exist, deletes a leftover link file.
/// </summary>
internal sealed class SignInLinkBanner(
    SignInLinks links,
    IServer server,
    IHostApplicationLifetime lifetime,
    IConfiguration configuration,
    IHostEnvironment environment,
    ILogger<SignInLinkBanner> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var dataDirectory = Extensions.PlatformHostExtensions.ResolveDataDirectory(configuration["Platform:DataDirectory"], environment.ContentRootPath);
        var file = Path.Combine(dataDirectory, SignInLinks.FileName);
        string? token;
        try
        {
            token = await links.CreateIfNoUsersAsync(cancellationToken);
        }
        catch (Exception e) when (e is Microsoft.EntityFrameworkCore.DbUpdateException or System.Data.Common.DbException)
        {
            // E.g. Platform:Database:MigrateOnStartup=false and the identity tables not created yet: the API keys still work.
            logger.LogError(e, "Could not read the user accounts (are the identity_* tables migrated?); no first-start sign-in link was created");
            return;
        }
        if (token is null)
        {
            if (File.Exists(file)) File.Delete(file);
            return;
        }
        lifetime.ApplicationStarted.Register(() =>
        {
            var baseUrl = BaseUrl();
            try
            {
                if (File.Exists(file)) File.Delete(file);
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                using var stream = new FileStream(file, options);
                using var writer = new StreamWriter(stream);
                writer.WriteLine($"{baseUrl}/signin#link={token}");
            }
            catch (IOException e)
            {
                logger.LogError(e, "Could not write the first sign-in link to {File}", file);
            }
            // The token never goes to the log: a masked form and the file that holds it.
            logger.LogWarning(
                "There is no user account yet. Open the one-time sign-in link {MaskedLink} (the full link is in {LinkFile}, readable by the server's user only; " +
                "valid for {Minutes} minutes and once; restart the server for a new one) to create the first admin.",
                $"{baseUrl}/signin#link={AdminKeySignInBanner.Mask(token)}", file, (int)SignInLinks.Lifetime.TotalMinutes);
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private string BaseUrl()
    {
        var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault(a => a.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) ?? addresses?.FirstOrDefault();
        if (string.IsNullOrEmpty(address)
            || !Uri.TryCreate(address.Replace("://+", "://localhost").Replace("://*", "://localhost"), UriKind.Absolute, out var uri))
            return "http://localhost:5000";
        var host = uri.Host is "0.0.0.0" or "[::]" or "::" ? "localhost" : uri.Host;
        return $"{uri.Scheme}://{host}:{uri.Port}";
    }
}
