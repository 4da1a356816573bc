using Hangfire.Server;
using Microsoft.Extensions.Logging;
using Platform.Engine.Models;
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
/// Starts a workflow from its cron trigger. Takes only ids. NEVER rename this class, its namespace or its methods.
/// Idempotent per occurrence: the instance id derives from the trigger and the occurrence (<see cref="TriggerOccurrences"/>), so a
/// job that Hangfire runs again (its node died after the start committed) finds the instance and starts nothing.
/// </summary>
public sealed class CronTriggerJob(IWorkflowRuntime runtime, ITriggerStore triggers, TimeProvider clock, ILogger<CronTriggerJob> logger)
{
    /// <summary>Recurring jobs stored before occurrence ids existed call this; the occurrence is the current minute (or second).</summary>
    public Task RunAsync(string definitionId, string activityId) => RunAsync(definitionId, activityId, null);

    /// <summary>Runs one occurrence; Hangfire passes its <see cref="PerformContext"/>, whose <c>Time</c> parameter fixes the occurrence.</summary>
    public async Task RunAsync(string definitionId, string activityId, PerformContext? context)
    {
        if (await TriggerOccurrences.FindPublishedAsync(triggers, CronTriggerNames.Cron, definitionId, activityId, logger) is not { } trigger) return;
        var occurrence = TriggerOccurrences.TruncateToCronField(TriggerOccurrences.FiredAt(context, clock), trigger.Key);
        await TriggerOccurrences.StartOnceAsync(runtime, trigger, occurrence, logger);
    }

    /// <summary>Starts the workflow for the occurrence at <paramref name="occurrence"/> unless it was started already; true when it started now.</summary>
    public async Task<bool> StartOccurrenceAsync(string definitionId, string activityId, DateTimeOffset occurrence) =>
        await TriggerOccurrences.FindPublishedAsync(triggers, CronTriggerNames.Cron, definitionId, activityId, logger) is { } trigger
        && await TriggerOccurrences.StartOnceAsync(runtime, trigger, occurrence, logger);
}

/// <summary>
/// Starts a workflow from its <c>Timer</c> trigger. Takes only ids. NEVER rename this class, its namespace or its method.
/// The recurring job fires every <see cref="TimerSchedule.Tick"/> (the longest cron-expressible period that divides the interval); a
/// tick that is not an occurrence (a whole multiple of the interval since the Unix epoch) does nothing. Idempotent per occurrence
/// like <see cref="CronTriggerJob"/>.
/// </summary>
public sealed class TimerTriggerJob(IWorkflowRuntime runtime, ITriggerStore triggers, TimeProvider clock, ILogger<TimerTriggerJob> logger)
{
    /// <summary>Runs one tick; Hangfire passes its <see cref="PerformContext"/>, whose <c>Time</c> parameter fixes the tick.</summary>
    public async Task RunAsync(string definitionId, string activityId, PerformContext? context)
    {
        var trigger = await TriggerOccurrences.FindPublishedAsync(triggers, CronTriggerNames.Timer, definitionId, activityId, logger);
        if (trigger is null || !TimerSchedule.TryParseKey(trigger.Key, out var interval)) return;
        var firedAt = TriggerOccurrences.FiredAt(context, clock);
        var occurrence = TimerSchedule.Floor(firedAt, interval);
        // Only the tick that falls in the occurrence's first tick period starts it; later ticks of the same interval skip.
        if (firedAt - occurrence >= TimerSchedule.Tick(interval))
        {
            logger.LogDebug("Timer {ActivityId} of {DefinitionId}: tick {FiredAt:o} is not an occurrence.", activityId, definitionId, firedAt);
            return;
        }
        await TriggerOccurrences.StartOnceAsync(runtime, trigger, occurrence, logger);
    }

    /// <summary>Starts the workflow for the occurrence at <paramref name="occurrence"/> unless it was started already; true when it started now.</summary>
    public async Task<bool> StartOccurrenceAsync(string definitionId, string activityId, DateTimeOffset occurrence) =>
        await TriggerOccurrences.FindPublishedAsync(triggers, CronTriggerNames.Timer, definitionId, activityId, logger) is { } trigger
        && await TriggerOccurrences.StartOnceAsync(runtime, trigger, occurrence, logger);
}

/// <summary>One start per scheduled occurrence of a cron or Timer trigger.</summary>
public static class TriggerOccurrences
{
    /// <summary>The published trigger of type <paramref name="triggerName"/> on the activity, or null (logged) when it is no longer published.</summary>
    public static async Task<StoredTrigger?> FindPublishedAsync(ITriggerStore triggers, string triggerName, string definitionId, string activityId, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(triggers);
        var all = await triggers.FindByNameAsync(triggerName);
        var trigger = all.FirstOrDefault(t => t.DefinitionId == definitionId && t.ActivityId == activityId);
        if (trigger is null) logger.LogInformation("{Trigger} trigger {ActivityId} of {DefinitionId} is no longer published; skipped.", triggerName, activityId, definitionId);
        return trigger;
    }

    /// <summary>
    /// When the recurring scheduler fired the job: Hangfire's <c>Time</c> job parameter (Unix seconds, stored with the job, so the
    /// same on every re-run), else the job's creation time; without a context (a direct call), now.
    /// </summary>
    public static DateTimeOffset FiredAt(PerformContext? context, TimeProvider clock)
    {
        if (context is not null)
        {
            try
            {
                if (context.GetJobParameter<long?>("Time") is { } seconds) return DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or Newtonsoft.Json.JsonException) { }
            if (context.BackgroundJob?.CreatedAt is { } created) return new DateTimeOffset(DateTime.SpecifyKind(created, DateTimeKind.Utc));
        }
        return clock.GetUtcNow();
    }

