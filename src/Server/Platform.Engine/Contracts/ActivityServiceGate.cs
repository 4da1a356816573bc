using Platform.Activities;

namespace Platform.Engine.Contracts;

/// <summary>
/// Decides which services an activity gets from its context (<see cref="ActivityExecutionContext.GetService"/>). The packs
/// module registers one that hands activities loaded from a pack only what the pack's manifest permits (an HttpClient limited
/// to its declared hosts, its declared secrets, data sources and MQTT topics). Built-in activities are not gated.
/// </summary>
public interface IActivityServiceGate
{
    /// <summary>True when the gate decides for this activity and type; <paramref name="service"/> is then what the activity gets
    /// (null for none). False to fall through to the host's service provider.</summary>
    bool TryGetService(Activity activity, Type serviceType, IServiceProvider services, out object? service);
}
