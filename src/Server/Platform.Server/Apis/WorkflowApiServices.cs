using Microsoft.AspNetCore.Mvc;
using Platform.Engine.Contracts;
using Platform.Engine.Descriptors;

namespace Platform.Server.Apis;

/// <summary>The engine services the workflow endpoints use, bundled with <c>[AsParameters]</c>.</summary>
public sealed class WorkflowApiServices
{
    /// <summary>Versioning and publishing (the engine owns the semantics).</summary>
    [FromServices] public required IWorkflowDefinitionService DefinitionService { get; init; }

    /// <summary>Definition queries.</summary>
    [FromServices] public required IWorkflowDefinitionStore DefinitionStore { get; init; }

    /// <summary>Instance queries and deletion.</summary>
    [FromServices] public required IWorkflowInstanceStore InstanceStore { get; init; }

    /// <summary>The journal.</summary>
    [FromServices] public required IActivityExecutionStore ActivityExecutionStore { get; init; }

    /// <summary>Starting and cancelling instances.</summary>
    [FromServices] public required IWorkflowRuntime Runtime { get; init; }

    /// <summary>Installed activity types.</summary>
    [FromServices] public required ActivityRegistry Registry { get; init; }

    /// <summary>The API's logger.</summary>
    [FromServices] public required ILogger<WorkflowApiServices> Logger { get; init; }
}
