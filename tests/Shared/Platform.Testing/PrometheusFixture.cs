using System.Text.Json.Nodes;

namespace Platform.Testing;

/// <summary>
/// A real Prometheus server that scrapes one target, for tests: a <see cref="PrometheusServer"/> (started from
/// <c>tests/services</c>, which installs Debian's <c>prometheus</c> when missing) with a scrape configuration for the
/// target, plus query helpers. Dispose stops it and deletes its data.
/// </summary>
/// <example><code>
/// await using var prometheus = await PrometheusFixture.StartAsync(new Uri("http://127.0.0.1:5000"), "/metrics", apiKey);
/// var value = await prometheus.WaitForValueAsync("platform_messages_received_total", v => v >= 1);
/// </code></example>
public sealed class PrometheusFixture : IAsyncDisposable
{
    private readonly PrometheusServer _server;
    private readonly HttpClient _http;

    private PrometheusFixture(PrometheusServer server)
    {
        _server = server;
        _http = new HttpClient { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Prometheus's own address (its HTTP API is under <c>/api/v1</c>).</summary>
    public Uri BaseUrl => _server.BaseAddress;

    /// <summary>Starts Prometheus scraping <paramref name="target"/><paramref name="metricsPath"/> every 500 ms.</summary>
    /// <param name="target">The scraped server's base address (scheme, host and port).</param>
    /// <param name="metricsPath">The metrics path.</param>
    /// <param name="apiKey">Sent as <c>Authorization: ApiKey &lt;key&gt;</c> when not null.</param>
    /// <param name="ct">Cancels the start.</param>
    public static async Task<PrometheusFixture> StartAsync(Uri target, string metricsPath, string? apiKey, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(target);
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
        return new PrometheusFixture(await PrometheusServer.StartAsync(config, ct).ConfigureAwait(false));
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
        await _server.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Makes sure Debian's <c>prometheus</c> package (with <c>promtool</c>) is installed.</summary>
    public static Task EnsureInstalledAsync(CancellationToken ct = default) =>
        Task.Run(() => ServiceScripts.InstallDebianPackages("prometheus"), ct);

    /// <summary>Finds an executable on the PATH (or in /usr/bin, /usr/sbin), else null.</summary>
    public static string? Find(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin").Append("/usr/sbin"))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
