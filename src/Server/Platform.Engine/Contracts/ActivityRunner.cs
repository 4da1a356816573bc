using Platform.Activities;

namespace Platform.Engine.Contracts;

/// <summary>
/// Runs some activities somewhere other than in the engine's own call: the packs module registers one that sends the calls
/// of packs with <c>process</c> isolation to a pack host process, and that applies the per-call wall-clock limit to
/// <c>shared</c> packs. The engine has evaluated the inputs on <paramref name="context"/> before it asks.
/// </summary>
public interface IActivityRunner
{
    /// <summary>
    /// True when this runner runs the activity; <paramref name="execution"/> is then the run, which completes, creates
    /// bookmarks, sets outputs and so on through <paramref name="context"/> as <c>ExecuteAsync</c> would, or throws the fault.
    /// False to let the engine run the activity itself.
    /// </summary>
    /// <param name="activity">The activity to run.</param>
    /// <param name="context">Its execution context, inputs evaluated.</param>
    /// <param name="execute">Runs an activity's own <c>ExecuteAsync</c> in this process with the given context.</param>
    /// <param name="execution">The run, when this runner takes it.</param>
    bool TryRun(Activity activity, ActivityExecutionContext context, Func<Activity, ActivityExecutionContext, ValueTask> execute, out ValueTask execution);
}
