using System.Diagnostics.Metrics;
using Platform.Engine.Runtime;

namespace Platform.Packs;

/// <summary>Pack load metrics on the platform meter (docs/operations.md): <c>platform_pack_loads_total{pack, outcome}</c>.</summary>
internal static class PackTelemetry
{
    private static readonly Meter Meter = new(EngineTelemetry.MeterName);

    private static readonly Counter<long> Loads = Meter.CreateCounter<long>("pack_loads_total",
        description: "Activity pack loads on this node by pack id and outcome (loaded, failed).");

    internal static void RecordLoad(string packId, bool loaded) =>
        Loads.Add(1, new KeyValuePair<string, object?>("pack", packId), new KeyValuePair<string, object?>("outcome", loaded ? "loaded" : "failed"));
}
