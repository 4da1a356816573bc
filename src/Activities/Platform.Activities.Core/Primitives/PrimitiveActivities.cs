using Microsoft.Extensions.Logging;
using Platform.Activities;

namespace Platform.Activities.Core.Primitives;

/// <summary>Sets a workflow variable.</summary>
[Activity("Elsa", "Primitives", "Sets a workflow variable to a value.")]
public sealed class SetVariable : Activity
{
    /// <summary>The variable: its name, or the designer's <c>{id, name}</c> reference.</summary>
    [Input(Description = "The variable to set.", UIHint = UIHints.VariablePicker)]
    public object? Variable { get; set; }

    /// <summary>The value.</summary>
    [Input(Description = "The value to assign.")]
    public Input<object?> Value { get; set; } = new((object?)null);

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var name = VariableName(Variable) ?? throw new ActivityFaultException(FaultCodes.Configuration,
            "Set Variable has no variable selected. Pick a variable in the activity's properties.", nonRetryable: true);
        context.SetVariable(name, Value.Get(context));
        return ValueTask.CompletedTask;
    }

    private static string? VariableName(object? v) => v switch
    {
        string s when s.Length > 0 => s,
        System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.String } e => e.GetString(),
        System.Text.Json.JsonElement { ValueKind: System.Text.Json.JsonValueKind.Object } e =>
            e.TryGetProperty("name", out var n) && n.ValueKind == System.Text.Json.JsonValueKind.String ? n.GetString()
            : e.TryGetProperty("id", out var id) && id.ValueKind == System.Text.Json.JsonValueKind.String ? id.GetString()
            : e.TryGetProperty("expression", out var x) && x.TryGetProperty("value", out var xv) ? VariableName(xv) : null,
        IDictionary<string, object?> d => (d.TryGetValue("name", out var n) ? n as string : null) ?? (d.TryGetValue("id", out var id) ? id as string : null),
        _ => null,
    };
}

/// <summary>Writes a line of text to the server console and the journal.</summary>
[Activity("Elsa", "Primitives", "Writes a line of text to the console and the journal.")]
public sealed class WriteLine : Activity
{
    /// <summary>The text.</summary>
    [Input(Description = "The text to write.")]
    public Input<string> Text { get; set; } = new("");

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var text = Text.Get(context) ?? "";
        context.AddJournalData("text", text);
        context.Logger.LogInformation("WriteLine [{InstanceId}]: {Text}", context.WorkflowInstanceId, text);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Log levels offered by <see cref="Log"/>.</summary>
public enum LogLevelOption
{
    /// <summary>Debug.</summary>
    Debug,
    /// <summary>Information.</summary>
    Information,
    /// <summary>Warning.</summary>
    Warning,
    /// <summary>Error.</summary>
    Error,
}

/// <summary>Writes a message to the server log.</summary>
[Activity("Elsa", "Primitives", "Writes a message to the server log at a level.")]
public sealed class Log : Activity
{
    /// <summary>The message.</summary>
    [Input(Description = "The message.")]
    public Input<string> Message { get; set; } = new("");

    /// <summary>The level.</summary>
    [Input(Description = "The log level.", Options = ["Debug", "Information", "Warning", "Error"])]
    public Input<LogLevelOption> Level { get; set; } = new(LogLevelOption.Information);

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var level = Level.Get(context) switch
        {
            LogLevelOption.Debug => LogLevel.Debug,
            LogLevelOption.Warning => LogLevel.Warning,
            LogLevelOption.Error => LogLevel.Error,
            _ => LogLevel.Information,
        };
        var message = Message.Get(context) ?? "";
        context.AddJournalData("message", message);
        context.AddJournalData("level", level.ToString());
        context.Logger.Log(level, "Workflow {InstanceId}: {Message}", context.WorkflowInstanceId, message);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Waits for a duration. Durable: the instance is suspended on a timed bookmark and survives restarts.</summary>
[Activity("Elsa", "Scheduling", "Waits for a duration, then continues. Survives restarts.")]
public sealed class Delay : Activity
{
    /// <summary>The bookmark name of delays.</summary>
    public const string BookmarkName = "Elsa.Delay";

    /// <summary>How long to wait.</summary>
    [Input(Description = "How long to wait: 00:00:05, 5s, 2m, 1h.")]
    public Input<TimeSpan> TimeSpan { get; set; } = new(System.TimeSpan.FromSeconds(1));

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var span = TimeSpan.Get(context);
        if (span <= System.TimeSpan.Zero)
        {
            context.Complete();
            return ValueTask.CompletedTask;
        }
        context.CreateBookmark(new BookmarkRequest(BookmarkName) { ResumeAt = context.UtcNow + span });
        return ValueTask.CompletedTask;
    }
}

/// <summary>Waits until a moment in time. Durable like <see cref="Delay"/>.</summary>
[Activity("Elsa", "Scheduling", "Waits until a date and time (UTC unless an offset is given), then continues.", DisplayName = "Start At")]
public sealed class StartAt : Activity
{
    /// <summary>The bookmark name.</summary>
    public const string BookmarkName = "Elsa.StartAt";

