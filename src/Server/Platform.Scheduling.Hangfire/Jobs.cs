using Microsoft.Extensions.Logging;
using Platform.Engine.Contracts;
using Platform.Engine.Runtime;

namespace Platform.Scheduling.Hangfire;

/// <summary>
/// Resumes a timed bookmark. Takes only ids. NEVER rename this class, its namespace or its method: stored jobs refer to them.
/// Idempotent: a bookmark that was already resumed (by another node or a duplicate job) is skipped.
/// </summary>
public sealed class ResumeBookmarkJob(IWorkflowRuntime runtime, IBookmarkStore bookmarks, TimeProvider clock, ILogger<ResumeBookmarkJob> logger)
{
    /// <summary>Hangfire keeps schedule times in whole seconds, so a job may start up to a second early; it waits out the rest.</summary>
    private static readonly TimeSpan MaxEarlyWait = TimeSpan.FromSeconds(2);

    public async Task RunAsync(string instanceId, string bookmarkId)
    {
        var bookmark = await bookmarks.FindByIdAsync(bookmarkId);
        if (bookmark?.ResumeAt is { } due)
        {
            // Task.Delay truncates to whole milliseconds and the timer clock is not the wall clock: wait until the wall clock says so.
            var giveUpAt = clock.GetUtcNow() + MaxEarlyWait;
            for (var now = clock.GetUtcNow(); now < due && now < giveUpAt; now = clock.GetUtcNow())
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling((due - now).TotalMilliseconds) + 1), clock);
        }
        try
        {
            await runtime.ResumeAsync(new ResumeWorkflowRequest(instanceId, bookmarkId));
        }
        catch (WorkflowRequestException e) when (e.Code is WorkflowRequestException.NotFound or WorkflowRequestException.Conflict)
        {
            logger.LogDebug("Timer {BookmarkId} of {InstanceId} was already handled: {Message}", bookmarkId, instanceId, e.Message);
        }
    }
}

/// <summary>
/// Starts a workflow from its cron trigger. Takes only ids. NEVER rename this class, its namespace or its method.
/// </summary>
public sealed class CronTriggerJob(IWorkflowRuntime runtime, ITriggerStore triggers, ILogger<CronTriggerJob> logger)
{
    public async Task RunAsync(string definitionId, string activityId)
    {
        var all = await triggers.FindByNameAsync(CronTriggerNames.Cron);
        var trigger = all.FirstOrDefault(t => t.DefinitionId == definitionId && t.ActivityId == activityId);
        if (trigger is null)
        {
            logger.LogInformation("Cron trigger {ActivityId} of {DefinitionId} is no longer published; skipped.", activityId, definitionId);
            return;
        }
        await runtime.StartAsync(new StartWorkflowRequest(definitionId) { DefinitionVersionId = trigger.DefinitionVersionId, TriggerActivityId = activityId });
    }
}

/// <summary>
/// Runs a background activity (one marked <c>Kind = ActivityKind.Job</c> or <c>customProperties.runInBackground</c>) and
/// resumes its instance with the outputs and outcomes. Takes only ids. NEVER rename this class, its namespace or its method:
/// stored jobs refer to them. A bookmark that is gone (resumed, cancelled) is skipped. On server shutdown the activity's
/// token is cancelled and nothing is resumed, so Hangfire runs the job again.
/// </summary>
public sealed class RunActivityJob(WorkflowRuntime runtime)
{
    /// <summary>Runs the activity waiting on <paramref name="bookmarkId"/>. Hangfire passes its shutdown token as <paramref name="cancellationToken"/>.</summary>
    public Task RunAsync(string instanceId, string bookmarkId, CancellationToken cancellationToken) =>
        runtime.RunBackgroundActivityAsync(instanceId, bookmarkId, cancellationToken);
}

/// <summary>Trigger names this module schedules.</summary>
public static class CronTriggerNames
{
    /// <summary>The cron trigger activity's type name.</summary>
    public const string Cron = "Elsa.Cron";
}
