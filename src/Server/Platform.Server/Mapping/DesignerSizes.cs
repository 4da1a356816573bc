using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Engine.Descriptors;

namespace Platform.Server.Mapping;

/// <summary>
/// Gives activities with many output ports (e.g. "Recognize Intent: &lt;set&gt;", one port per intent) a node tall enough
/// for each port to be hit and its label read. The Studio spreads a node's outbound ports evenly along its right edge and
/// keeps a stored <c>metadata.designer.size</c> when it is larger than the size it measures, so the height is stored.
/// </summary>
public static class DesignerSizes
{
    /// <summary>Vertical room per outbound port, in pixels (the port circle is 10 px, its label 12 px).</summary>
    public const double PortSpacing = 26;

    /// <summary>Below this many ports the measured node is tall enough.</summary>
    public const int MinPortsToSize = 4;

    /// <summary>The height a node with <paramref name="ports"/> outbound ports needs (0 when the measured size does).</summary>
    public static double HeightFor(int ports) => ports < MinPortsToSize ? 0 : (ports + 1) * PortSpacing;

    /// <summary>Raises the stored height of every activity of <paramref name="root"/> that needs more room for its ports.</summary>
    public static void Apply(JsonObject? root, ActivityRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        if (root?["activities"] is not JsonArray activities) return;
        foreach (var a in activities.OfType<JsonObject>())
        {
            if (a["type"]?.GetValueKind() != JsonValueKind.String || registry.Find(a["type"]!.GetValue<string>()) is not { } descriptor) continue;
            var ports = descriptor.Outcomes.Count + (a["cases"] is JsonArray cases ? cases.Count : 0);
            var needed = HeightFor(ports);
            if (needed <= 0) continue;
            if (a["metadata"] is not JsonObject metadata) a["metadata"] = metadata = new JsonObject();
            if (metadata["designer"] is not JsonObject designer) metadata["designer"] = designer = new JsonObject();
            if (designer["size"] is not JsonObject size) designer["size"] = size = new JsonObject { ["width"] = 0 };
            var height = size["height"]?.GetValueKind() == JsonValueKind.Number ? size["height"]!.GetValue<double>() : 0;
            if (height < needed) size["height"] = needed;
            if (size["width"]?.GetValueKind() != JsonValueKind.Number) size["width"] = 0;
        }
    }
}
