using Microsoft.Extensions.Logging.Console;
using Platform.Server.Apis;

namespace Platform.Server.Observability;

/// <summary>Registers metrics, the health probes' services and logging formats (docs/operations.md).</summary>
public static class ObservabilityHostExtensions
{
    /// <summary>Reads <c>Platform:Metrics</c> and <c>Logging:Format</c>; registers the Prometheus registry, the queue sampler and the log format.</summary>
    public static WebApplicationBuilder AddPlatformObservability(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var section = builder.Configuration.GetSection(MetricsOptions.SectionName);
        services.AddOptions<MetricsOptions>().Bind(section);
        // Logging:Format=json: one JSON object per line (the container image sets it); text otherwise.
        var format = builder.Configuration["Logging:Format"];
        if (string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddConsoleFormatter<JsonLogFormatter, ConsoleFormatterOptions>();
            services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = JsonLogFormatter.FormatterName);
        }
        else if (!string.IsNullOrWhiteSpace(format) && !string.Equals(format, "text", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"Logging:Format is '{format}'; use 'json' (one JSON object per line) or 'text'.");

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
