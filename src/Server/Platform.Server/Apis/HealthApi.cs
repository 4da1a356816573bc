using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Platform.Engine.Contracts;
using Platform.Engine.Runtime;
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

    /// <summary>Maps <c>GET /health</c> (alive: the database answers) and <c>GET /health/ready</c> (and warmed up).</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/health", CheckAsync).AllowAnonymous().WithTags("Health");
        app.MapGet("/health/ready", ReadyAsync).AllowAnonymous().WithTags("Health");
        return app;
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
