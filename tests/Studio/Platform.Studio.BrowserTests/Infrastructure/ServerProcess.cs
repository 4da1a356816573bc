using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Platform.Studio.BrowserTests.Infrastructure;

/// <summary>
/// A real Platform.Server process for a browser test class: its own data directory, port and admin API key, started on
/// embedded defaults (SQLite, embeddings off) and ready once <c>readyPath</c> answers. Skips the test when the server is
/// not in the test output (StudioTestsWithoutServer=true).
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly ChildProcess _process;
    private readonly string _temp;

    private ServerProcess(ChildProcess process, string temp, Uri site, string apiKey)
    {
        _process = process;
        _temp = temp;
        Site = site;
        ApiKey = apiKey;
    }

    /// <summary>The server's address.</summary>
    public Uri Site { get; }

    /// <summary>The admin API key.</summary>
    public string ApiKey { get; }

    /// <summary>Everything the server wrote so far (for failure artifacts).</summary>
    public string Output => _process.Output;

    /// <summary>Starts a server and waits up to two minutes until <paramref name="readyPath"/> answers.</summary>
    /// <param name="name">Names the temporary directory.</param>
    /// <param name="readyPath">A path that answers once the server is up, e.g. the page under test.</param>
    /// <param name="environment">More environment variables (configuration keys with <c>__</c>), or null.</param>
    /// <param name="site">The address to listen on (e.g. one registered at an OpenID provider beforehand); default a free loopback port.</param>
    public static async Task<ServerProcess> StartAsync(string name, string readyPath, IReadOnlyDictionary<string, string?>? environment = null,
        Uri? site = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Platform.Server.dll");
        Assert.SkipUnless(File.Exists(dll), "Platform.Server.dll is not in the test output (StudioTestsWithoutServer=true).");
        var temp = TestPaths.NewTempDirectory(name);
        site ??= new Uri($"http://127.0.0.1:{FreePort.Next()}");
        var apiKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var variables = new Dictionary<string, string?>
        {
            ["Platform__DataDirectory"] = Path.Combine(temp, "data"),
            ["Platform__ApiKeys__0__Key"] = apiKey,
            ["Platform__ApiKeys__0__Role"] = "Admin",
            ["Platform__AI__Embeddings__Enabled"] = "false",
            ["ASPNETCORE_URLS"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>()) variables[key] = value;
        var process = ChildProcess.Start("dotnet", [dll, "--urls", site.ToString().TrimEnd('/')], AppContext.BaseDirectory, variables);
        var server = new ServerProcess(process, temp, site, apiKey);
        try
        {
            using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddSeconds(120);
            while (true)
            {
                Assert.False(process.HasExited, $"The server exited:\n{process.Output}");
                try
                {
                    using var _ = await client.GetAsync(new Uri(site, readyPath));
                    return server;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(250);
                }
            }
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>An API client with the admin key.</summary>
    public HttpClient Api()
    {
        var api = new HttpClient { BaseAddress = Site, Timeout = TimeSpan.FromSeconds(30) };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", ApiKey);
        return api;
    }

    /// <summary>Stops the server and deletes its data.</summary>
    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        TestPaths.TryDelete(_temp);
    }
}
