using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Server.Apis.Models;
using Platform.Server.Infrastructure;
using Platform.Server.Mapping;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// Workflow definitions in Elsa 3.8 shape: list, get, save (draft or publish), publish, retract, delete, execute, export,
/// import and the bulk actions. Versioning semantics live in the engine's <see cref="IWorkflowDefinitionService"/>.
/// </summary>
public static partial class WorkflowDefinitionsApi
{
    private const int DefaultPageSize = 10_000;
    private const int MaxPageSize = 10_000;

    /// <summary>Maps the definition endpoints under /elsa/api.</summary>
    public static RouteGroupBuilder MapWorkflowDefinitionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapElsaApiGroup("Workflow definitions");

        // Reading.
        api.MapGet("/workflow-definitions", ListAsync).WithName("ListWorkflowDefinitions");
        api.MapGet("/workflow-definitions/query/count", CountAsync);
        api.MapGet("/workflow-definitions/by-definition-id/{definitionId}", GetByDefinitionIdAsync).WithName("GetWorkflowDefinition");
        api.MapGet("/workflow-definitions/by-id/{id}", GetByIdAsync);
        api.MapGet("/workflow-definitions/validation/is-name-unique", IsNameUniqueAsync);
        api.MapGet("/workflow-definitions/{definitionId}/consumers", GetConsumersAsync);
        api.MapGet("/workflow-definitions/{definitionId}/export", ExportAsync);

