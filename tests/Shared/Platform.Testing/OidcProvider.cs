using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Platform.Testing;

/// <summary>
/// A real OpenID Connect provider for single sign-on tests: the npm package <c>oidc-provider</c> run by Node from
/// <c>tests/services/oidc</c> (installed there with <c>npm ci</c> on first use), on a free loopback port, with one
/// confidential client and the development login pages (any password is accepted; the login name is the user).
/// </summary>
/// <example>
/// <code>
/// await using var oidc = await OidcProvider.StartAsync([new Uri(site, "/signin-oidc")],
///     new Dictionary&lt;string, string[]&gt; { ["alice"] = ["platform-admins"] });
/// // configure Platform:Authentication:Oidc:Authority = oidc.Authority, ClientId = oidc.ClientId, ClientSecret = oidc.ClientSecret
/// </code>
/// </example>
public sealed class OidcProvider : IAsyncDisposable
{
    private static readonly SemaphoreSlim InstallGate = new(1, 1);
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private OidcProvider(Process process, Uri authority, string clientId, string clientSecret)
    {
        _process = process;
        Authority = authority;
        ClientId = clientId;
        ClientSecret = clientSecret;
    }

    /// <summary>The issuer (<c>http://127.0.0.1:&lt;port&gt;</c>).</summary>
    public Uri Authority { get; }

    /// <summary>The registered client's id.</summary>
    public string ClientId { get; }

    /// <summary>The registered client's secret (sent in the token request's body).</summary>
    public string ClientSecret { get; }

    /// <summary>What the provider printed (for failure artifacts).</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>The folder with the provider script and its package.json.</summary>
    public static string Directory => TestPaths.InRepo("tests", "services", "oidc");

    /// <summary>Starts a provider and waits until its discovery document answers.</summary>
    /// <param name="redirectUris">The client's allowed redirect URIs (the server's <c>/signin-oidc</c>).</param>
    /// <param name="users">Each login's <c>groups</c> claim; other logins have no groups.</param>
    public static async Task<OidcProvider> StartAsync(IEnumerable<Uri> redirectUris, IReadOnlyDictionary<string, string[]> users,
        CancellationToken ct = default)
    {
        await EnsureInstalledAsync(ct);
        var port = FreePort();
        var clientId = "platform-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = Directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("provider.mjs");
        info.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["CLIENT_ID"] = clientId;
        info.Environment["CLIENT_SECRET"] = secret;
        info.Environment["REDIRECT_URIS"] = string.Join(',', redirectUris.Select(u => u.ToString()));
        info.Environment["USERS"] = JsonSerializer.Serialize(users);
        var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start node; install Node.js 20 or later (apt-get install nodejs npm).");
        var provider = new OidcProvider(process, new Uri($"http://127.0.0.1:{port}"), clientId, secret);
        process.OutputDataReceived += (_, e) => provider.Append(e.Data);
        process.ErrorDataReceived += (_, e) => provider.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                if (process.HasExited) throw new InvalidOperationException($"The OpenID provider exited:\n{provider.Output}");
                try
                {
                    using var response = await http.GetAsync(new Uri(provider.Authority, "/.well-known/openid-configuration"), ct);
                    if (response.IsSuccessStatusCode) return provider;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
                {
                }
                if (DateTime.UtcNow >= deadline) throw new TimeoutException($"The OpenID provider did not answer within 60 s:\n{provider.Output}");
                await Task.Delay(100, ct);
            }
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs <c>npm ci</c> in <see cref="Directory"/> unless <c>node_modules/oidc-provider</c> is there.</summary>
    public static async Task EnsureInstalledAsync(CancellationToken ct = default)
    {
        await InstallGate.WaitAsync(ct);
        try
        {
            if (File.Exists(Path.Combine(Directory, "node_modules", "oidc-provider", "package.json"))) return;
            var info = new ProcessStartInfo("npm") { WorkingDirectory = Directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in (string[])["ci", "--no-audit", "--no-fund"]) info.ArgumentList.Add(a);
            using var npm = Process.Start(info) ?? throw new InvalidOperationException("Could not start npm; install Node.js and npm (apt-get install nodejs npm).");
            var stdout = npm.StandardOutput.ReadToEndAsync(ct);
            var stderr = npm.StandardError.ReadToEndAsync(ct);
            await npm.WaitForExitAsync(ct);
            if (npm.ExitCode != 0)
                throw new InvalidOperationException($"'npm ci' in {Directory} failed ({npm.ExitCode}):\n{await stdout}\n{await stderr}");
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Stops the provider.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
        }
        finally
        {
            _process.Dispose();
        }
    }
}
