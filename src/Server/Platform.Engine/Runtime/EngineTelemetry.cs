using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Platform.Engine.Runtime;

/// <summary>
/// The engine's metrics and trace spans (System.Diagnostics only: the host decides how to export them). Every platform
/// library names its <see cref="Meter"/> <see cref="MeterName"/>, so one filter in the host takes them all; the names and
/// labels are listed in docs/operations.md.
/// </summary>
public static class EngineTelemetry
{
    /// <summary>The meter name shared by the platform's libraries.</summary>
    public const string MeterName = "platform";

    /// <summary>The engine's trace source: a span per workflow burst and one per activity.</summary>
    public const string ActivitySourceName = "Platform.Engine";

    internal static readonly ActivitySource Source = new(ActivitySourceName);
    private static readonly Meter Meter = new(MeterName);

    /// <summary>Bursts by definition and the sub-status they ended in (Finished, Suspended, Faulted).</summary>
    internal static readonly Counter<long> WorkflowRuns = Meter.CreateCounter<long>("workflow_runs_total",
        description: "Workflow bursts by definition and the status they ended in.");

    /// <summary>How long each activity took (inputs and execution), by activity type.</summary>
    internal static readonly Histogram<double> ActivityDuration = Meter.CreateHistogram<double>("activity_duration_seconds", "s",
        "Activity execution time (inputs evaluated and executed) by activity type.");

    /// <summary>Incidents (faults not retried) by activity type.</summary>
    internal static readonly Counter<long> Incidents = Meter.CreateCounter<long>("incidents_total",
        description: "Incidents recorded on workflow instances, by activity type.");

    internal static void RecordRun(string definitionId, string status) =>
        WorkflowRuns.Add(1, new KeyValuePair<string, object?>("definition", definitionId), new KeyValuePair<string, object?>("status", status));

    internal static void RecordActivity(string activityType, long startTimestamp) =>
        ActivityDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, new KeyValuePair<string, object?>("activity_type", activityType));

    internal static void RecordIncident(string activityType) =>
        Incidents.Add(1, new KeyValuePair<string, object?>("activity_type", activityType.Length == 0 ? "workflow" : activityType));
}
