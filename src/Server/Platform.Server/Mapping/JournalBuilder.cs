using Platform.Engine.Descriptors;
using Platform.Engine.Models;
using Platform.Server.Apis.Models;

namespace Platform.Server.Mapping;

/// <summary>
/// Derives Elsa's workflow execution log from the stored activity execution records: the root flowchart's Started (and,
/// once the instance is finished, Completed/Faulted/Canceled) around each activity's Started and Completed, Faulted,
/// Canceled, or Suspended (when it waits on a bookmark).
/// </summary>
public static class JournalBuilder
{
    /// <summary>Builds the whole log, in order, with sequence numbers from 0.</summary>
    /// <param name="instance">The instance.</param>
    /// <param name="records">Its activity execution records (any order).</param>
    /// <param name="rootId">The root flowchart's id (from the definition; derived from node ids when null).</param>
    public static IReadOnlyList<ExecutionLogRecordModel> Build(WorkflowInstance instance, IReadOnlyList<ActivityExecutionRecord> records, string? rootId)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(records);
        rootId ??= RootIdFromNodeIds(records) ?? "root";
        var rootNodeId = $"{DefinitionNormalizer.WorkflowNodePrefix}:{rootId}";
        var rootInstanceId = $"{instance.Id}:{rootId}";
        var events = new List<(int Phase, DateTimeOffset At, Func<long, ExecutionLogRecordModel> Make)>();

        ExecutionLogRecordModel Root(long seq, string eventName, DateTimeOffset at, string? message) =>
            new($"{rootInstanceId}:{eventName}", rootInstanceId, null, rootId!, ActivityRegistry.FlowchartTypeName, 1, "Flowchart1", rootNodeId,
                at, seq, eventName, message, null, null, null);

        events.Add((0, instance.CreatedAt, seq => Root(seq, "Started", instance.CreatedAt, null)));

        foreach (var r in records.OrderBy(r => r.Sequence))
        {
            ExecutionLogRecordModel Make(long seq, string eventName, DateTimeOffset at, string? message,
                IReadOnlyDictionary<string, object?>? state, IReadOnlyDictionary<string, object?>? payload) =>
                new($"{r.Id}:{eventName}", r.Id, rootInstanceId, r.ActivityId, r.ActivityType, r.ActivityTypeVersion, r.ActivityName ?? r.ActivityId,
                    r.ActivityNodeId, at, seq, eventName, message, null, state, payload);

            events.Add((1, r.StartedAt, seq => Make(seq, "Started", r.StartedAt, null, r.ActivityState, null)));
            var end = r.CompletedAt ?? r.StartedAt;
            switch (r.Status)
            {
                case ActivityStatus.Completed:
                    var payload = new Dictionary<string, object?>(r.Payload) { ["outcomes"] = r.Outcomes };
                    if (r.Outputs.Count > 0) payload["outputs"] = r.Outputs;
                    events.Add((1, end, seq => Make(seq, "Completed", end, null, null, payload)));
                    break;
                case ActivityStatus.Faulted:
                    events.Add((1, end, seq => Make(seq, "Faulted", end, r.Exception?.Message, null,
                        r.Exception is null ? null : new Dictionary<string, object?> { ["exception"] = InstanceMapper.ToModel(r.Exception) })));
                    break;
                case ActivityStatus.Canceled:
                    events.Add((1, end, seq => Make(seq, "Canceled", end, null, null, null)));
                    break;
                case ActivityStatus.Running when r.HasBookmarks:
                    events.Add((1, r.StartedAt, seq => Make(seq, "Suspended", r.StartedAt, null, null, null)));
                    break;
            }
        }

        if (instance.Status == WorkflowStatus.Finished)
        {
            var at = instance.FinishedAt ?? instance.UpdatedAt;
            var (name, message) = instance.SubStatus switch
            {
                WorkflowSubStatus.Faulted => ("Faulted", instance.State?.Fault?.Message),
                WorkflowSubStatus.Cancelled => ("Canceled", null),
                _ => ("Completed", (string?)null),
            };
            events.Add((2, at, seq => Root(seq, name, at, message)));
        }

        // Stable: events with equal timestamps keep the order in which they happened.
        return events.OrderBy(e => e.Phase).ThenBy(e => e.At).Select((e, i) => e.Make(i)).ToList();
    }

    private static string? RootIdFromNodeIds(IReadOnlyList<ActivityExecutionRecord> records)
    {
        var parts = records.FirstOrDefault()?.ActivityNodeId.Split(':');
        return parts is { Length: >= 3 } ? parts[1] : null;
    }
}
