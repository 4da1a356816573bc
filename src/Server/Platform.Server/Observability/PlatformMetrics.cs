using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.Options;
using Platform.Engine.Runtime;
using Prometheus;

namespace Platform.Server.Observability;

/// <summary>
/// The Prometheus side of the platform's meters: a registry of this host with the process figures (CPU, memory, GC) and every
/// instrument of the <see cref="EngineTelemetry.MeterName"/> meters (and Npgsql's pool figures), through prometheus-net's
/// meter adapter. The libraries only record to System.Diagnostics.Metrics.
/// </summary>
public sealed class PlatformMetrics : IDisposable
{
    /// <summary>Histogram buckets for the seconds histograms: 5 ms to 30 s.</summary>
    public static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly IDisposable _adapter;
    private readonly IPNetwork[] _allowed;

    /// <summary>Starts listening to the meters.</summary>
    /// <exception cref="InvalidOperationException">An entry of <c>Platform:Metrics:AllowedNetworks</c> is not an address or a CIDR network.</exception>
    public PlatformMetrics(IOptions<MetricsOptions> options)
    {
        _allowed = options.Value.AllowedNetworks.Where(n => !string.IsNullOrWhiteSpace(n)).Select(ParseNetwork).ToArray();
        Registry = Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Registry,
            MetricFactory = Metrics.WithCustomRegistry(Registry),
            InstrumentFilterPredicate = i => i.Meter.Name is EngineTelemetry.MeterName or "Npgsql",
            ResolveHistogramBuckets = _ => SecondsBuckets,
            // Series idle for a day are dropped (prometheus-net's longest); rate() takes the later restart from 0 as a reset.
            MetricsExpireAfter = TimeSpan.FromDays(1), // prometheus-net allows at most a day
        });
    }

    /// <summary>The registry <c>/metrics</c> exports.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>True when a scraper at <paramref name="address"/> needs no key.</summary>
    public bool IsAllowed(IPAddress? address)
    {
        if (address is null || _allowed.Length == 0) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        foreach (var n in _allowed)
            if (n.Contains(address)) return true;
        return false;
    }

    private static IPNetwork ParseNetwork(string value)
    {
        value = value.Trim();
        if (IPNetwork.TryParse(value, out var network)) return network;
        if (IPAddress.TryParse(value, out var address)) return new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
        throw new InvalidOperationException(
            $"Platform:Metrics:AllowedNetworks: '{value}' is neither an IP address nor a CIDR network. Use entries such as 10.0.0.0/8 or 127.0.0.1.");
    }

    /// <inheritdoc />
    public void Dispose() => _adapter.Dispose();
}