    /// <summary>
    /// The occurrence a cron job fired for: <paramref name="firedAt"/> truncated to the cron's finest field (the minute for five
    /// fields, the second for six). The recurring scheduler fires within its polling interval (250 ms) of the occurrence.
    /// </summary>
    public static DateTimeOffset TruncateToCronField(DateTimeOffset firedAt, string? cron)
    {
        var withSeconds = cron is not null && cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 6;
        var unit = withSeconds ? TimeSpan.TicksPerSecond : TimeSpan.TicksPerMinute;
        var utc = firedAt.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - utc.Ticks % unit, TimeSpan.Zero);
    }

    /// <summary>The instance id of an occurrence: <c>occ-</c> and 28 hex digits of SHA-256 over (definition id, activity id, occurrence).</summary>
    public static string InstanceId(string definitionId, string activityId, DateTimeOffset occurrence)
    {
        var text = $"{definitionId}\n{activityId}\n{occurrence.ToUniversalTime().ToUnixTimeSeconds()}";
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text));
        return "occ-" + Convert.ToHexStringLower(hash)[..28];
    }

    /// <summary>
    /// Starts the trigger's workflow with the occurrence's instance id. The start takes that id's instance lock (a PostgreSQL advisory
    /// lock across nodes) and checks the id first, and the id is the instances table's primary key: an occurrence that already
    /// started (before a crash, or on another node) starts nothing. True when it started now.
    /// </summary>
    public static async Task<bool> StartOnceAsync(IWorkflowRuntime runtime, StoredTrigger trigger, DateTimeOffset occurrence, ILogger logger)
    {
        var instanceId = InstanceId(trigger.DefinitionId, trigger.ActivityId, occurrence);
        try
        {
            await runtime.StartAsync(new StartWorkflowRequest(trigger.DefinitionId)
            {
                DefinitionVersionId = trigger.DefinitionVersionId, TriggerActivityId = trigger.ActivityId, InstanceId = instanceId,
                Properties = new Dictionary<string, object?> { ["triggerOccurrence"] = occurrence.ToUniversalTime().ToString("o") },
            });
            return true;
        }
        catch (WorkflowRequestException e) when (e.Code == WorkflowRequestException.Conflict)
        {
            logger.LogInformation("Occurrence {Occurrence:o} of trigger {ActivityId} in {DefinitionId} already started instance {InstanceId}; skipped.",
                occurrence, trigger.ActivityId, trigger.DefinitionId, instanceId);
            return false;
        }
    }
}

/// <summary>How a <c>Timer</c> trigger's interval maps to a Hangfire recurring job.</summary>
public static class TimerSchedule
{
    private static readonly int[] SecondSteps = [30, 20, 15, 12, 10, 6, 5, 4, 3, 2, 1];
    private static readonly int[] HourSteps = [12, 8, 6, 4, 3, 2, 1];

    /// <summary>Reads a trigger key (whole seconds, at least 1).</summary>
    public static bool TryParseKey(string? key, out TimeSpan interval)
    {
        interval = default;
        if (!long.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds < 1) return false;
        interval = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>The longest period a cron expression can repeat at (a day, or a divisor of a day, an hour or a minute) that divides the interval.</summary>
    public static TimeSpan Tick(TimeSpan interval)
    {
        var seconds = (long)interval.TotalSeconds;
        if (seconds % 86_400 == 0) return TimeSpan.FromDays(1);
        foreach (var h in HourSteps) if (seconds % (h * 3_600L) == 0) return TimeSpan.FromHours(h);
        foreach (var m in SecondSteps) if (seconds % (m * 60L) == 0) return TimeSpan.FromMinutes(m);
        foreach (var s in SecondSteps) if (seconds % s == 0) return TimeSpan.FromSeconds(s);
        return TimeSpan.FromSeconds(1);
    }

    /// <summary>The six-field cron expression (with seconds, UTC) that fires every <see cref="Tick"/>.</summary>
    public static string Cron(TimeSpan interval)
    {
        var tick = Tick(interval);
        if (tick >= TimeSpan.FromDays(1)) return "0 0 0 * * *";
        if (tick >= TimeSpan.FromHours(1)) return tick.TotalHours == 1 ? "0 0 * * * *" : $"0 0 */{(int)tick.TotalHours} * * *";
        if (tick >= TimeSpan.FromMinutes(1)) return tick.TotalMinutes == 1 ? "0 * * * * *" : $"0 */{(int)tick.TotalMinutes} * * * *";
        return tick.TotalSeconds == 1 ? "* * * * * *" : $"*/{(int)tick.TotalSeconds} * * * * *";
    }

    /// <summary>The latest occurrence at or before <paramref name="at"/>: a whole multiple of the interval since the Unix epoch.</summary>
    public static DateTimeOffset Floor(DateTimeOffset at, TimeSpan interval)
    {
        var seconds = at.ToUnixTimeSeconds();
        var step = (long)interval.TotalSeconds;
        return DateTimeOffset.FromUnixTimeSeconds(seconds - ((seconds % step) + step) % step);
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

    /// <summary>The interval trigger activity's type name.</summary>
    public const string Timer = "Elsa.Timer";
}
