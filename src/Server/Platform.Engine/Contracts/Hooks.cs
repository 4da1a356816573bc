using Platform.Engine.Models;

namespace Platform.Engine.Contracts;

/// <summary>Notified when definitions are published or retracted (e.g. to register cron jobs).</summary>
public interface IWorkflowPublicationHandler
{
    Task OnPublishedAsync(WorkflowDefinition definition, IReadOnlyList<StoredTrigger> triggers, CancellationToken ct);
    Task OnRetractedAsync(string definitionId, CancellationToken ct);
}

/// <summary>
/// One-time work done in the background right after start, so that the first message does not pay for it: parsers and
/// their static tables, query plans, serializer metadata, the JIT's first compilation of the message path. A warm-up must
/// leave nothing behind that anyone could see (no rows, no messages); <c>Platform:Engine:WarmUp=false</c> turns them off.
/// </summary>
public interface IStartupWarmUp
{
    /// <summary>What is warmed, for the log.</summary>
    string Name { get; }

    /// <summary>Does the work; a failure is logged and otherwise ignored.</summary>
    Task WarmUpAsync(CancellationToken ct);
}
