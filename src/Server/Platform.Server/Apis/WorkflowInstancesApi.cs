using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Server.Apis.Models;
using Platform.Server.Infrastructure;
using Platform.Server.Mapping;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>Workflow instances in Elsa 3.8 shape: list, get, journal, variables, cancel, retry and delete.</summary>
public static class WorkflowInstancesApi
{
    private const int DefaultPageSize = 100;
    private const int MaxPageSize = 1_000;

    /// <summary>Maps the instance endpoints under /elsa/api.</summary>
    public static RouteGroupBuilder MapWorkflowInstancesApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapElsaApiGroup("Workflow instances");

        api.MapPost("/workflow-instances", ListPostAsync).WithName("ListWorkflowInstances");
        api.MapGet("/workflow-instances", ListGetAsync);
        api.MapGet("/workflow-instances/{id}", GetAsync).WithName("GetWorkflowInstance");
        api.MapGet("/workflow-instances/{id}/execution-state", GetExecutionStateAsync);
        api.MapPost("/workflow-instances/{id}/journal", JournalPostAsync);
        api.MapGet("/workflow-instances/{id}/journal", JournalGetAsync);
        api.MapGet("/workflow-instances/{id}/variables", GetVariablesAsync);

        api.MapPost("/workflow-instances/{id}/cancel", CancelAsync).RequireAuthorization(ApiPolicies.Operate);
        api.MapPost("/cancel/workflow-instances/{id}", CancelAsync).RequireAuthorization(ApiPolicies.Operate);
        api.MapPost("/bulk-actions/cancel/workflow-instances", BulkCancelAsync).RequireAuthorization(ApiPolicies.Operate);
        api.MapPost("/bulk-actions/cancel/workflow-instances/by-id", BulkCancelAsync).RequireAuthorization(ApiPolicies.Operate);
        api.MapPost("/workflow-instances/{id}/retry", RetryAsync).RequireAuthorization(ApiPolicies.Operate);
        api.MapDelete("/workflow-instances/{id}", DeleteAsync).RequireAuthorization(ApiPolicies.Operate);
        api.MapPost("/bulk-actions/delete/workflow-instances", BulkDeleteAsync).RequireAuthorization(ApiPolicies.Operate);
        api.MapPost("/bulk-actions/delete/workflow-instances/by-id", BulkDeleteAsync).RequireAuthorization(ApiPolicies.Operate);
        return api;
    }

    /// <summary>Lists instances; the filter comes in the body (all fields optional).</summary>
    public static Task<Ok<PagedInstancesResponse>> ListPostAsync(
        [AsParameters] WorkflowApiServices services,
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] ListInstancesRequest? request, CancellationToken ct) =>
        ListAsync(services, request ?? new ListInstancesRequest(), ct);

    /// <summary>Lists instances; the filter comes in the query.</summary>
    public static Task<Ok<PagedInstancesResponse>> ListGetAsync(
        [AsParameters] WorkflowApiServices services,
        string? searchTerm, string? definitionId, string[]? definitionIds, string? correlationId, string? status, string[]? statuses,
        string? subStatus, string[]? subStatuses, int? page, int? pageSize, string? orderBy, string? orderDirection, CancellationToken ct) =>
        ListAsync(services, new ListInstancesRequest
        {
            SearchTerm = searchTerm, DefinitionId = definitionId, DefinitionIds = definitionIds, CorrelationId = correlationId,
            Status = status, Statuses = statuses, SubStatus = subStatus, SubStatuses = subStatuses, Page = page, PageSize = pageSize,
            OrderBy = orderBy, OrderDirection = orderDirection,
        }, ct);

    private static async Task<Ok<PagedInstancesResponse>> ListAsync(WorkflowApiServices services, ListInstancesRequest request, CancellationToken ct)
    {
        var filter = new WorkflowInstanceFilter
        {
            SearchTerm = string.IsNullOrWhiteSpace(request.SearchTerm) ? null : request.SearchTerm.Trim(),
            DefinitionId = string.IsNullOrWhiteSpace(request.DefinitionId) ? null : request.DefinitionId,
            DefinitionIds = request.DefinitionIds is { Count: > 0 } ? request.DefinitionIds.ToList() : null,
            CorrelationId = string.IsNullOrWhiteSpace(request.CorrelationId) ? null : request.CorrelationId,
            Statuses = ApiRouting.ParseEnums<WorkflowStatus>([.. request.Statuses ?? [], request.Status], "status"),
            SubStatuses = ApiRouting.ParseEnums<WorkflowSubStatus>([.. request.SubStatuses ?? [], request.SubStatus], "subStatus"),
        };
        var (skip, take) = ApiRouting.Paging(request.Page, request.PageSize, DefaultPageSize, MaxPageSize);
        var orderBy = request.OrderBy?.Trim().ToLowerInvariant() switch
        {
            null or "" or "created" or "createdat" => InstanceOrderBy.CreatedAt,
            "updated" or "updatedat" or "lastexecuted" => InstanceOrderBy.UpdatedAt,
            "finished" or "finishedat" => InstanceOrderBy.FinishedAt,
            "name" => InstanceOrderBy.Name,
            _ => throw ApiProblemException.BadRequest($"'{request.OrderBy}' is not a valid orderBy value.", "Use Created, LastExecuted, Finished or Name."),
        };
        var descending = request.OrderDirection is null
            || ApiRouting.ParseEnum<WorkflowDefinitionsApi.OrderDirection>(request.OrderDirection, "orderDirection") == WorkflowDefinitionsApi.OrderDirection.Descending;
        var page = await services.InstanceStore.FindManyAsync(filter, new PageArgs(skip, take), orderBy, descending, ct);
        return TypedResults.Ok(new PagedInstancesResponse(page.Items.Select(InstanceMapper.ToSummary).ToList(), page.TotalCount));
    }

    /// <summary>One instance with its state.</summary>
    public static async Task<Results<Ok<WorkflowInstanceModel>, ProblemHttpResult>> GetAsync(
        [AsParameters] WorkflowApiServices services, string id, CancellationToken ct)
    {
        var instance = await services.InstanceStore.FindAsync(id, ct);
        return instance is null ? Problems.InstanceNotFound(id) : TypedResults.Ok(InstanceMapper.ToModel(instance));
    }

    /// <summary>The instance's status, for polling.</summary>
    public static async Task<Results<Ok<ExecutionStateResponse>, ProblemHttpResult>> GetExecutionStateAsync(
        [AsParameters] WorkflowApiServices services, string id, CancellationToken ct)
    {
        var instance = await services.InstanceStore.FindAsync(id, ct);
        return instance is null
            ? Problems.InstanceNotFound(id)
            : TypedResults.Ok(new ExecutionStateResponse(instance.Status, instance.SubStatus, instance.SubStatus, instance.UpdatedAt));
    }

    /// <summary>The execution log; skip/take (or page/pageSize) from the query or the body.</summary>
    public static Task<Results<Ok<JournalResponse>, ProblemHttpResult>> JournalPostAsync(
        [AsParameters] WorkflowApiServices services, string id, int? skip, int? take, int? page, int? pageSize,
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] JournalRequest? body, CancellationToken ct) =>
        JournalAsync(services, id, skip ?? body?.Skip, take ?? body?.Take, page ?? body?.Page, pageSize ?? body?.PageSize, body?.Filter, ct);

    /// <summary>The execution log; skip/take (or page/pageSize) from the query.</summary>
    public static Task<Results<Ok<JournalResponse>, ProblemHttpResult>> JournalGetAsync(
        [AsParameters] WorkflowApiServices services, string id, int? skip, int? take, int? page, int? pageSize, CancellationToken ct) =>
        JournalAsync(services, id, skip, take, page, pageSize, null, ct);

    private static async Task<Results<Ok<JournalResponse>, ProblemHttpResult>> JournalAsync(
        WorkflowApiServices services, string id, int? skip, int? take, int? page, int? pageSize, JournalFilter? filter, CancellationToken ct)
    {
        var instance = await services.InstanceStore.FindAsync(id, ct);
        if (instance is null) return Problems.InstanceNotFound(id);
        if (skip < 0 || take < 0)
            throw ApiProblemException.BadRequest("skip and take must not be negative.", "Use skip=0 and a positive take, e.g. ?skip=0&take=100.");

        var records = await LoadRecordsAsync(services.ActivityExecutionStore, new ActivityExecutionFilter { WorkflowInstanceId = id }, ct);
        var definition = await services.DefinitionService.GetByIdAsync(instance.DefinitionVersionId, ct);
        var rootId = definition?.Root["id"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        IEnumerable<ExecutionLogRecordModel> log = JournalBuilder.Build(instance, records, rootId);
        if (filter?.ActivityIds is { Count: > 0 } ids) log = log.Where(r => ids.Contains(r.ActivityId));
        if (filter?.ActivityNodeIds is { Count: > 0 } nodeIds) log = log.Where(r => nodeIds.Contains(r.NodeId));
        var all = log.ToList();

        int from, count;
        if (skip is not null || take is not null) (from, count) = (skip ?? 0, take ?? int.MaxValue);
        else if (page is not null || pageSize is not null) (from, count) = ApiRouting.Paging(page, pageSize, int.MaxValue, int.MaxValue);
        else (from, count) = (0, int.MaxValue);
        return TypedResults.Ok(new JournalResponse(all.Skip(from).Take(count).ToList(), all.Count));
    }

    /// <summary>The current values of the instance's variables.</summary>
    public static async Task<Results<Ok<ListResponse<ResolvedVariableModel>>, ProblemHttpResult>> GetVariablesAsync(
        [AsParameters] WorkflowApiServices services, string id, CancellationToken ct)
    {
        var instance = await services.InstanceStore.FindAsync(id, ct);
        if (instance is null) return Problems.InstanceNotFound(id);
        var definition = await services.DefinitionService.GetByIdAsync(instance.DefinitionVersionId, ct);
        var declared = (definition?.Variables ?? []).OfType<JsonObject>()
            .Select(v => (Id: Text(v["id"]), Name: Text(v["name"])))
            .Where(v => v.Name is not null)
            .ToList();

        var items = new List<ResolvedVariableModel>();
        var values = instance.State?.Variables ?? new Dictionary<string, object?>();
        foreach (var (varId, name) in declared)
            items.Add(new ResolvedVariableModel(varId ?? name!, name!, values.GetValueOrDefault(name!)));
        foreach (var (name, value) in values)
            if (declared.All(d => d.Name != name)) items.Add(new ResolvedVariableModel(name, name, value));
        return TypedResults.Ok(new ListResponse<ResolvedVariableModel>(items));
    }

    /// <summary>Cancels a running or suspended instance.</summary>
    public static async Task<Results<Ok<WorkflowInstanceSummaryModel>, ProblemHttpResult>> CancelAsync(
        [AsParameters] WorkflowApiServices services, string id, CancellationToken ct)
    {
        var instance = await services.InstanceStore.FindAsync(id, ct);
        if (instance is null) return Problems.InstanceNotFound(id);
        if (!await services.Runtime.CancelAsync(id, ct))
        {
            return Problems.Conflict($"Workflow instance '{id}' cannot be cancelled.",
                $"It is already {instance.SubStatus}; only running or suspended instances can be cancelled.");
        }
        services.Logger.LogInformation("Cancelled workflow instance {InstanceId}", id);
        var cancelled = await services.InstanceStore.FindAsync(id, ct) ?? instance;
        return TypedResults.Ok(InstanceMapper.ToSummary(cancelled));
    }

    /// <summary>
    /// Runs a faulted instance again from the activity that failed (its incident is cleared; activities that completed before
    /// do not run again). 404 for an unknown id, 409 when the instance is not Faulted or faulted outside an activity.
    /// </summary>
    public static async Task<Results<Ok<WorkflowInstanceSummaryModel>, ProblemHttpResult>> RetryAsync(
        [AsParameters] WorkflowApiServices services, string id, CancellationToken ct)
    {
        var instance = await services.InstanceStore.FindAsync(id, ct);
        if (instance is null) return Problems.InstanceNotFound(id);
        if (instance.SubStatus != WorkflowSubStatus.Faulted)
        {
            return Problems.Conflict($"Workflow instance '{id}' cannot be retried.",
                $"It is {instance.SubStatus}; only Faulted instances can be retried. Retry runs the failed activity again and continues from there.");
        }
        RunWorkflowResult result;
        try
        {
            result = await services.Runtime.RetryAsync(id, ct);
        }
        catch (WorkflowRequestException e) when (e.Code == WorkflowRequestException.NotFound)
        {
            return Problems.InstanceNotFound(id);
        }
        catch (WorkflowRequestException e) when (e.Code == WorkflowRequestException.Conflict)
        {
            return Problems.Conflict($"Workflow instance '{id}' cannot be retried.", e.Message); // e.g. retried concurrently, or faulted outside an activity
        }
        services.Logger.LogInformation("Retried workflow instance {InstanceId}: now {SubStatus}", id, result.SubStatus);
        return TypedResults.Ok(InstanceMapper.ToSummary(result.Instance));
    }

    /// <summary>Cancels several instances; answers how many were cancelled.</summary>
    public static async Task<Ok<CancelledResponse>> BulkCancelAsync(
        [AsParameters] WorkflowApiServices services, IdsRequest request, CancellationToken ct)
    {
        var cancelled = 0;
        foreach (var id in (request.Ids ?? []).Distinct())
            if (await services.Runtime.CancelAsync(id, ct)) cancelled++;
        services.Logger.LogInformation("Bulk-cancelled {Count} workflow instance(s)", cancelled);
        return TypedResults.Ok(new CancelledResponse(cancelled));
    }

    /// <summary>Deletes an instance with its bookmarks and journal.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        [AsParameters] WorkflowApiServices services, string id, CancellationToken ct)
    {
        var deleted = await services.InstanceStore.DeleteManyAsync(new WorkflowInstanceFilter { Id = id }, ct);
        if (deleted == 0) return Problems.InstanceNotFound(id);
        services.Logger.LogInformation("Deleted workflow instance {InstanceId}", id);
        return TypedResults.NoContent();
    }

    /// <summary>Deletes several instances; answers how many were deleted.</summary>
    public static async Task<Ok<DeletedResponse>> BulkDeleteAsync(
        [AsParameters] WorkflowApiServices services, IdsRequest request, CancellationToken ct)
    {
        var ids = (request.Ids ?? []).Distinct().ToList();
        var deleted = ids.Count == 0 ? 0 : await services.InstanceStore.DeleteManyAsync(new WorkflowInstanceFilter { Ids = ids }, ct);
        services.Logger.LogInformation("Bulk-deleted {Count} workflow instance(s)", deleted);
        return TypedResults.Ok(new DeletedResponse(deleted));
    }

    /// <summary>Every activity execution record matching the filter, in sequence order.</summary>
    internal static async Task<IReadOnlyList<ActivityExecutionRecord>> LoadRecordsAsync(
        IActivityExecutionStore store, ActivityExecutionFilter filter, CancellationToken ct)
    {
        const int pageSize = 1_000;
        var all = new List<ActivityExecutionRecord>();
        for (var skip = 0; ; skip += pageSize)
        {
            var page = await store.FindManyAsync(filter, new PageArgs(skip, pageSize), ct);
            all.AddRange(page.Items);
            if (page.Items.Count < pageSize || all.Count >= page.TotalCount) return all;
        }
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
}
