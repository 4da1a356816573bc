using System.Globalization;

namespace Platform.Testing;

/// <summary>
/// A private Prometheus on 127.0.0.1 with a scrape configuration of the test's own, started with
/// <c>tests/services/start-prometheus.sh</c> (which installs Debian's <c>prometheus</c> when missing, as root) and stopped
/// (its data deleted) on dispose; if the test process is killed it stops itself. Query it over <see cref="BaseAddress"/>
/// (<c>/api/v1/query?query=…</c>).
/// </summary>
/// <example><code>
/// await using var prometheus = await PrometheusServer.StartAsync($"""
///     global: {{ scrape_interval: 1s }}
///     scrape_configs: [ {{ job_name: platform, static_configs: [ {{ targets: ["127.0.0.1:{port}"] }} ] }} ]
///     """);
/// </code></example>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly string _directory;

    private PrometheusServer(string directory, int port)
    {
        _directory = directory;
        Port = port;
    }

    /// <summary>The HTTP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary><c>http://127.0.0.1:{port}/</c>.</summary>
    public Uri BaseAddress => new($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");

    /// <summary>Starts Prometheus with <paramref name="configuration"/> (the text of a <c>prometheus.yml</c>); ready when this returns.</summary>
    public static async Task<PrometheusServer> StartAsync(string configuration, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var directory = Path.Combine(Path.GetTempPath(), $"platform-prometheus-{Guid.NewGuid():N}");
        var config = Path.Combine(Path.GetTempPath(), $"platform-prometheus-{Guid.NewGuid():N}.yml");
        await File.WriteAllTextAsync(config, configuration, ct).ConfigureAwait(false);
        try
        {
            var output = await ServiceScripts.RunAsync("start-prometheus.sh", [directory, config], TimeSpan.FromMinutes(15), ct).ConfigureAwait(false);
            var values = ServiceScripts.ParseAssignments(output);
            return values.TryGetValue("PROMETHEUS_PORT", out var port)
                ? new PrometheusServer(directory, int.Parse(port, CultureInfo.InvariantCulture))
                : throw new InvalidOperationException($"start-prometheus.sh printed no PROMETHEUS_PORT. Output:\n{output}");
        }
        finally
        {
            File.Delete(config);
        }
    }

    /// <summary>Stops the server and deletes its data.</summary>
    public async ValueTask DisposeAsync() =>
        await ServiceScripts.RunAsync("stop-prometheus.sh", [_directory], TimeSpan.FromMinutes(1)).ConfigureAwait(false);
}
