using System.Text.Json.Nodes;
using Platform.Activities;
using Platform.Engine.Models;

namespace Platform.Persistence.Tests;

/// <summary>Builders for engine models with realistic content.</summary>
internal static class TestData
{
    /// <summary>A fixed instant with microsecond precision (PostgreSQL keeps microseconds) and a non-UTC offset.</summary>
    public static readonly DateTimeOffset T0 = new DateTimeOffset(2025, 3, 14, 15, 9, 26, TimeSpan.FromHours(2)).AddTicks(5_350);

    public static WorkflowDefinition Definition(string definitionId, int version, bool isLatest = true, bool isPublished = false, string? name = null) => new()
    {
        Id = $"{definitionId}-v{version}",
        DefinitionId = definitionId,
        Name = name ?? definitionId,
        Version = version,
        IsLatest = isLatest,
        IsPublished = isPublished,
        CreatedAt = T0.AddMinutes(version),
        Root = new JsonObject
        {
            ["type"] = "Elsa.Flowchart",
            ["id"] = "flowchart1",
            ["activities"] = new JsonArray(new JsonObject { ["id"] = "start", ["type"] = "Elsa.Start" }),
        },
    };

    public static WorkflowInstance Instance(string id, string definitionId = "def", WorkflowSubStatus subStatus = WorkflowSubStatus.Suspended,
        DateTimeOffset? createdAt = null, string? name = null, string? correlationId = null)
    {
        var created = createdAt ?? T0;
        return new WorkflowInstance
        {
            Id = id,
            DefinitionId = definitionId,
            DefinitionVersionId = $"{definitionId}-v1",
            Version = 1,
            Name = name,
            CorrelationId = correlationId,
            Status = subStatus is WorkflowSubStatus.Finished or WorkflowSubStatus.Cancelled or WorkflowSubStatus.Faulted ? WorkflowStatus.Finished : WorkflowStatus.Running,
            SubStatus = subStatus,
            CreatedAt = created,
            UpdatedAt = created.AddSeconds(1),
            FinishedAt = subStatus == WorkflowSubStatus.Finished ? created.AddSeconds(2) : null,
            State = new WorkflowState
            {
                Variables = { ["counter"] = 1L, ["greeting"] = "Привет, <world> & \"friends\"" },
                Input = { ["chatId"] = 42L },
            },
        };
    }

    public static StoredBookmark Bookmark(string id, string instanceId, string name = "Platform.WaitForMessage", string? key = "chat-1",
        DateTimeOffset? resumeAt = null) => new()
    {
        Id = id,
        WorkflowInstanceId = instanceId,
        Name = name,
        Key = key,
        ActivityId = "wait1",
        ActivityInstanceId = $"{id}-ai",
        CorrelationId = "corr",
        ResumeAt = resumeAt,
        CreatedAt = T0,
    };

    public static StoredTrigger Trigger(string id, string definitionId, string name = "Platform.MessageReceived", string? key = null) => new()
    {
        Id = id,
        DefinitionId = definitionId,
        DefinitionVersionId = $"{definitionId}-v1",
        ActivityId = "trigger1",
        Name = name,
        Key = key,
    };

    public static ActivityExecutionRecord Journal(string id, string instanceId, long sequence, string nodeId = "flowchart1:a1", string activityId = "a1",
        ActivityStatus status = ActivityStatus.Completed) => new()
    {
        Id = id,
        WorkflowInstanceId = instanceId,
        ActivityId = activityId,
        ActivityNodeId = nodeId,
        ActivityType = "Elsa.WriteLine",
        ActivityName = "Write",
        ActivityState = { ["text"] = "hello" },
        Outputs = { ["result"] = 3.5 },
        Outcomes = ["Done"],
        StartedAt = T0.AddSeconds(sequence),
        CompletedAt = status == ActivityStatus.Completed ? T0.AddSeconds(sequence + 1) : null,
        Status = status,
        Sequence = sequence,
    };

    public static WorkflowCommit Commit(WorkflowInstance instance, IReadOnlyList<StoredBookmark>? bookmarks = null,
        IReadOnlyList<ActivityExecutionRecord>? journal = null) => new()
    {
        Instance = instance,
        Bookmarks = bookmarks ?? [],
        Journal = journal ?? [],
    };

    /// <summary>A bookmark as the engine keeps it in the state.</summary>
    public static Bookmark StateBookmark(string id) => new()
    {
        Id = id, Name = "Platform.WaitForMessage", Key = "chat-1", ActivityId = "wait1", ActivityNodeId = "flowchart1:wait1",
        ActivityInstanceId = $"{id}-ai", CreatedAt = T0, Payload = { ["attempt"] = 2L },
    };
}
