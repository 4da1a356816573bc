using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace Platform.Testing;

/// <summary>
/// A real Prometheus server for tests, self-contained: when the <c>prometheus</c> binary is missing it installs the Debian
/// package <c>prometheus</c> (as root, with apt-get), then starts it on a free loopback port with a temporary configuration and
/// data directory. Dispose stops it and deletes both.
/// </summary>
/// <example><code>
/// await using var prometheus = await PrometheusFixture.StartAsync(new Uri("http://127.0.0.1:5000"), "/metrics", apiKey);
/// var value = await prometheus.WaitForValueAsync("platform_messages_received_total", v => v >= 1);
/// </code></example>
public sealed class PrometheusFixture : IAsyncDisposable
{
    private static readonly SemaphoreSlim InstallLock = new(1, 1);
    private readonly Process _process;
    private readonly string _directory;
    private readonly HttpClient _http;

    private PrometheusFixture(Process process, string directory, Uri baseUrl)
    {
        _process = process;
        _directory = directory;
        BaseUrl = baseUrl;
        _http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Prometheus's own address (its HTTP API is under <c>/api/v1</c>).</summary>
    public Uri BaseUrl { get; }

    /// <summary>Starts Prometheus scraping <paramref name="target"/><paramref name="metricsPath"/> every 500 ms.</summary>
    /// <param name="target">The scraped server's base address (scheme, host and port).</param>
    /// <param name="metricsPath">The metrics path.</param>
    /// <param name="apiKey">Sent as <c>Authorization: ApiKey &lt;key&gt;</c> when not null.</param>
    /// <param name="ct">Cancels the start.</param>
    public static async Task<PrometheusFixture> StartAsync(Uri target, string metricsPath, string? apiKey, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        var binary = await EnsureInstalledAsync(ct).ConfigureAwait(false);
        var directory = Path.Combine(Path.GetTempPath(), $"platform-prometheus-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(directory, "data"));
        var auth = apiKey is null ? "" : $"""

                authorization:
                  type: ApiKey
                  credentials: "{apiKey}"
            """;
        var config = $"""
            global:
              scrape_interval: 500ms
              scrape_timeout: 400ms
            scrape_configs:
              - job_name: platform
                metrics_path: "{metricsPath}"
                scheme: {target.Scheme}{auth}
                static_configs:
                  - targets: ["{target.Authority}"]
            """;
        var configFile = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configFile, config, ct).ConfigureAwait(false);

        var port = FreePort();
        var info = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add($"--config.file={configFile}");
        info.ArgumentList.Add($"--storage.tsdb.path={Path.Combine(directory, "data")}");
        info.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        info.ArgumentList.Add("--log.level=warn");
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {binary}.");
        var log = new System.Text.StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (log) log.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var fixture = new PrometheusFixture(process, directory, new Uri($"http://127.0.0.1:{port}/"));
        var until = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                await fixture.DisposeAsync().ConfigureAwait(false);
                throw new InvalidOperationException($"Prometheus exited with code {process.ExitCode}:\n{log}");
            }
            try
            {
                using var ready = await fixture._http.GetAsync("-/ready", ct).ConfigureAwait(false);
                if (ready.IsSuccessStatusCode) return fixture;
            }
            catch (HttpRequestException) { }
            if (DateTime.UtcNow > until)
            {
                await fixture.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException($"Prometheus did not become ready within 30 s:\n{log}");
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Runs an instant query (<c>/api/v1/query</c>) and returns its <c>data.result</c> array.</summary>
    public async Task<JsonArray> QueryAsync(string promQl, CancellationToken ct = default)
    {
        var text = await _http.GetStringAsync($"api/v1/query?query={Uri.EscapeDataString(promQl)}", ct).ConfigureAwait(false);
        var body = JsonNode.Parse(text)!;
        if (body["status"]?.GetValue<string>() != "success") throw new InvalidOperationException($"Query {promQl} failed: {text}");
        return body["data"]!["result"]!.AsArray();
    }

    /// <summary>The value of the first series of <paramref name="promQl"/>, or null when there is none.</summary>
    public async Task<double?> ValueAsync(string promQl, CancellationToken ct = default)
    {
        var result = await QueryAsync(promQl, ct).ConfigureAwait(false);
        if (result.Count == 0) return null;
        return double.Parse(result[0]!["value"]![1]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Queries until the first series' value satisfies <paramref name="accept"/> (20 s at most); returns the last value.</summary>
    public async Task<double?> WaitForValueAsync(string promQl, Func<double, bool> accept, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(accept);
        var until = DateTime.UtcNow.AddSeconds(20);
        double? value;
        while (true)
        {
            value = await ValueAsync(promQl, ct).ConfigureAwait(false);
            if (value is { } v && accept(v) || DateTime.UtcNow > until) return value;
            await Task.Delay(250, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The scrape targets' health as Prometheus sees them (<c>/api/v1/targets</c>), for failure messages.</summary>
    public Task<string> TargetsAsync(CancellationToken ct = default) => _http.GetStringAsync("api/v1/targets", ct);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException) { }
        _process.Dispose();
        try { Directory.Delete(_directory, recursive: true); }
        catch (IOException) { }
    }

    /// <summary>The <c>prometheus</c> binary; installs the Debian package when it is missing.</summary>
    public static async Task<string> EnsureInstalledAsync(CancellationToken ct = default)
    {
        if (Find("prometheus") is { } found) return found;
        await InstallLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (Find("prometheus") is { } again) return again;
            await AptGetInstallAsync("prometheus", ct).ConfigureAwait(false);
            return Find("prometheus") ?? throw new InvalidOperationException("apt-get installed the package prometheus, but no prometheus binary is on the PATH.");
        }
        finally
        {
            InstallLock.Release();
        }
    }

    /// <summary>Finds an executable on the PATH (or in /usr/bin), else null.</summary>
    public static string? Find(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/usr/sbin"))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>Installs a Debian package with apt-get (root only); the message names the package when it cannot.</summary>
    public static async Task AptGetInstallAsync(string package, CancellationToken ct = default)
    {
        if (!string.Equals(Environment.UserName, "root", StringComparison.Ordinal))
            throw new InvalidOperationException($"The Debian package '{package}' is missing and the tests do not run as root: install it with `sudo apt-get install {package}`.");
        foreach (var args in new[] { "update", $"install -y --no-install-recommends {package}" })
        {
            var info = new ProcessStartInfo("apt-get", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start apt-get.");
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"apt-get {args} failed ({process.ExitCode}); install the Debian package '{package}' by hand.\n{await stderr.ConfigureAwait(false)}\n{await stdout.ConfigureAwait(false)}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
