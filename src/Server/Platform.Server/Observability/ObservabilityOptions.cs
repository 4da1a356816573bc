namespace Platform.Server.Observability;

/// <summary><c>Platform:Metrics</c>: the Prometheus endpoint.</summary>
public sealed class MetricsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Metrics";

    /// <summary>Serve <c>GET /metrics</c>. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Networks (CIDR, such as <c>10.0.0.0/8</c>, or single addresses) whose scrapers need no key. Empty by default: a scraper
    /// sends <c>Authorization: ApiKey &lt;key&gt;</c> of an Operator or Admin key.
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>How often the inbox, outbox, dead-letter and Hangfire gauges are read from the database. Default 15 s.</summary>
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromSeconds(15);
}
