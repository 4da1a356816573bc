using Platform.Engine.Models;

namespace Platform.Engine.Contracts;

/// <summary>Notified when definitions are published or retracted (e.g. to register cron jobs).</summary>
public interface IWorkflowPublicationHandler
{
    Task OnPublishedAsync(WorkflowDefinition definition, IReadOnlyList<StoredTrigger> triggers, CancellationToken ct);
    Task OnRetractedAsync(string definitionId, CancellationToken ct);
}
