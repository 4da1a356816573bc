using Platform.Server.Apis;

namespace Platform.Server.Observability;

/// <summary>Registers metrics, the health probes' services and logging formats (docs/operations.md).</summary>
public static class ObservabilityHostExtensions
{
    /// <summary>Reads <c>Platform:Metrics</c>; registers the Prometheus registry and the queue sampler.</summary>
    public static WebApplicationBuilder AddPlatformObservability(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var section = builder.Configuration.GetSection(MetricsOptions.SectionName);
        services.AddOptions<MetricsOptions>().Bind(section);
        if (section.GetValue(nameof(MetricsOptions.Enabled), true))
        {
            services.AddSingleton<PlatformMetrics>();
            services.AddHostedService<OperationsSampler>();
        }
        return builder;
    }

    /// <summary>Maps <c>/metrics</c>, <c>/healthz</c> and <c>/readyz</c>.</summary>
    public static WebApplication MapPlatformObservability(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Services.GetService<PlatformMetrics>(); // listen from the start, not from the first scrape
        app.MapMetricsApi();
        return app;
    }
}
