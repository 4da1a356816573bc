namespace Platform.Server.Apis;

/// <summary>Maps the whole Elsa-compatible API under /elsa/api.</summary>
public static class WorkflowApi
{
    /// <summary>Descriptors, definitions, instances and activity executions; every endpoint requires an API key.</summary>
    public static IEndpointRouteBuilder MapWorkflowApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapDescriptorsApi();
        app.MapWorkflowDefinitionsApi();
        app.MapWorkflowInstancesApi();
        app.MapActivityExecutionsApi();
        app.MapScriptingApi();
        return app;
    }
}
