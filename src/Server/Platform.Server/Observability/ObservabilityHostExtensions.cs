using Microsoft.Extensions.Logging.Console;
using Platform.Server.Apis;
using Scalar.AspNetCore;

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
        services.AddPersonalDataMasking(builder.Configuration); // e-mail addresses and phone numbers masked in every log (Platform:Logging:MaskPersonalData)

        // The API description of /api and /elsa/api: /openapi/v1.json, browsable at /scalar.
        services.AddOpenApi(OpenApiDocumentName, o =>
        {
            o.ShouldInclude = d => d.RelativePath is { } path && (path.StartsWith("api/", StringComparison.Ordinal) || path.StartsWith("elsa/api/", StringComparison.Ordinal));
            o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Workflow platform API";
                document.Info.Description = "The platform's own API (/api) and the Elsa 3.8 compatible API (/elsa/api). Send Authorization: ApiKey <key>.";
                return Task.CompletedTask;
            });
        });

        if (section.GetValue(nameof(MetricsOptions.Enabled), true))
        {
            services.AddSingleton<PlatformMetrics>();
            services.AddHostedService<OperationsSampler>();
        }
        builder.AddPlatformTracing();
        builder.AddPlatformMaintenance();
        return builder;
    }

    /// <summary>The OpenAPI document's name: <c>/openapi/v1.json</c>.</summary>
    public const string OpenApiDocumentName = "v1";

    /// <summary>Maps <c>/metrics</c>, <c>/openapi/v1.json</c> and the reference page <c>/scalar</c> (all anonymous but /metrics).</summary>
    public static WebApplication MapPlatformObservability(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Services.GetService<PlatformMetrics>(); // listen from the start, not from the first scrape
        app.MapMetricsApi();
        app.MapOpenApi().AllowAnonymous();
        app.MapScalarApiReference().AllowAnonymous();
        return app;
    }
}
