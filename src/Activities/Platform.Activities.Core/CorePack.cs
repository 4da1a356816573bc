using Platform.Activities;

namespace Platform.Activities.Core;

/// <summary>The built-in activities: flow control, variables, logging, timers, HTTP and sub-workflows.</summary>
public sealed class CorePack : IActivityPack
{
    /// <inheritdoc />
    public string Name => "Core";
}
