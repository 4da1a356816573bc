using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Engine.Expressions;
using Platform.Engine.Models;
using Platform.Server.Infrastructure;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>Shared plumbing of the API endpoint classes: the route group, write protection and query parsing.</summary>
public static class ApiRouting
{
    /// <summary>The prefix of the Elsa-compatible API.</summary>
    public const string ElsaApiPrefix = "/elsa/api";

    /// <summary>The response header that carries the id of a new instance.</summary>
    public const string InstanceIdHeader = "x-elsa-workflow-instance-id";

    /// <summary>A group under <see cref="ElsaApiPrefix"/> that requires a valid API key (any role).</summary>
    public static RouteGroupBuilder MapElsaApiGroup(this IEndpointRouteBuilder app, string tag)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.MapGroup(ElsaApiPrefix).RequireAuthorization(ApiPolicies.Read).WithTags(tag);
    }

    /// <summary>Restricts an endpoint to the Admin role (<see cref="ApiPolicies.Write"/>); prefer RequireAuthorization with
    /// <see cref="ApiPolicies.Operate"/>, <see cref="ApiPolicies.Design"/> or <see cref="ApiPolicies.Admin"/>.</summary>
    public static TBuilder RequireWriteAccess<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(ApiPolicies.Write);

    /// <summary>Parses Elsa's versionOptions text, or answers 400 with the accepted values.</summary>
    public static VersionOptions ParseVersionOptions(string? text, VersionOptions fallback)
    {
        if (string.IsNullOrWhiteSpace(text)) return fallback;
        if (VersionOptions.TryParse(text, out var options)) return options;
        throw ApiProblemException.BadRequest($"'{text}' is not a valid versionOptions value.",
            "Use Latest, Published, LatestOrPublished, LatestAndPublished, Draft, All or a version number.");
    }

    /// <summary>Parses an enum value (case-insensitive, names only), or answers 400 with the accepted values.</summary>
    public static T ParseEnum<T>(string text, string parameter) where T : struct, Enum
    {
        if (!int.TryParse(text, out _) && Enum.TryParse<T>(text.Trim(), ignoreCase: true, out var value)) return value;
        throw ApiProblemException.BadRequest($"'{text}' is not a valid {parameter} value.",
            $"Use one of: {string.Join(", ", Enum.GetNames<T>())}.");
    }

    /// <summary>Parses several enum values; null or empty gives null.</summary>
    public static IReadOnlyCollection<T>? ParseEnums<T>(IEnumerable<string?>? values, string parameter) where T : struct, Enum
    {
        var list = values?.Where(v => !string.IsNullOrWhiteSpace(v))
            .SelectMany(v => v!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(v => ParseEnum<T>(v, parameter)).Distinct().ToList();
        return list is { Count: > 0 } ? list : null;
    }

    /// <summary>Checks paging values and turns them into skip/take.</summary>
    public static (int Skip, int Take) Paging(int? page, int? pageSize, int defaultPageSize, int maxPageSize)
    {
        if (page < 0) throw ApiProblemException.BadRequest($"page {page} is not valid.", "page is zero-based and must be 0 or more.");
        if (pageSize <= 0) throw ApiProblemException.BadRequest($"pageSize {pageSize} is not valid.", $"pageSize must be between 1 and {maxPageSize}.");
        var take = Math.Min(pageSize ?? defaultPageSize, maxPageSize);
        var skip = (long)(page ?? 0) * take;
        if (skip > int.MaxValue) throw ApiProblemException.BadRequest("The page is too far.", "Ask for a smaller page number.");
        return ((int)skip, take);
    }

    /// <summary>Turns a JSON object (workflow input) into plain CLR values.</summary>
    public static Dictionary<string, object?> ToDictionary(JsonObject? json) =>
        json is null ? new Dictionary<string, object?>()
            : ValueConverter.FromElement(JsonSerializer.SerializeToElement(json)) as Dictionary<string, object?> ?? new Dictionary<string, object?>();

    /// <summary>Parses a JSON object passed as query text (e.g. GET execute's <c>input</c>), or answers 400.</summary>
    public static JsonObject? ParseJsonObject(string? text, string parameter)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        try
        {
            return JsonNode.Parse(text) as JsonObject
                ?? throw ApiProblemException.BadRequest($"The {parameter} parameter is not a JSON object.", $"Pass {parameter} as a URL-encoded JSON object, e.g. {{\"name\":\"value\"}}.");
        }
        catch (JsonException e)
        {
            throw ApiProblemException.BadRequest($"The {parameter} parameter is not valid JSON.", $"{e.Message} Pass {parameter} as a URL-encoded JSON object.");
        }
    }
}
