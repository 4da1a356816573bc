using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Platform.Engine.Contracts;
using Platform.Engine.Runtime;
using Platform.Messaging;
using Platform.Mqtt;
using Platform.Server.Extensions;

namespace Platform.Server.Apis;

/// <summary>An anonymous health check that also says which database provider is in use.</summary>
public static class HealthApi
{
    /// <summary>The answer.</summary>
    public sealed record HealthResponse(
        string Status,
        string Database,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        string? Error = null);

    /// <summary>One check of <c>/readyz</c>.</summary>
    /// <param name="Status">Ok, Failing, WarmingUp, NotConfigured, NotConnected.</param>
    /// <param name="Detail">What is wrong and how to fix it, when something is.</param>
    public sealed record ReadinessCheck(
        string Status,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
        string? Detail = null);

    /// <summary>The answer of <c>/readyz</c>: Ready or NotReady, and each check.</summary>
    public sealed record ReadinessResponse(string Status, IReadOnlyDictionary<string, ReadinessCheck> Checks);

    /// <summary>
    /// Maps <c>GET /health</c> (the database answers), <c>GET /health/ready</c> (and warmed up) and the Kubernetes probes
    /// <c>GET /healthz</c> (the process serves requests) and <c>GET /readyz</c> (database, warm-up; broker and channels reported).
    /// </summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/health", CheckAsync).AllowAnonymous().WithTags("Health");
        app.MapGet("/health/ready", ReadyAsync).AllowAnonymous().WithTags("Health");
        app.MapGet("/healthz", Alive).AllowAnonymous().WithTags("Health");
        app.MapGet("/readyz", ReadyzAsync).AllowAnonymous().WithTags("Health");
        return app;
    }

    /// <summary>
    /// Liveness: 200 while the process serves HTTP. It checks nothing outside the process, so a database outage never makes
    /// Kubernetes restart every pod.
    /// </summary>
    public static Ok<HealthResponse> Alive(IOptions<PlatformOptions> options) =>
        TypedResults.Ok(new HealthResponse("Alive", PlatformHostExtensions.ProviderName(options.Value.Database.Provider)));

    /// <summary>
    /// Readiness: 200 <c>Ready</c> when the database answers and the start-up warm-up is done, else 503 <c>NotReady</c>. The MQTT
    /// broker and the channels are reported too, but do not make the node unready: every node shares them, so taking all nodes
    /// out of the service would turn a broker or channel outage into a total one.
    /// </summary>
    public static async Task<JsonHttpResult<ReadinessResponse>> ReadyzAsync(HttpContext http, StartupWarmUpService warmUp,
        IWorkflowDefinitionStore definitions, ILoggerFactory loggers, CancellationToken ct)
    {
        var checks = new Dictionary<string, ReadinessCheck>(StringComparer.Ordinal);
        var logger = loggers.CreateLogger("Platform.Server.Health");
        try
        {
            await definitions.FindManyAsync(new WorkflowDefinitionFilter(), new PageArgs(0, 1), ct);
            checks["database"] = new ReadinessCheck("Ok");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Readiness: the database does not answer");
            checks["database"] = new ReadinessCheck("Failing", "The database does not answer; see the server log and check ConnectionStrings:Platform.");
        }
        checks["warmUp"] = warmUp.Completion.IsCompleted ? new ReadinessCheck("Ok")
            : new ReadinessCheck("WarmingUp", "The server is compiling its message path after start (about two seconds).");

        var mqtt = http.RequestServices.GetService<IMqttConnection>();
        checks["broker"] = mqtt is null ? new ReadinessCheck("NotConfigured")
            : mqtt.IsConnected ? new ReadinessCheck("Ok")
            : new ReadinessCheck("NotConnected", "Not connected to the MQTT broker (it connects on first use and reconnects by itself); check Platform:Mqtt if devices do not answer.");

        if (http.RequestServices.GetService<IChannelStore>() is { } store && http.RequestServices.GetService<ChannelHub>() is { } hub)
        {
            try
            {
                var failing = new List<string>();
                foreach (var channel in await store.ListAsync(ct))
                {
                    if (!channel.Enabled) continue;
                    var runtime = await hub.GetAsync(channel.Name, ct);
                    if (runtime?.Error is { } error) failing.Add($"{channel.Name}: {error}");
                }
                checks["channels"] = failing.Count == 0 ? new ReadinessCheck("Ok") : new ReadinessCheck("Failing", string.Join("; ", failing));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Readiness: the channels could not be read");
                checks["channels"] = new ReadinessCheck("Failing", "The channels could not be read; see the server log.");
            }
        }

        var ready = checks["database"].Status == "Ok" && checks["warmUp"].Status == "Ok";
        return TypedResults.Json(new ReadinessResponse(ready ? "Ready" : "NotReady", checks),
            statusCode: ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>
    /// For load balancers and readiness probes: 503 <c>WarmingUp</c> until the start-up warm-up has finished (about two seconds
    /// after start; see <see cref="StartupWarmUpService"/>), then the same answer as <c>/health</c>.
    /// </summary>
    public static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> ReadyAsync(StartupWarmUpService warmUp,
        IWorkflowDefinitionStore definitions, IOptions<PlatformOptions> options, ILoggerFactory loggers, CancellationToken ct)
    {
        if (!warmUp.Completion.IsCompleted)
            return TypedResults.Json(new HealthResponse("WarmingUp", PlatformHostExtensions.ProviderName(options.Value.Database.Provider),
                "The server is compiling its message path after start (about two seconds); route traffic here when this answers 200."),
                statusCode: StatusCodes.Status503ServiceUnavailable);
        return await CheckAsync(definitions, options, loggers, ct);
    }

    /// <summary>200 when the database answers a query, 503 otherwise.</summary>
    public static async Task<Results<Ok<HealthResponse>, JsonHttpResult<HealthResponse>>> CheckAsync(
        IWorkflowDefinitionStore definitions, IOptions<PlatformOptions> options, ILoggerFactory loggers, CancellationToken ct)
    {
        var provider = PlatformHostExtensions.ProviderName(options.Value.Database.Provider);
        try
        {
            await definitions.FindManyAsync(new WorkflowDefinitionFilter(), new PageArgs(0, 1), ct);
            return TypedResults.Ok(new HealthResponse("Healthy", provider));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            loggers.CreateLogger("Platform.Server.Health").LogError(e, "Health check: the {Provider} database does not answer", provider);
            return TypedResults.Json(new HealthResponse("Unhealthy", provider, "The database does not answer; see the server log."),
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
