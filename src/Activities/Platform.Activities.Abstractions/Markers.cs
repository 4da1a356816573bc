namespace Platform.Activities;

/// <summary>Marks the activity where a flowchart starts when it has no trigger (Elsa.Start).</summary>
public interface IStartActivity;

/// <summary>Marks an activity that ends the workflow when it completes (Elsa.End): remaining work and bookmarks are dropped.</summary>
public interface ITerminalActivity;

/// <summary>How a join waits for its inbound connections.</summary>
public enum JoinMode
{
    /// <summary>Runs once every inbound connection has arrived.</summary>
    WaitAll,
    /// <summary>Runs on the first arrival; later arrivals of the same round are ignored.</summary>
    WaitAny,
}

/// <summary>An activity that merges branches. The engine tracks arrivals and runs it according to <see cref="GetMode"/>.</summary>
public interface IJoinActivity
{
    /// <summary>The join mode for this execution (literal input evaluated by the engine).</summary>
    JoinMode GetMode(ActivityExecutionContext context);
}