        // Changing.
        api.MapPost("/workflow-definitions", SaveAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapPost("/workflow-definitions/{definitionId}/publish", PublishAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapPost("/workflow-definitions/{definitionId}/retract", RetractAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapDelete("/workflow-definitions/{definitionId}", DeleteAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapDelete("/workflow-definitions/by-id/{id}", DeleteVersionAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapPost("/workflow-definitions/{definitionId}/revert/{version}", RevertAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapPost("/workflow-definitions/import", ImportAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapPost("/workflow-definitions/import-files", ImportFilesAsync).RequireAuthorization(ApiPolicies.Design).DisableAntiforgery();
        api.MapPost("/bulk-actions/publish/workflow-definitions/by-definition-ids", BulkPublishAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapPost("/bulk-actions/retract/workflow-definitions/by-definition-ids", BulkRetractAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapPost("/bulk-actions/delete/workflow-definitions/by-definition-id", BulkDeleteAsync).RequireAuthorization(ApiPolicies.Design);
        api.MapPost("/bulk-actions/delete/workflow-definitions/by-id", BulkDeleteVersionsAsync).RequireAuthorization(ApiPolicies.Design);

        // Running (creates instances, so Admin only).
        api.MapPost("/workflow-definitions/{definitionId}/execute", ExecutePostAsync).RequireAuthorization(ApiPolicies.Operate);
        api.MapGet("/workflow-definitions/{definitionId}/execute", ExecuteGetAsync).RequireAuthorization(ApiPolicies.Operate);
        return api;
    }

    /// <summary>Lists definition versions (default: the latest of each).</summary>
    public static async Task<Ok<PagedDefinitionsResponse>> ListAsync(
        [AsParameters] WorkflowApiServices services,
        string? versionOptions, string? searchTerm, int? page, int? pageSize, string? orderBy, string? orderDirection,
        string[]? definitionIds, bool? isSystem, CancellationToken ct)
    {
        var vo = ApiRouting.ParseVersionOptions(versionOptions, VersionOptions.Latest);
        var filter = new WorkflowDefinitionFilter
        {
            VersionOptions = vo == VersionOptions.All ? null : vo,
            SearchTerm = string.IsNullOrWhiteSpace(searchTerm) ? null : searchTerm.Trim(),
            DefinitionIds = definitionIds is { Length: > 0 } ? definitionIds : null,
            IsSystem = isSystem,
        };
        var (skip, take) = ApiRouting.Paging(page, pageSize, DefaultPageSize, MaxPageSize);
        var order = (orderBy ?? "Name").Trim();
        var descending = orderDirection is not null && ApiRouting.ParseEnum<OrderDirection>(orderDirection, "orderDirection") == OrderDirection.Descending;

        IReadOnlyList<WorkflowDefinition> items;
        long total;
        if (order.Equals("Name", StringComparison.OrdinalIgnoreCase) && !descending)
        {
            // The store's own order.
            var result = await services.DefinitionStore.FindManyAsync(filter, new PageArgs(skip, take), ct);
            (items, total) = (result.Items, result.TotalCount);
        }
        else
        {
            var all = await LoadAllAsync(services.DefinitionStore, filter, ct);
            Func<WorkflowDefinition, object?> key = order.ToLowerInvariant() switch
            {
                "name" => d => d.Name ?? "",
                "created" or "createdat" => d => d.CreatedAt,
                "version" => d => d.Version,
                "updated" or "updatedat" or "lastmodified" => d => d.CreatedAt,
                _ => throw ApiProblemException.BadRequest($"'{orderBy}' is not a valid orderBy value.", "Use Name, Created or Version."),
            };
            var sorted = descending ? all.OrderByDescending(key) : all.OrderBy(key);
            items = sorted.Skip(skip).Take(take).ToList();
            total = all.Count;
        }
        return TypedResults.Ok(new PagedDefinitionsResponse(items.Select(DefinitionMapper.ToSummary).ToList(), total, DefinitionMapper.ListLinks));
    }

    /// <summary>How many definitions exist.</summary>
    public static async Task<Ok<CountResponse>> CountAsync([AsParameters] WorkflowApiServices services, CancellationToken ct)
    {
        var page = await services.DefinitionStore.FindManyAsync(new WorkflowDefinitionFilter { VersionOptions = VersionOptions.Latest }, new PageArgs(0, 1), ct);
        return TypedResults.Ok(new CountResponse(page.TotalCount));
    }

    /// <summary>One version of a definition picked by versionOptions (default LatestOrPublished).</summary>
    public static async Task<Results<Ok<WorkflowDefinitionModel>, ProblemHttpResult>> GetByDefinitionIdAsync(
        [AsParameters] WorkflowApiServices services, string definitionId, string? versionOptions, CancellationToken ct)
    {
        var options = ApiRouting.ParseVersionOptions(versionOptions, VersionOptions.LatestOrPublished);
        var definition = await services.DefinitionService.GetAsync(definitionId, options, ct);
        if (definition is null)
        {
            return Problems.NotFound($"Workflow definition '{definitionId}' has no version matching {options}.",
                "Check the definition id, or ask for another versionOptions (Latest, Published, LatestOrPublished or a version number).");
        }
        return TypedResults.Ok(DefinitionMapper.ToModel(definition));
    }

    /// <summary>One version by its version id.</summary>
    public static async Task<Results<Ok<WorkflowDefinitionModel>, ProblemHttpResult>> GetByIdAsync(
        [AsParameters] WorkflowApiServices services, string id, CancellationToken ct)
    {
        var definition = await services.DefinitionService.GetByIdAsync(id, ct);
        return definition is null
            ? Problems.NotFound($"Workflow definition version '{id}' was not found.", "Check the version id; by-id takes a version id, by-definition-id a definition id.")
            : TypedResults.Ok(DefinitionMapper.ToModel(definition));
    }

    /// <summary>Whether no other definition uses this name.</summary>
    public static async Task<Ok<IsNameUniqueResponse>> IsNameUniqueAsync(
        [AsParameters] WorkflowApiServices services, string? name, string? definitionId, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(name)) return TypedResults.Ok(new IsNameUniqueResponse(true));
        var page = await services.DefinitionStore.FindManyAsync(new WorkflowDefinitionFilter { Name = name.Trim() }, new PageArgs(0, 100), ct);
        var unique = page.Items.All(d => d.DefinitionId == definitionId || !string.Equals(d.Name?.Trim(), name.Trim(), StringComparison.Ordinal));
        return TypedResults.Ok(new IsNameUniqueResponse(unique));
    }

    /// <summary>Definitions that use this one as an activity (none: workflows-as-activities are not supported yet).</summary>
    public static async Task<Results<Ok<ConsumersResponse>, ProblemHttpResult>> GetConsumersAsync(
        [AsParameters] WorkflowApiServices services, string definitionId, CancellationToken ct)
    {
        var definition = await services.DefinitionService.GetAsync(definitionId, VersionOptions.Latest, ct);
        return definition is null ? Problems.DefinitionNotFound(definitionId) : TypedResults.Ok(new ConsumersResponse([]));
    }

    /// <summary>Saves the Studio's model as a draft, or publishes it. Assigns node ids and fills defaults first.</summary>
    public static async Task<Results<Ok<SaveWorkflowDefinitionResponse>, ProblemHttpResult>> SaveAsync(
        [AsParameters] WorkflowApiServices services, SaveWorkflowDefinitionRequest request, [FromServices] ITriggerStore triggers, CancellationToken ct)
    {
        if (request.Model is null)
        {
            return Problems.BadRequest("The body has no model.",
                "Send {\"model\": {…the workflow definition…}, \"publish\": false}; the model needs at least a root flowchart or a name.");
        }
        var model = PrepareModel(request.Model);
        DesignerSizes.Apply(model["root"] as JsonObject, services.Registry);
        if (request.Publish == true && await CatchAllMessageCheck.FindConflictAsync(model["root"] as JsonObject, model["definitionId"]?.ToString(),
                triggers, services.Runtime, services.DefinitionService, services.Logger, ct) is { } conflict)
        {
            services.Logger.LogWarning("Refused to publish {DefinitionId}: {Problem}", model["definitionId"]?.ToString(), conflict.ProblemDetails.Detail);
            return conflict;
        }
        var result = await services.DefinitionService.SaveAsync(model, request.Publish ?? false, ct);
        services.Logger.LogInformation("Saved workflow definition {DefinitionId} version {Version} (published: {Published})",
            result.Definition.DefinitionId, result.Definition.Version, result.Definition.IsPublished);
        return TypedResults.Ok(new SaveWorkflowDefinitionResponse(DefinitionMapper.ToModel(result.Definition), result.AlreadyPublished, result.ConsumingWorkflowCount));
    }

    /// <summary>Publishes the latest version.</summary>
    public static async Task<Results<Ok<SaveWorkflowDefinitionResponse>, ProblemHttpResult>> PublishAsync(
        [AsParameters] WorkflowApiServices services, string definitionId, [FromServices] ITriggerStore triggers, CancellationToken ct)
    {
        if (await services.DefinitionService.GetAsync(definitionId, VersionOptions.Latest, ct) is not { } latest) return Problems.DefinitionNotFound(definitionId);
        if (await CatchAllMessageCheck.FindConflictAsync(latest.Root, definitionId, triggers, services.Runtime, services.DefinitionService, services.Logger, ct) is { } conflict)
        {
            services.Logger.LogWarning("Refused to publish {DefinitionId}: {Problem}", definitionId, conflict.ProblemDetails.Detail);
            return conflict;
        }
        var result = await services.DefinitionService.PublishAsync(definitionId, ct);
        services.Logger.LogInformation("Published workflow definition {DefinitionId} version {Version}", definitionId, result.Definition.Version);
        return TypedResults.Ok(new SaveWorkflowDefinitionResponse(DefinitionMapper.ToModel(result.Definition), result.AlreadyPublished, 0));
    }

    /// <summary>Unpublishes the published version.</summary>
    public static async Task<Results<Ok<WorkflowDefinitionModel>, ProblemHttpResult>> RetractAsync(
        [AsParameters] WorkflowApiServices services, string definitionId, CancellationToken ct)
    {
        if (await services.DefinitionService.GetAsync(definitionId, VersionOptions.Latest, ct) is null) return Problems.DefinitionNotFound(definitionId);
        var retracted = await services.DefinitionService.RetractAsync(definitionId, ct);
        if (retracted is null)
            return Problems.BadRequest($"Workflow definition '{definitionId}' is not published.", "Only a published definition can be retracted.");
        services.Logger.LogInformation("Retracted workflow definition {DefinitionId}", definitionId);
        return TypedResults.Ok(DefinitionMapper.ToModel(retracted));
    }

    /// <summary>Deletes a definition with all its versions.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        [AsParameters] WorkflowApiServices services, string definitionId, CancellationToken ct)
    {
        if (!await services.DefinitionService.DeleteAsync(definitionId, ct)) return Problems.DefinitionNotFound(definitionId);
        services.Logger.LogInformation("Deleted workflow definition {DefinitionId}", definitionId);
        return TypedResults.NoContent();
    }

    /// <summary>Deletes one version.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteVersionAsync(
        [AsParameters] WorkflowApiServices services, string id, CancellationToken ct)
    {
        var version = await services.DefinitionService.GetByIdAsync(id, ct);
        if (version is null) return Problems.NotFound($"Workflow definition version '{id}' was not found.", "Check the version id.");
        if (!await services.DefinitionService.DeleteVersionAsync(id, ct))
        {
            return Problems.Conflict($"Version {version.Version} of '{version.DefinitionId}' cannot be deleted.",
                $"It is the only version; delete the whole definition instead (DELETE /elsa/api/workflow-definitions/{version.DefinitionId}).");
        }
        services.Logger.LogInformation("Deleted version {Version} of workflow definition {DefinitionId}", version.Version, version.DefinitionId);
        return TypedResults.NoContent();
    }

    /// <summary>Copies an old version into a new draft.</summary>
    public static async Task<Results<Ok<WorkflowDefinitionModel>, ProblemHttpResult>> RevertAsync(
        [AsParameters] WorkflowApiServices services, string definitionId, int version, CancellationToken ct)
    {
        var reverted = await services.DefinitionService.RevertAsync(definitionId, version, ct);
        return reverted is null
            ? Problems.NotFound($"Workflow definition '{definitionId}' has no version {version}.", "Check the definition id and the version number.")
            : TypedResults.Ok(DefinitionMapper.ToModel(reverted));
    }

    /// <summary>Downloads a version (default: latest) as a JSON file that <c>import</c> accepts.</summary>
    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> ExportAsync(
        [AsParameters] WorkflowApiServices services, string definitionId, string? versionOptions, CancellationToken ct)
    {
        var options = ApiRouting.ParseVersionOptions(versionOptions, VersionOptions.Latest);
        var definition = await services.DefinitionService.GetAsync(definitionId, options, ct);
        if (definition is null) return Problems.DefinitionNotFound(definitionId);
        var json = JsonSerializer.SerializeToUtf8Bytes(DefinitionMapper.ToModel(definition, withLinks: false), ExportJson);
        return TypedResults.File(json, "application/json", FileName(definition));
    }

    /// <summary>Imports an exported definition (the JSON body of an export; <c>{model: …}</c> is accepted too).</summary>
    public static async Task<Results<Ok<WorkflowDefinitionModel>, ProblemHttpResult>> ImportAsync(
        [AsParameters] WorkflowApiServices services, JsonObject body, CancellationToken ct)
    {
        var definition = await ImportOneAsync(services, body, ct);
        return TypedResults.Ok(DefinitionMapper.ToModel(definition));
    }

    /// <summary>Imports uploaded files (multipart): JSON files with one definition each, or ZIP files of them.</summary>
    public static async Task<Results<Ok<CountResponse>, ProblemHttpResult>> ImportFilesAsync(
        [AsParameters] WorkflowApiServices services, HttpRequest request, CancellationToken ct)
    {
        if (!request.HasFormContentType)
            return Problems.BadRequest("The request is not a file upload.", "Send multipart/form-data with one or more .json (or .zip) files.");
        var form = await request.ReadFormAsync(ct);
        var count = 0;
        foreach (var file in form.Files)
        {
            await using var stream = file.OpenReadStream();
            if (file.FileName.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
            {
                using var zip = new ZipArchive(stream, ZipArchiveMode.Read);
                foreach (var entry in zip.Entries.Where(e => e.FullName.EndsWith(".json", StringComparison.OrdinalIgnoreCase)))
                {
                    await using var entryStream = entry.Open();
                    await ImportOneAsync(services, await ParseFileAsync(entryStream, entry.FullName, ct), ct);
                    count++;
                }
            }
            else
            {
                await ImportOneAsync(services, await ParseFileAsync(stream, file.FileName, ct), ct);
                count++;
            }
        }
        return TypedResults.Ok(new CountResponse(count));
    }

    /// <summary>
    /// Publishes the latest version of each definition, one after the other. A definition that would be a second catch-all
    /// Message Received on the same channel (see <see cref="CatchAllMessageCheck"/>) is not published: it is listed as failed
    /// with the reason, as single publish refuses it.
    /// </summary>
    public static async Task<Ok<BulkPublishResponse>> BulkPublishAsync(
        [AsParameters] WorkflowApiServices services, DefinitionIdsRequest request, [FromServices] ITriggerStore triggers, CancellationToken ct)
    {
        List<string> published = [], already = [], notFound = [], failed = [];
        var warnings = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var id in (request.DefinitionIds ?? []).Distinct())
        {
            if (await services.DefinitionService.GetAsync(id, VersionOptions.Latest, ct) is not { } latest)
            {
                notFound.Add(id);
                continue;
            }
            if (await CatchAllMessageCheck.FindConflictAsync(latest.Root, id, triggers, services.Runtime, services.DefinitionService, services.Logger, ct) is { } conflict)
            {
                services.Logger.LogWarning("Bulk publish refused {DefinitionId}: {Problem}", id, conflict.ProblemDetails.Detail);
                failed.Add(id);
                warnings[id] = [$"{conflict.ProblemDetails.Title} {conflict.ProblemDetails.Detail}"];
                continue;
            }
            try
            {
                var result = await services.DefinitionService.PublishAsync(id, ct);
                (result.AlreadyPublished ? already : published).Add(id);
            }
            catch (Exception e) when (e is WorkflowValidationException or WorkflowRequestException)
            {
                failed.Add(id);
                warnings[id] = [e.Message];
            }
        }
        return TypedResults.Ok(new BulkPublishResponse(published, already, notFound, [], [], failed, warnings));
    }

    /// <summary>Retracts each definition.</summary>
    public static async Task<Ok<BulkRetractResponse>> BulkRetractAsync(
        [AsParameters] WorkflowApiServices services, DefinitionIdsRequest request, CancellationToken ct)
    {
        List<string> retracted = [], notPublished = [], notFound = [];
        foreach (var id in (request.DefinitionIds ?? []).Distinct())
        {
            if (await services.DefinitionService.GetAsync(id, VersionOptions.Latest, ct) is null) notFound.Add(id);
            else if (await services.DefinitionService.RetractAsync(id, ct) is null) notPublished.Add(id);
            else retracted.Add(id);
        }
        return TypedResults.Ok(new BulkRetractResponse(retracted, notPublished, notFound, []));
    }

    /// <summary>Deletes definitions with all their versions.</summary>
    public static async Task<Ok<DeletedResponse>> BulkDeleteAsync(
        [AsParameters] WorkflowApiServices services, DefinitionIdsRequest request, CancellationToken ct)
    {
        var deleted = 0;
        foreach (var id in (request.DefinitionIds ?? []).Distinct())
            if (await services.DefinitionService.DeleteAsync(id, ct)) deleted++;
        services.Logger.LogInformation("Bulk-deleted {Count} workflow definition(s)", deleted);
        return TypedResults.Ok(new DeletedResponse(deleted));
    }

    /// <summary>Deletes definition versions.</summary>
    public static async Task<Ok<DeletedResponse>> BulkDeleteVersionsAsync(
        [AsParameters] WorkflowApiServices services, IdsRequest request, CancellationToken ct)
    {
        var deleted = 0;
        foreach (var id in (request.Ids ?? []).Distinct())
            if (await services.DefinitionService.DeleteVersionAsync(id, ct)) deleted++;
        return TypedResults.Ok(new DeletedResponse(deleted));
    }

    /// <summary>Starts an instance of this definition (default: its published version; the Studio sends Latest).</summary>
    public static Task<Results<Ok<ExecuteWorkflowResponse>, ProblemHttpResult>> ExecutePostAsync(
        [AsParameters] WorkflowApiServices services, HttpContext context, string definitionId,
        [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] ExecuteWorkflowRequest? request,
        CancellationToken ct) =>
        ExecuteAsync(services, context, definitionId, request ?? new ExecuteWorkflowRequest(null, null, null, null, null), ct);

    /// <summary>Starts an instance; parameters come from the query (<c>input</c> is a URL-encoded JSON object).</summary>
    public static Task<Results<Ok<ExecuteWorkflowResponse>, ProblemHttpResult>> ExecuteGetAsync(
        [AsParameters] WorkflowApiServices services, HttpContext context, string definitionId,
        string? versionOptions, string? input, string? correlationId, string? triggerActivityId, string? name, CancellationToken ct) =>
        ExecuteAsync(services, context, definitionId,
            new ExecuteWorkflowRequest(versionOptions, ApiRouting.ParseJsonObject(input, "input"), correlationId, triggerActivityId, name), ct);

    private static async Task<Results<Ok<ExecuteWorkflowResponse>, ProblemHttpResult>> ExecuteAsync(
        WorkflowApiServices services, HttpContext context, string definitionId, ExecuteWorkflowRequest request, CancellationToken ct)
    {
        var options = ApiRouting.ParseVersionOptions(request.VersionOptions, VersionOptions.Published);
        var definition = await services.DefinitionService.GetAsync(definitionId, options, ct);
        if (definition is null)
        {
            return Problems.NotFound($"Workflow definition '{definitionId}' has no version matching {options}.",
                options == VersionOptions.Published
                    ? "Publish the definition first, or execute with {\"versionOptions\":\"Latest\"} to run the draft."
                    : "Check the definition id and versionOptions.");
        }

        // The instance must belong to THIS definition version, so pass its id explicitly.
        var result = await services.Runtime.StartAsync(new StartWorkflowRequest(definition.DefinitionId)
        {
            VersionOptions = options,
            DefinitionVersionId = definition.Id,
            Input = ApiRouting.ToDictionary(request.Input),
            CorrelationId = string.IsNullOrWhiteSpace(request.CorrelationId) ? null : request.CorrelationId,
            TriggerActivityId = string.IsNullOrWhiteSpace(request.TriggerActivityId) ? null : request.TriggerActivityId,
            Properties = Platform.Activities.AuditActor.Properties(context.User.Identity?.Name, Security.AuditActorOf.Kind(context.User)), // who runs it (audit)
        }, ct);

        services.Logger.LogInformation("Executed workflow definition {DefinitionId} version {Version}: instance {InstanceId} is {SubStatus}",
            definition.DefinitionId, definition.Version, result.InstanceId, result.SubStatus);
        context.Response.Headers[ApiRouting.InstanceIdHeader] = result.InstanceId;
        context.Response.Headers.AccessControlExposeHeaders = ApiRouting.InstanceIdHeader;
        return TypedResults.Ok(new ExecuteWorkflowResponse(InstanceMapper.ToState(result.Instance)));
    }

    private static async Task<WorkflowDefinition> ImportOneAsync(WorkflowApiServices services, JsonObject body, CancellationToken ct)
    {
        var model = body["model"] as JsonObject ?? body;
        if (model["root"] is not JsonObject && model["definitionId"] is null && model["name"] is null)
        {
            throw ApiProblemException.BadRequest("The body is not an exported workflow definition.",
                "Import the JSON that GET /elsa/api/workflow-definitions/{id}/export produced (it has definitionId, name and root).");
        }
        var publish = model["isPublished"] is JsonValue p && p.TryGetValue<bool>(out var b) && b;
        var result = await services.DefinitionService.SaveAsync(PrepareModel((JsonObject)model.DeepClone()), publish, ct);
        services.Logger.LogInformation("Imported workflow definition {DefinitionId} as version {Version} (published: {Published})",
            result.Definition.DefinitionId, result.Definition.Version, result.Definition.IsPublished);
        return result.Definition;
    }

    /// <summary>Rejects malformed models with a 400 that lists every problem, then assigns node ids and fills defaults.</summary>
    private static JsonObject PrepareModel(JsonObject model)
    {
        var errors = ModelShapeValidator.Validate(model);
        if (errors.Count > 0)
        {
            throw new ApiProblemException(StatusCodes.Status400BadRequest, "The workflow definition is malformed.",
                $"{errors[0]}{(errors.Count > 1 ? $" (and {errors.Count - 1} more, see errors)" : "")} Fix the listed properties and save again.")
            { Errors = errors };
        }
        return DefinitionNormalizer.NormalizeModel(model);
    }

    private static async Task<JsonObject> ParseFileAsync(Stream stream, string fileName, CancellationToken ct)
    {
        try
        {
            return await JsonNode.ParseAsync(stream, cancellationToken: ct) as JsonObject
                ?? throw ApiProblemException.BadRequest($"'{fileName}' does not hold a JSON object.", "Each file must hold one exported workflow definition.");
        }
        catch (JsonException e)
        {
            throw ApiProblemException.BadRequest($"'{fileName}' is not valid JSON.", $"{e.Message} Each file must hold one exported workflow definition.");
        }
    }

    private static async Task<IReadOnlyList<WorkflowDefinition>> LoadAllAsync(IWorkflowDefinitionStore store, WorkflowDefinitionFilter filter, CancellationToken ct)
    {
        const int pageSize = 500;
        var all = new List<WorkflowDefinition>();
        for (var skip = 0; ; skip += pageSize)
        {
            var page = await store.FindManyAsync(filter, new PageArgs(skip, pageSize), ct);
            all.AddRange(page.Items);
            if (page.Items.Count < pageSize || all.Count >= page.TotalCount) return all;
        }
    }

    private static string FileName(WorkflowDefinition d)
    {
        var name = string.IsNullOrWhiteSpace(d.Name) ? null : Slug(d.Name);
        return string.IsNullOrEmpty(name) ? $"workflow-definition-{Slug(d.DefinitionId)}.json" : $"{name}.json";
    }

    private static string Slug(string text)
    {
        var s = WordBoundary().Replace(text.Trim(), "$1-$2");
        var sb = new StringBuilder();
        foreach (var c in s.ToLowerInvariant())
            sb.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        return MultipleDashes().Replace(sb.ToString(), "-").Trim('-');
    }

    private static readonly JsonSerializerOptions ExportJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
    };

    [GeneratedRegex("([a-z0-9])([A-Z])")]
    private static partial Regex WordBoundary();

    [GeneratedRegex("-{2,}")]
    private static partial Regex MultipleDashes();

    /// <summary>Sort direction.</summary>
    public enum OrderDirection
    {
        /// <summary>Smallest first.</summary>
        Ascending,
        /// <summary>Largest first.</summary>
        Descending,
    }
}
