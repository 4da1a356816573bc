using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Platform.Engine.Contracts;
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

    /// <summary>Maps <c>GET /health</c>.</summary>
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/health", CheckAsync).AllowAnonymous().WithTags("Health");
        return app;
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
