namespace Platform.Server.Infrastructure;

/// <summary>
/// Thrown by the API layer for a request it cannot serve; <see cref="ApiExceptionHandler"/> turns it into ProblemDetails.
/// </summary>
/// <param name="status">The HTTP status code (4xx).</param>
/// <param name="title">What went wrong, in one sentence.</param>
/// <param name="detail">How to fix it.</param>
public sealed class ApiProblemException(int status, string title, string detail) : Exception(title + " " + detail)
{
    /// <summary>The HTTP status code.</summary>
    public int Status { get; } = status;

    /// <summary>What went wrong.</summary>
    public string Title { get; } = title;

    /// <summary>How to fix it.</summary>
    public string Detail { get; } = detail;

    /// <summary>Itemised problems (for example one per malformed property), or null.</summary>
    public IReadOnlyList<string>? Errors { get; init; }

    /// <summary>A 400 Bad Request.</summary>
    public static ApiProblemException BadRequest(string title, string detail) => new(StatusCodes.Status400BadRequest, title, detail);
}

/// <summary>Thrown while reading a request body that exceeds the configured limit.</summary>
public sealed class RequestBodyTooLargeException(long limit)
    : Exception($"The request body is larger than the limit of {limit} bytes.")
{
    /// <summary>The limit in bytes.</summary>
    public long Limit { get; } = limit;
}
