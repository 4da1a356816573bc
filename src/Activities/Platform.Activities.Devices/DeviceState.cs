using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Activities.Devices;

/// <summary>The last known state of a device.</summary>
/// <param name="DeviceId">The device id.</param>
/// <param name="Values">The state as the device reported it (the JSON object without <c>correlationId</c>).</param>
/// <param name="UpdatedAt">When it was received.</param>
/// <param name="Retained">True when it came from the broker's retained message rather than a live report.</param>
public sealed record DeviceState(string DeviceId, IReadOnlyDictionary<string, object?> Values, DateTimeOffset UpdatedAt, bool Retained);

/// <summary>The in-memory cache of device states, filled from retained and live state messages and command answers.</summary>
public sealed class DeviceStateCache
{
    private readonly ConcurrentDictionary<string, DeviceState> _states = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The cached state of a device, or null.</summary>
    public DeviceState? Get(string deviceId) => _states.GetValueOrDefault(deviceId);

    /// <summary>Stores a state.</summary>
    public void Set(DeviceState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        _states[state.DeviceId] = state;
    }

    /// <summary>Forgets a device's state.</summary>
    public void Remove(string deviceId) => _states.TryRemove(deviceId, out _);
}

/// <summary>Parses and writes the JSON payloads of device topics.</summary>
public static class DevicePayloads
{
    /// <summary>The field that carries the correlation id in commands and answers.</summary>
    public const string CorrelationId = "correlationId";

    /// <summary>The field in an answer that says the device refused the command.</summary>
    public const string Error = "error";

    /// <summary>
    /// Reads a state payload: a JSON object becomes its fields; anything else (<c>ON</c>, <c>21.5</c>) becomes <c>{"value": …}</c>.
    /// Returns the correlation id separately (null when absent).
    /// </summary>
    public static (Dictionary<string, object?> Values, string? CorrelationId) ParseState(string payload)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(string.IsNullOrWhiteSpace(payload) ? "null" : payload); }
        catch (JsonException) { node = JsonValue.Create(payload.Trim()); }
        if (node is not JsonObject obj) return (new Dictionary<string, object?>(StringComparer.Ordinal) { ["value"] = ToPlain(node) }, null);
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        string? correlation = null;
        foreach (var (key, value) in obj)
        {
            if (string.Equals(key, CorrelationId, StringComparison.OrdinalIgnoreCase)) correlation = value?.ToString();
            else values[key] = ToPlain(value);
        }
        return (values, correlation);
    }

    /// <summary>Turns a JSON node into plain values: dictionaries, lists, strings, booleans, longs, doubles.</summary>
    public static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => ToPlain(p.Value), StringComparer.Ordinal),
        JsonArray a => a.Select(ToPlain).ToList(),
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        JsonValue v when v.TryGetValue<JsonElement>(out var e) => e.ValueKind switch
        {
            JsonValueKind.String => e.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when e.TryGetInt64(out var i) => i,
            JsonValueKind.Number => e.GetDouble(),
            JsonValueKind.Null => null,
            _ => e.GetRawText(),
        },
        _ => node.ToJsonString(),
    };

    /// <summary>A value as a number, when it is one (or a numeric string).</summary>
    public static double? AsNumber(object? value) => value switch
    {
        null => null,
        double d => d,
        float f => f,
        long l => l,
        int i => i,
        decimal m => (double)m,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        JsonElement { ValueKind: JsonValueKind.Number } e => e.GetDouble(),
        JsonElement { ValueKind: JsonValueKind.String } e when double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => null,
    };

    /// <summary>A value as a boolean, understanding <c>ON</c>/<c>OFF</c>, <c>true</c>/<c>false</c>, 1/0.</summary>
    public static bool? AsBool(object? value) => value switch
    {
        bool b => b,
        long l => l != 0,
        int i => i != 0,
        double d => d != 0,
        string s => s.Trim().ToLowerInvariant() switch
        {
            "on" or "true" or "1" or "yes" or "locked" => true,
            "off" or "false" or "0" or "no" or "unlocked" => false,
            _ => null,
        },
        JsonElement { ValueKind: JsonValueKind.True } => true,
        JsonElement { ValueKind: JsonValueKind.False } => false,
        _ => null,
    };
}
