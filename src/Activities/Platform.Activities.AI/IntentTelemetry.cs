using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Platform.Activities.AI;

/// <summary>Intent recognition metrics (exported by the host; see docs/operations.md).</summary>
internal static class IntentTelemetry
{
    private static readonly Meter Meter = new("platform");

    private static readonly Histogram<double> Latency = Meter.CreateHistogram<double>("intent_recognition_seconds", "s",
        "Intent recognition time (entities and classification) by intent set and result (in_scope, out_of_scope).");

    private static readonly Counter<long> Classifications = Meter.CreateCounter<long>("intent_classifications_total", null,
        "Texts classified by intent set: one per message, plus the halves tried when a message may hold two requests.");

    public static void CountClassifications(string intentSet, int count) =>
        Classifications.Add(count, new KeyValuePair<string, object?>("intent_set", intentSet));

    public static void Record(string intentSet, long startTimestamp, bool outOfScope) =>
        Latency.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
            new KeyValuePair<string, object?>("intent_set", intentSet), new KeyValuePair<string, object?>("result", outOfScope ? "out_of_scope" : "in_scope"));
}
