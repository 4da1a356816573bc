using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Engine.Contracts;
using Platform.Engine.Models;
using Platform.Server.Apis.Models;
using Platform.Server.Infrastructure;
using Platform.Server.Mapping;

namespace Platform.Server.Apis;

/// <summary>Activity executions (the journal records) as the instance viewer reads them.</summary>
public static class ActivityExecutionsApi
{
    /// <summary>Maps the activity execution endpoints under /elsa/api.</summary>
    public static RouteGroupBuilder MapActivityExecutionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapElsaApiGroup("Activity executions");
        api.MapPost("/activity-executions/report", ReportAsync);
        api.MapGet("/activity-executions/list", ListAsync);
        api.MapGet("/activity-execution-summaries/list", ListSummariesAsync);
        api.MapGet("/activity-executions/by-id", GetByIdAsync);
        api.MapGet("/activity-executions/{id}/call-stack", GetCallStackAsync);
        return api;
    }

    /// <summary>Execution counts per activity node of an instance (all nodes, or those asked for).</summary>
    public static async Task<Results<Ok<ActivityExecutionReportResponse>, ProblemHttpResult>> ReportAsync(
        [AsParameters] WorkflowApiServices services, ActivityExecutionReportRequest request, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request.WorkflowInstanceId))
            return Problems.BadRequest("workflowInstanceId is required.", "Send {\"workflowInstanceId\": \"…\", \"activityIds\": [\"…\"]}.");
        var records = await WorkflowInstancesApi.LoadRecordsAsync(services.ActivityExecutionStore,
            new ActivityExecutionFilter { WorkflowInstanceId = request.WorkflowInstanceId }, ct);
        var wanted = new HashSet<string>((request.ActivityIds ?? []).Concat(request.ActivityNodeIds ?? []), StringComparer.Ordinal);
        var stats = records
            .Where(r => wanted.Count == 0 || wanted.Contains(r.ActivityId) || wanted.Contains(r.ActivityNodeId))
            .GroupBy(r => (r.ActivityId, r.ActivityNodeId))
            .Select(g =>
            {
                var running = g.Count(r => r.Status == ActivityStatus.Running);
                return new ActivityExecutionStatsModel(
                    g.Key.ActivityId, g.Key.ActivityNodeId,
                    StartedCount: g.Count(),
                    CompletedCount: g.Count(r => r.Status == ActivityStatus.Completed),
                    UncompletedCount: running,
                    IsBlocked: g.Any(r => r.Status == ActivityStatus.Running && r.HasBookmarks),
                    IsFaulted: g.Any(r => r.Status == ActivityStatus.Faulted),
                    new Dictionary<string, object?>());
            })
            .ToList();
        return TypedResults.Ok(new ActivityExecutionReportResponse(stats));
    }

    /// <summary>The executions of one activity node in an instance, with state, payload and outputs.</summary>
    public static Task<Results<Ok<ListResponse<ActivityExecutionRecordModel>>, ProblemHttpResult>> ListAsync(
        [AsParameters] WorkflowApiServices services, string? workflowInstanceId, string? activityNodeId, string? activityId, CancellationToken ct) =>
        ListCoreAsync(services, workflowInstanceId, activityNodeId, activityId, summary: false, ct);

    /// <summary>The executions of one activity node in an instance, without state, payload and outputs.</summary>
    public static Task<Results<Ok<ListResponse<ActivityExecutionRecordModel>>, ProblemHttpResult>> ListSummariesAsync(
        [AsParameters] WorkflowApiServices services, string? workflowInstanceId, string? activityNodeId, string? activityId, CancellationToken ct) =>
        ListCoreAsync(services, workflowInstanceId, activityNodeId, activityId, summary: true, ct);

    private static async Task<Results<Ok<ListResponse<ActivityExecutionRecordModel>>, ProblemHttpResult>> ListCoreAsync(
        WorkflowApiServices services, string? workflowInstanceId, string? activityNodeId, string? activityId, bool summary, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(workflowInstanceId))
            return Problems.BadRequest("workflowInstanceId is required.", "Add ?workflowInstanceId=…&activityNodeId=… to the URL.");
        var filter = new ActivityExecutionFilter
        {
            WorkflowInstanceId = workflowInstanceId,
            ActivityNodeId = string.IsNullOrWhiteSpace(activityNodeId) ? null : activityNodeId,
            ActivityId = string.IsNullOrWhiteSpace(activityId) ? null : activityId,
        };
        var records = await WorkflowInstancesApi.LoadRecordsAsync(services.ActivityExecutionStore, filter, ct);
        if (records.Count == 0 && filter.ActivityNodeId is { } nodeId && await RootRecordAsync(services, workflowInstanceId, ct) is { } root
            && root.ActivityNodeId == nodeId)
            records = [root];
        return TypedResults.Ok(new ListResponse<ActivityExecutionRecordModel>(records.Select(r => InstanceMapper.ToModel(r, summary)).ToList()));
    }

    /// <summary>One execution record.</summary>
    public static async Task<Results<Ok<ActivityExecutionRecordModel>, ProblemHttpResult>> GetByIdAsync(
        [AsParameters] WorkflowApiServices services, string? id, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(id))
            throw ApiProblemException.BadRequest("id is required.", "Add ?id=<activity execution id> to the URL.");
        var record = await services.ActivityExecutionStore.FindAsync(id, ct);
        if (record is null && id.EndsWith(RootRecordSuffix, StringComparison.Ordinal))
            record = await RootRecordAsync(services, id[..^RootRecordSuffix.Length], ct);
        return record is null ? NotFound(id) : TypedResults.Ok(InstanceMapper.ToModel(record));
    }

    /// <summary>The executions that led to this one (flowcharts are flat: the record itself).</summary>
    public static async Task<Results<Ok<CallStackResponse>, ProblemHttpResult>> GetCallStackAsync(
        [AsParameters] WorkflowApiServices services, string id, CancellationToken ct)
    {
        var record = await services.ActivityExecutionStore.FindAsync(id, ct);
        return record is null ? NotFound(id) : TypedResults.Ok(new CallStackResponse(id, [InstanceMapper.ToModel(record)], 1));
    }

    private const string RootRecordSuffix = "~flowchart";

    /// <summary>
    /// The engine journals the activities of the flowchart, not the flowchart itself; the Studio's instance viewer would
    /// show the root "Not executed". This record stands for it: started with the instance, completed (or faulted,
    /// cancelled) when the instance finished, still running while it runs or waits.
    /// </summary>
    private static async Task<ActivityExecutionRecord?> RootRecordAsync(WorkflowApiServices services, string instanceId, CancellationToken ct)
    {
        if (await services.InstanceStore.FindAsync(instanceId, ct) is not { } instance) return null;
        var definition = await services.DefinitionService.GetByIdAsync(instance.DefinitionVersionId, ct);
        if (definition?.Root is not { } root || root["id"]?.GetValueKind() != System.Text.Json.JsonValueKind.String) return null;
        var rootId = root["id"]!.GetValue<string>();
        var nodeId = root["nodeId"]?.GetValueKind() == System.Text.Json.JsonValueKind.String ? root["nodeId"]!.GetValue<string>() : $"Workflow1:{rootId}";
        var finished = instance.Status == WorkflowStatus.Finished;
        return new ActivityExecutionRecord
        {
            Id = instance.Id + RootRecordSuffix, WorkflowInstanceId = instance.Id, ActivityId = rootId, ActivityNodeId = nodeId,
            ActivityType = root["type"]?.ToString() ?? "Elsa.Flowchart", ActivityName = root["name"]?.ToString(),
            StartedAt = instance.CreatedAt, CompletedAt = finished ? instance.FinishedAt ?? instance.UpdatedAt : null,
            Status = !finished ? ActivityStatus.Running
                : instance.SubStatus == WorkflowSubStatus.Faulted ? ActivityStatus.Faulted
                : instance.SubStatus == WorkflowSubStatus.Cancelled ? ActivityStatus.Canceled
                : ActivityStatus.Completed,
            HasBookmarks = !finished && instance.State.Bookmarks.Count > 0,
        };
    }

    private static ProblemHttpResult NotFound(string id) =>
        Problems.NotFound($"Activity execution '{id}' was not found.", "Use an id from GET /elsa/api/activity-executions/list?workflowInstanceId=….");
}