    /// <summary>When to continue.</summary>
    [Input(Description = "When to continue, e.g. 2026-12-24T18:00:00Z.")]
    public Input<DateTimeOffset> DateTime { get; set; } = new(DateTimeOffset.MinValue);

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var at = DateTime.Get(context);
        if (at <= context.UtcNow) context.Complete();
        else context.CreateBookmark(new BookmarkRequest(BookmarkName) { ResumeAt = at });
        return ValueTask.CompletedTask;
    }
}

/// <summary>Starts the workflow on a cron schedule (one recurring job per published workflow, across all nodes).</summary>
[Activity("Elsa", "Scheduling", "Starts the workflow on a cron schedule, e.g. '0 8 * * 1-5' (08:00 UTC on weekdays).", Kind = ActivityKind.Trigger)]
public sealed class Cron : Activity, ITrigger
{
    /// <summary>The cron expression (5 fields, or 6 with seconds), evaluated in UTC.</summary>
    [Input(Description = "The cron expression in UTC: minute hour day month weekday, e.g. 0 8 * * 1-5.")]
    public Input<string> CronExpression { get; set; } = new("0 * * * *");

    /// <inheritdoc />
    public IEnumerable<string?> GetTriggerKeys(TriggerIndexContext context) => [context.Get(CronExpression)];

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        if (!context.IsTriggerOfWorkflow)
            throw new ActivityFaultException(FaultCodes.Configuration,
                "Cron can only start a workflow (put it first, with no inbound connection). Inside a workflow use Delay or Start At.", nonRetryable: true);
        context.Complete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Elsa's <c>Timer</c>. As the workflow's trigger (first activity, published) it starts the workflow every <see cref="Interval"/>,
/// once per occurrence across all nodes; occurrences are whole multiples of the interval since 1970-01-01 UTC. Inside a workflow it
/// waits for <see cref="Interval"/> like <see cref="Delay"/> (a durable timed bookmark).
/// </summary>
[Activity("Elsa", "Scheduling", "Trigger workflow execution at a specific interval. Inside a workflow, waits for the interval like Delay.", Kind = ActivityKind.Trigger)]
public sealed class Timer : Activity, ITrigger, IValidatesConfiguration
{
    /// <summary>Save-time check: a Timer that starts the workflow needs a literal interval of at least 1 second.</summary>
    public IEnumerable<string> ValidateConfiguration(ActivityValidationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!context.IsStartOfWorkflow) yield break;
        if (!context.TryGetLiteral(Interval, out var interval))
            yield return "Timer needs its Interval as a literal, e.g. 00:05:00 or 5m, to start the workflow.";
        else if (Problem(interval) is { } problem)
            yield return problem;
    }

    /// <summary>The bookmark name of a Timer waiting inside a workflow.</summary>
    public const string BookmarkName = "Elsa.Timer";

    /// <summary>The shortest interval a Timer trigger accepts.</summary>
    public static readonly System.TimeSpan MinimumInterval = System.TimeSpan.FromSeconds(1);

    /// <summary>The interval.</summary>
    [Input(Description = "How often to start the workflow (at least 1 s; whole seconds): 00:05:00, 30s, 5m, 1h.")]
    public Input<TimeSpan> Interval { get; set; } = new(System.TimeSpan.FromMinutes(1));

    /// <summary>The trigger key of an interval: its length in whole seconds, e.g. <c>300</c>.</summary>
    public static string KeyOf(System.TimeSpan interval) => ((long)interval.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The problem with an interval used as a trigger, or null when it is fine.</summary>
    public static string? Problem(System.TimeSpan? interval) => interval switch
    {
        null => "Timer needs an interval given as a literal, e.g. 00:05:00 or 5m.",
        { } i when i < MinimumInterval => $"Timer interval {i} is shorter than the minimum of 1 second. Use an interval of at least 00:00:01.",
        _ => null,
    };

    /// <inheritdoc />
    public IEnumerable<string?> GetTriggerKeys(TriggerIndexContext context)
    {
        // A bad interval gives no key (the scheduler skips it); the save-time validator reports it with Problem's message.
        var interval = context.Get(Interval);
        return [Problem(interval) is null ? KeyOf(interval) : null];
    }

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        if (context.IsTriggerOfWorkflow)
        {
            context.Complete();
            return ValueTask.CompletedTask;
        }
        var span = Interval.Get(context);
        if (span <= System.TimeSpan.Zero) context.Complete();
        else context.CreateBookmark(new BookmarkRequest(BookmarkName) { ResumeAt = context.UtcNow + span });
        return ValueTask.CompletedTask;
    }
}
