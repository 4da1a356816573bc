using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Activities;
using Platform.Engine.Expressions;
using Platform.Engine.Models;

namespace Platform.Engine.Runtime;

/// <summary>Retry policies and background activities: the parts of a burst that suspend an activity instead of running it inline.</summary>
internal sealed partial class WorkflowExecution
{
    /// <summary>Background jobs set this to store progress while the activity runs (see <see cref="ActivityContext.ReportProgress"/>).</summary>
    public Action<double, string?>? ProgressReported { get; set; }

    /// <summary>Background bookmarks created in this burst; dispatched after the commit.</summary>
    public List<Bookmark> BackgroundBookmarks { get; } = [];

    /// <summary>
    /// Schedules another attempt when the activity's retry policy (or the configured default) allows one: a timed bookmark,
    /// durable like a Delay, that runs the activity again. False when the fault stands (no policy, attempts used up, or
    /// the fault is marked non-retryable).
    /// </summary>
    private bool TryScheduleRetry(Activity activity, ActivityExecutionRecord record, Exception e, WorkItem item, int attempt, string message)
    {
        if (e is ActivityFaultException { NonRetryable: true }) return false;
        var logger = LoggerFactory.CreateLogger<WorkflowExecution>();
        RetryPolicy? policy;
        try
        {
            policy = RetryPolicy.Parse(activity.CustomProperties.ValueOf(RetryPolicy.CustomPropertyName))
                     ?? Services.GetService<IOptions<EngineRuntimeOptions>>()?.Value.DefaultRetryPolicy?.ToPolicy();
        }
        catch (FormatException fe)
        {
            record.Payload["retryPolicyError"] = fe.Message;
            logger.LogWarning("Instance {InstanceId}: the retry policy of activity {ActivityId} is not valid, so the fault is not retried: {Message}",
                Instance.Id, activity.Id, fe.Message);
            return false;
        }
        if (policy is null || policy.MaxAttempts <= 1) return false;
        record.Payload["attempt"] = attempt;
        record.Payload["maxAttempts"] = policy.MaxAttempts;
        if (attempt >= policy.MaxAttempts) return false;

        var delay = policy.DelayBefore(attempt + 1);
        if (e is ActivityFaultException { NextRetryDelay: { } earliest } && earliest > delay) delay = earliest;
        var now = Clock.GetUtcNow();
        var retryAt = now + delay;
        State.Bookmarks.Add(new Bookmark
        {
            Id = Guid.NewGuid().ToString("N"), Name = BackgroundActivities.RetryBookmarkName, ActivityId = activity.Id, ActivityNodeId = activity.NodeId,
            ActivityInstanceId = record.Id, ResumeAt = retryAt, CreatedAt = now,
            Payload = new Dictionary<string, object?> { ["attempt"] = attempt + 1, ["isTrigger"] = item.IsTrigger, ["error"] = message },
        });
        record.Payload["nextRetryAt"] = retryAt;
        logger.LogInformation("Instance {InstanceId}: activity {ActivityId} failed (attempt {Attempt} of {MaxAttempts}); retrying at {RetryAt:O}: {Message}",
            Instance.Id, activity.Id, attempt, policy.MaxAttempts, retryAt, message);
        return true;
    }

    /// <summary>Suspends the activity on a bookmark that a background job resumes with its results.</summary>
    private void SuspendForBackground(ActivityContext context, int attempt) =>
        BackgroundBookmarks.Add(context.CreateBookmark(new BookmarkRequest(BackgroundActivities.BookmarkName)
        {
            Payload = new Dictionary<string, object?> { ["attempt"] = attempt },
        }));

    /// <summary>Applies what a background job reported: outputs, variables, workflow output, journal data, outcomes, or its fault.</summary>
    private void ApplyBackgroundResult(ActivityContext context, Activity activity, ActivityExecutionRecord record)
    {
        var result = context.ResumeInput;
        if (result.GetValueOrDefault(BackgroundActivities.ResultKeys.Journal) is IDictionary<string, object?> journal)
            foreach (var (k, v) in journal)
            {
                record.Payload[k] = v;
                if (k == "progress") BackgroundActivities.SetProgress(State.Properties, activity.Id, v);
            }
        if (result.GetValueOrDefault(BackgroundActivities.ResultKeys.Fault) is IDictionary<string, object?> fault)
        {
            throw new ActivityFaultException(fault.ValueOf("code") as string ?? FaultCodes.Unhandled,
                fault.ValueOf("message") as string ?? "The background job failed.", nonRetryable: fault.ValueOf("nonRetryable") is true);
        }
        if (result.GetValueOrDefault(BackgroundActivities.ResultKeys.Outputs) is IDictionary<string, object?> outputs && outputs.Count > 0)
        {
            if (!State.ActivityOutputs.TryGetValue(activity.Id, out var stored)) State.ActivityOutputs[activity.Id] = stored = new Dictionary<string, object?>();
            foreach (var (k, v) in outputs)
            {
                stored[k] = v;
                record.Outputs[k] = v;
            }
        }
        if (result.GetValueOrDefault(BackgroundActivities.ResultKeys.Variables) is IDictionary<string, object?> variables)
            foreach (var (k, v) in variables) context.SetVariable(k, v);
        if (result.GetValueOrDefault(BackgroundActivities.ResultKeys.WorkflowOutput) is IDictionary<string, object?> output)
            foreach (var (k, v) in output) context.SetWorkflowOutput(k, v);
        var outcomes = result.GetValueOrDefault(BackgroundActivities.ResultKeys.Outcomes) is IEnumerable<object?> list
            ? list.Select(o => Convert.ToString(o, CultureInfo.InvariantCulture) ?? "").Where(o => o.Length > 0).ToArray()
            : [];
        context.Complete(outcomes);
    }
}
