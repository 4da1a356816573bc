using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Platform.Engine.Contracts;

namespace Platform.Server.Infrastructure;

/// <summary>
/// Turns exceptions into ProblemDetails with a title and a detail that says how to fix the request:
/// <see cref="WorkflowRequestException"/> (not-found → 404, invalid → 400, conflict → 409),
/// <see cref="WorkflowValidationException"/> (400 with <c>errors</c>), malformed JSON and bad parameters (400),
/// bodies over the limit (413). Anything else is a 500 that is logged as an error.
/// </summary>
internal sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
            context.Response.StatusCode = 499;
            return true;
        }

        var problem = Describe(exception, context);
        if (problem.Status >= 500)
            logger.LogError(exception, "{Method} {Path} failed", context.Request.Method, context.Request.Path);
        else
            logger.LogWarning("{Method} {Path} rejected ({Status}): {Title} {Detail}",
                context.Request.Method, context.Request.Path, problem.Status, problem.Title, problem.Detail);

        context.Response.StatusCode = problem.Status ?? StatusCodes.Status500InternalServerError;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem, Exception = exception });
    }

    private static ProblemDetails Describe(Exception exception, HttpContext context) => exception switch
    {
        ApiProblemException { Errors: { Count: > 0 } errors } e => WithErrors(Problem(e.Status, e.Title, e.Detail), errors),
        ApiProblemException e => Problem(e.Status, e.Title, e.Detail),
        WorkflowRequestException { Code: WorkflowRequestException.NotFound } e =>
            Problem(StatusCodes.Status404NotFound, "Not found.", e.Message),
        WorkflowRequestException { Code: WorkflowRequestException.Conflict } e =>
            Problem(StatusCodes.Status409Conflict, "The request conflicts with the current state.", e.Message),
        WorkflowRequestException e => Problem(StatusCodes.Status400BadRequest, "The request is not valid.", e.Message),
        WorkflowValidationException e => WithErrors(
            Problem(StatusCodes.Status400BadRequest, "The workflow is not valid.",
                e.Message + " Fix the listed activities and save again."), e.Errors),
        RequestBodyTooLargeException e => Problem(StatusCodes.Status413PayloadTooLarge, "The request body is too large.",
            $"{e.Message} Send a smaller body, or raise Platform:Api:MaxRequestBodySize."),
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } e => Problem(StatusCodes.Status413PayloadTooLarge,
            "The request body is too large.", $"{e.Message} Send a smaller body, or raise Platform:Api:MaxRequestBodySize."),
        BadHttpRequestException e => Problem(e.StatusCode, BadRequestTitle(e), BadRequestDetail(e, context)),
        Platform.Activities.Security.SecretDecryptionException e => Problem(StatusCodes.Status409Conflict, "A stored secret cannot be decrypted.",
            e.MissingKeyId is { } missing
                ? $"{e.Message} Restore the original key (Platform:Secrets:Keys:{missing}, or Platform:Secrets:Key for '{Platform.Activities.Security.SecretProtector.DefaultKeyId}'), " +
                  "or save the item again with its secret (for a data source: PUT /api/data-sources/{name} with its connection string)."
                : $"{e.Message} The key in Platform:Secrets:Key (or {{DataDirectory}}/secrets.key, or Platform:Secrets:Keys:<id>) differs from the one the secret was saved with. " +
                  "Restore the original key, or save the item again with its secret (for a data source: PUT /api/data-sources/{name} with its connection string)."),
        JsonException e => Problem(StatusCodes.Status400BadRequest, "The request body is not valid JSON.",
            $"{e.Message} Send a JSON body with the header 'Content-Type: application/json'."),
        ArgumentException or FormatException => Problem(StatusCodes.Status400BadRequest, "The request is not valid.", exception.Message),
        _ => Problem(StatusCodes.Status500InternalServerError, "An unexpected error occurred.",
            $"The server logged the error with trace id {context.TraceIdentifier}. Report it with that id."),
    };

    private static string BadRequestTitle(BadHttpRequestException e) =>
        e.InnerException is JsonException ? "The request body is not valid JSON or does not match the expected shape."
        : e.StatusCode == StatusCodes.Status415UnsupportedMediaType ? "The request body must be JSON."
        : "The request is not valid.";

    private static string BadRequestDetail(BadHttpRequestException e, HttpContext context) => e.InnerException switch
    {
        JsonException j => $"{j.Message} Fix the body of {context.Request.Method} {context.Request.Path} and send it again " +
                           "with 'Content-Type: application/json'. Enum values are strings such as \"Finished\".",
        _ when e.StatusCode == StatusCodes.Status415UnsupportedMediaType => "Send the body with the header 'Content-Type: application/json'.",
        _ => $"{e.Message} Check the route values and query parameters (numbers must be numbers, enum values must be one of the documented names).",
    };

    private static ProblemDetails Problem(int status, string title, string detail) =>
        new() { Status = status, Title = title, Detail = detail };

    private static ProblemDetails WithErrors(ProblemDetails problem, IReadOnlyList<string> errors)
    {
        problem.Extensions["errors"] = errors;
        return problem;
    }

    private static ProblemDetails WithErrors(ProblemDetails problem, IReadOnlyList<ValidationError> errors)
    {
        problem.Extensions["errors"] = errors.Select(e => new { message = e.Message, activityId = e.ActivityId }).ToList();
        return problem;
    }
}
