using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Studio.BrowserTests.Infrastructure;

/// <summary>Which backend the Studio tests run against.</summary>
public enum StudioBackend
{
    /// <summary>The real Platform.Server, started as a child process from the test output (the default).</summary>
    Server,

    /// <summary>
    /// The reference fake Elsa backend (node server.js with fixtures-plus.js) behind an in-process Studio host.
    /// Selected with <c>PLATFORM_STUDIO_BACKEND=fake</c>; it ignores API keys.
    /// </summary>
    Fake,
}

/// <summary>
/// A running site that serves the Studio and the Elsa API on one origin: by default the real server
/// (<c>dotnet Platform.Server.dll --urls http://127.0.0.1:PORT</c> with a temporary SQLite data directory and a
/// random Admin API key), or the reference fake backend (see <see cref="StudioBackend.Fake"/>).
/// </summary>
public sealed class StudioApp : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private ChildProcess? _process;
    private InProcessStudioHost? _studioHost;
    private string? _tempDirectory;

    public StudioBackend Backend { get; } =
        string.Equals(Environment.GetEnvironmentVariable("PLATFORM_STUDIO_BACKEND"), "fake", StringComparison.OrdinalIgnoreCase)
            ? StudioBackend.Fake
            : StudioBackend.Server;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The Admin API key the server was started with (the fake backend accepts any key).</summary>
    public string ApiKey { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    /// <summary>What the backend printed so far (for failure artifacts).</summary>
    public string Logs => _process is null
        ? "(no backend output)"
        : $"# {_process.Description}\n# exit code: {(_process.HasExited ? _process.ExitCode.ToString() : "still running")}\n{_process.Output}";

    public async ValueTask InitializeAsync()
    {
        _tempDirectory = TestPaths.NewTempDirectory("studio-tests");
        if (Backend == StudioBackend.Server)
        {
            await StartServerAsync();
        }
        else
        {
            await StartFakeAsync();
        }
    }

    private async Task StartServerAsync()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Platform.Server.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException(
                $"{dll} is missing: this test project was built without Platform.Server (StudioTestsWithoutServer=true?). " +
                "Build it normally, or run against the reference fake backend with PLATFORM_STUDIO_BACKEND=fake.");
        }

        var port = FreePort.Next();
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        var environment = new Dictionary<string, string?>
        {
            ["Platform__DataDirectory"] = Path.Combine(_tempDirectory!, "data"),
            ["Platform__ApiKeys__0__Key"] = ApiKey,
            ["Platform__ApiKeys__0__Role"] = "Admin",
            ["ASPNETCORE_URLS"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["DOTNET_ENVIRONMENT"] = "Production",
            ["Logging__Console__FormatterName"] = "simple",
        };
        _process = ChildProcess.Start("dotnet", [dll, "--urls", BaseAddress.ToString().TrimEnd('/')],
            AppContext.BaseDirectory, environment);
        await WaitUntilAnsweringAsync(new Uri(BaseAddress, "/"));
    }

    private async Task StartFakeAsync()
    {
        var reference = TestPaths.FakeBackendDirectory()
            ?? throw new InvalidOperationException(
                "PLATFORM_STUDIO_BACKEND=fake needs the reference fake backend: set ELSA_STUDIO_REFERENCE_DIR to the folder " +
                "with server.js and fixtures-plus.js (tests/Shared/reference/elsa-studio-api in the repository).");
        var site = Directory.CreateDirectory(Path.Combine(_tempDirectory!, "site")).FullName;
        var nodePort = FreePort.Next();
        _process = ChildProcess.Start("node",
            [Path.Combine(reference, "server.js"), nodePort.ToString(), site, Path.Combine(_tempDirectory!, "requests.log"),
                Path.Combine(reference, "fixtures-plus.js")],
            _tempDirectory!, new Dictionary<string, string?>());
        var nodeAddress = new Uri($"http://127.0.0.1:{nodePort}");
        await WaitUntilAnsweringAsync(new Uri(nodeAddress, "/elsa/api/features/installed"));
        _studioHost = await InProcessStudioHost.StartAsync(apiTarget: nodeAddress);
        BaseAddress = _studioHost.BaseAddress;
    }

    private async Task WaitUntilAnsweringAsync(Uri probe)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + StartTimeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            if (_process is { HasExited: true })
            {
                throw new InvalidOperationException($"The backend exited (code {_process.ExitCode}) before answering {probe}.\n{Logs}");
            }

            try
            {
                using var response = await client.GetAsync(probe);
                return; // any HTTP answer: it is up
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The backend did not answer {probe} within {StartTimeout.TotalSeconds}s ({last?.Message}).\n{Logs}");
    }

    /// <summary>An HttpClient for the site, optionally sending the API key, without automatic decompression.</summary>
    public HttpClient CreateClient(bool withApiKey = false)
    {
        var client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None, AllowAutoRedirect = false })
        {
            BaseAddress = BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        if (withApiKey)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("ApiKey", ApiKey);
        }

        return client;
    }

    /// <summary>Writes the backend's output next to the other failure artifacts.</summary>
    public async Task SaveLogsAsync(string directory)
    {
        await File.WriteAllTextAsync(Path.Combine(directory, "backend.log"), Logs, Encoding.UTF8);
        var requests = _tempDirectory is null ? null : Path.Combine(_tempDirectory, "requests.log");
        if (requests is not null && File.Exists(requests))
        {
            File.Copy(requests, Path.Combine(directory, "fake-backend-requests.log"), overwrite: true);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_studioHost is not null)
        {
            await _studioHost.DisposeAsync();
        }

        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        TestPaths.TryDelete(_tempDirectory);
    }
}

/// <summary>Tests in this collection share one <see cref="StudioApp"/> (one server process).</summary>
[CollectionDefinition(Name)]
public sealed class StudioAppCollection : ICollectionFixture<StudioApp>
{
    public const string Name = "Studio app";
}
