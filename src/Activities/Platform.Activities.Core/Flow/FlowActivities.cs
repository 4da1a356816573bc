using Platform.Activities;

namespace Platform.Activities.Core.Flow;

/// <summary>Where a flowchart starts when no trigger starts it.</summary>
[Activity("Elsa", "Flow", "The start of the workflow.")]
public sealed class Start : Activity, IStartActivity
{
    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context) => ValueTask.CompletedTask;
}

/// <summary>Ends the workflow: pending branches and waits are dropped.</summary>
[Activity("Elsa", "Flow", "Ends the workflow.")]
[FlowNode]
public sealed class End : Activity, ITerminalActivity
{
    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        context.Complete();
        return ValueTask.CompletedTask;
    }
}

/// <summary>If/Decision: takes the True or the False port.</summary>
[Activity("Elsa", "Flow", "Takes the True or the False branch depending on a condition.", DisplayName = "Decision")]
[FlowNode("True", "False")]
public sealed class FlowDecision : Activity
{
    /// <summary>The condition, usually a JavaScript expression such as <c>variables.count &gt; 3</c>.</summary>
    [Input(Description = "The condition to test, e.g. JavaScript: variables.count > 3", DefaultSyntax = "JavaScript")]
    public Input<bool> Condition { get; set; } = new(false);

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        context.Complete(Condition.Get(context) ? "True" : "False");
        return ValueTask.CompletedTask;
    }
}

/// <summary>A case of a <see cref="FlowSwitch"/>.</summary>
public sealed class SwitchCase
{
    /// <summary>The case's label, which is also its port name.</summary>
    public string Label { get; set; } = "";

    /// <summary>The condition of the case.</summary>
    public Expression? Condition { get; set; }
}

/// <summary>How a switch picks its cases.</summary>
public enum SwitchMode
{
    /// <summary>Only the first matching case.</summary>
    MatchFirst,
    /// <summary>Every matching case.</summary>
    MatchAny,
}

/// <summary>Switch: takes the port of the first (or every) case whose condition holds, else Default.</summary>
[Activity("Elsa", "Flow", "Takes the branch of the case whose condition holds, or Default.", DisplayName = "Switch")]
public sealed class FlowSwitch : Activity
{
    /// <summary>The cases; each case is a port.</summary>
    [Input(Description = "The cases; each case becomes a port.", UIHint = UIHints.FlowSwitchEditor)]
    public List<SwitchCase> Cases { get; set; } = [];

    /// <summary>Match the first case only, or every matching case.</summary>
    [Input(Description = "MatchFirst takes the first matching case; MatchAny takes all.", Options = ["MatchFirst", "MatchAny"])]
    public Input<SwitchMode> Mode { get; set; } = new(SwitchMode.MatchFirst);

    /// <inheritdoc />
    public override IReadOnlyList<string> GetOutcomes() => [.. Cases.Select(c => c.Label).Where(l => l.Length > 0), "Default"];

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var matched = new List<string>();
        foreach (var c in Cases)
        {
            if (c.Condition is null) continue;
            var value = await context.EvaluateAsync(c.Condition, typeof(bool));
            if (value is true)
            {
                matched.Add(c.Label);
                if (Mode.Get(context) == SwitchMode.MatchFirst) break;
            }
        }
        context.Complete(matched.Count > 0 ? [.. matched] : ["Default"]);
    }
}

/// <summary>Fork: continues on every branch at once.</summary>
[Activity("Elsa", "Flow", "Runs several branches in parallel.", DisplayName = "Fork")]
public sealed class FlowFork : Activity
{
    /// <summary>The branch names; each is a port.</summary>
    [Input(Description = "The branch names; each becomes a port.", UIHint = UIHints.DynamicOutcomes)]
    public Input<string[]> Branches { get; set; } = new(["Branch 1", "Branch 2"]);

    /// <inheritdoc />
    public override IReadOnlyList<string> GetOutcomes() => Branches.Expression.Value switch
    {
        string[] a => a,
        IEnumerable<object?> list => [.. list.Select(o => o?.ToString() ?? "").Where(s => s.Length > 0)],
        string s when s.TrimStart().StartsWith('[') => System.Text.Json.JsonSerializer.Deserialize<string[]>(s) ?? [],
        string s => s.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        _ => ["Branch 1", "Branch 2"],
    };

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        context.Complete(Branches.Get(context) ?? []);
        return ValueTask.CompletedTask;
    }
}

/// <summary>Join: merges branches, waiting for all or for any.</summary>
[Activity("Elsa", "Flow", "Merges branches: waits for all of them, or continues on the first.", DisplayName = "Join")]
public sealed class FlowJoin : Activity, IJoinActivity
{
    /// <summary>WaitAll or WaitAny.</summary>
    [Input(Description = "WaitAll continues when every inbound branch has arrived; WaitAny on the first.", Options = ["WaitAll", "WaitAny"])]
    public Input<JoinMode> Mode { get; set; } = new(JoinMode.WaitAll);

    /// <inheritdoc />
    public JoinMode GetMode(ActivityExecutionContext context) => Mode.Get(context);

    /// <inheritdoc />
    protected override ValueTask ExecuteAsync(ActivityExecutionContext context) => ValueTask.CompletedTask;
}
