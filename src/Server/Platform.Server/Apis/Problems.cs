using Microsoft.AspNetCore.Http.HttpResults;

namespace Platform.Server.Apis;

/// <summary>
/// ProblemDetails results (<c>application/problem+json</c>) with a title and a detail that says how to fix the request.
/// </summary>
internal static class Problems
{
    public static ProblemHttpResult NotFound(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: title, detail: detail);

    public static ProblemHttpResult BadRequest(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: title, detail: detail);

    public static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail);

    public static ProblemHttpResult DefinitionNotFound(string definitionId) =>
        NotFound($"Workflow definition '{definitionId}' was not found.",
            "Check the definition id (GET /elsa/api/workflow-definitions lists them); it may have been deleted.");

    public static ProblemHttpResult InstanceNotFound(string instanceId) =>
        NotFound($"Workflow instance '{instanceId}' was not found.",
            "Check the instance id (POST /elsa/api/workflow-instances lists them); it may have been deleted.");
}
