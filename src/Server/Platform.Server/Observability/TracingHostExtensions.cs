using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Platform.Server.Observability;

/// <summary><c>Platform:Tracing</c>: OpenTelemetry traces of the message path (docs/operations.md).</summary>
public sealed class TracingOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Tracing";

    /// <summary>
    /// Record spans. Default: on when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, else off (then no span is created at all,
    /// so tracing costs nothing).
    /// </summary>
    public bool? Enabled { get; set; }
}

/// <summary>Registers the OpenTelemetry tracer provider: the platform's sources, ASP.NET Core, HttpClient and EF Core.</summary>
public static class TracingHostExtensions
{
    /// <summary>The OpenTelemetry service name (override with <c>OTEL_SERVICE_NAME</c>).</summary>
    public const string ServiceName = "workflow-platform";

    /// <summary>The OTLP endpoint variable (the OpenTelemetry standard one); setting it turns tracing on and exports to it.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Adds tracing when <c>Platform:Tracing:Enabled</c> or <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> says so.</summary>
    public static WebApplicationBuilder AddPlatformTracing(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var endpoint = builder.Configuration[OtlpEndpointVariable];
        var hasEndpoint = !string.IsNullOrWhiteSpace(endpoint);
        if (hasEndpoint && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
            throw new InvalidOperationException($"{OtlpEndpointVariable} is '{endpoint}'; set it to the collector's absolute URL, such as http://otel-collector:4317, or unset it.");
        var enabled = builder.Configuration.GetValue<bool?>($"{TracingOptions.SectionName}:{nameof(TracingOptions.Enabled)}") ?? hasEndpoint;
        if (!enabled) return builder;

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithTracing(t =>
            {
                // Platform.Engine (burst, activity), Platform.Messaging (inbox receive/process, outbox deliver) and any later Platform.* source.
                t.AddSource("Platform.*");
                t.AddAspNetCoreInstrumentation(o =>
                {
                    // Probes and scrapes would fill the traces with noise.
                    o.Filter = context => context.Request.Path is var p
                        && !p.StartsWithSegments("/metrics") && !p.StartsWithSegments("/healthz") && !p.StartsWithSegments("/readyz")
                        && !p.StartsWithSegments("/health") && !p.StartsWithSegments("/_content") && !p.StartsWithSegments("/_framework");
                });
                // Outbound calls (webhooks, AI providers, ...): a client span and the W3C traceparent header.
                t.AddHttpClientInstrumentation();
                t.AddEntityFrameworkCoreInstrumentation();
                if (hasEndpoint) t.AddOtlpExporter(); // reads OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL / _HEADERS itself
            });
        return builder;
    }
}
