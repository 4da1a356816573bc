using System.Text.Json;

namespace Platform.Activities.Devices;

/// <summary>Devices as plain values for activity outputs (camelCase dictionaries, as workflow expressions see them).</summary>
public static class DeviceJson
{
    /// <summary>The device as a dictionary: id, name, aliases, room, type, capabilities, highRisk, transport…</summary>
    public static Dictionary<string, object?>? ToPlain(Device? device)
    {
        if (device is null) return null;
        var node = JsonSerializer.SerializeToNode(device with { Capabilities = device.EffectiveCapabilities }, JsonFileDeviceStore.Json);
        return DevicePayloads.ToPlain(node) as Dictionary<string, object?>;
    }
}
