using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Platform.Activities.Devices;

/// <summary>How the platform reaches a device.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeviceTransportKind>))]
public enum DeviceTransportKind
{
    /// <summary>Commands go to an MQTT command topic; the device answers and reports on its state topic.</summary>
    Mqtt,
    /// <summary>Commands are POSTed as JSON to an HTTP endpoint, which answers with the new state.</summary>
    Http,
}

/// <summary>A device's transport: MQTT topics or an HTTP endpoint.</summary>
public sealed record DeviceTransport
{
    /// <summary>MQTT (default) or HTTP.</summary>
    public DeviceTransportKind Kind { get; init; } = DeviceTransportKind.Mqtt;

    /// <summary>The MQTT topic commands are published to (default <c>devices/{id}/set</c>).</summary>
    public string? CommandTopic { get; init; }

    /// <summary>The MQTT topic the device publishes its state to, retained (default <c>devices/{id}/state</c>).</summary>
    public string? StateTopic { get; init; }

    /// <summary>The HTTP endpoint commands are POSTed to (HTTP transport only).</summary>
    public string? Url { get; init; }
}

/// <summary>A device in the registry.</summary>
public sealed record Device
{
    /// <summary>The id (letters, digits, '.', '_' and '-'), e.g. <c>kitchen-light</c>.</summary>
    public required string Id { get; init; }

    /// <summary>The name people use, e.g. "Kitchen light".</summary>
    public required string Name { get; init; }

    /// <summary>Other names, e.g. "ceiling lamp".</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];

    /// <summary>The room, e.g. "kitchen".</summary>
    public string? Room { get; init; }

    /// <summary>The type (see <see cref="DeviceTypes"/>): light, switch, dimmer, thermostat, lock, sensor…</summary>
    public string Type { get; init; } = DeviceTypes.Switch;

    /// <summary>What it can do (see <see cref="DeviceCapabilities"/>). Empty means the type's defaults.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = [];

    /// <summary>When true, commands need confirmation and a permitted user.</summary>
    public bool HighRisk { get; init; }

    /// <summary>On a high-risk device, the commands that are high-risk; empty means all of them.</summary>
    public IReadOnlyList<string> HighRiskCommands { get; init; } = [];

    /// <summary>The user ids allowed to run high-risk commands. Empty means nobody.</summary>
    public IReadOnlyList<string> PermittedUsers { get; init; } = [];

    /// <summary>How the device is reached.</summary>
    public DeviceTransport Transport { get; init; } = new();

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When it was last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>The MQTT command topic in effect.</summary>
    [JsonIgnore] public string CommandTopic => string.IsNullOrWhiteSpace(Transport.CommandTopic) ? $"devices/{Id}/set" : Transport.CommandTopic;

    /// <summary>The MQTT state topic in effect.</summary>
    [JsonIgnore] public string StateTopic => string.IsNullOrWhiteSpace(Transport.StateTopic) ? $"devices/{Id}/state" : Transport.StateTopic;

    /// <summary>The capabilities in effect: the configured ones, or the type's defaults.</summary>
    [JsonIgnore] public IReadOnlyList<string> EffectiveCapabilities => Capabilities.Count > 0 ? Capabilities : DeviceTypes.DefaultCapabilities(Type);

    /// <summary>True when the device has the capability.</summary>
    public bool Can(string capability) => EffectiveCapabilities.Contains(capability, StringComparer.OrdinalIgnoreCase);

    /// <summary>True when running <paramref name="command"/> needs confirmation and a permitted user.</summary>
    public bool IsHighRisk(string command) =>
        HighRisk && (HighRiskCommands.Count == 0 || HighRiskCommands.Contains(command, StringComparer.OrdinalIgnoreCase));

    /// <summary>True when <paramref name="userId"/> may run high-risk commands.</summary>
    public bool Permits(string? userId) =>
        !string.IsNullOrWhiteSpace(userId) && PermittedUsers.Contains(userId.Trim(), StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="id"/> is a valid device id.</summary>
    public static bool IsValidId(string? id) => id is not null && IdPattern().IsMatch(id) && !ReservedIds.Contains(id, StringComparer.OrdinalIgnoreCase);

    /// <summary>Ids that clash with API routes.</summary>
    public static readonly IReadOnlyList<string> ReservedIds = ["audit"];

    private static Regex IdPattern() => new("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", RegexOptions.CultureInvariant);
}

/// <summary>Known device types and their default capabilities.</summary>
public static class DeviceTypes
{
    /// <summary>A light that switches on and off.</summary>
    public const string Light = "light";
    /// <summary>A switch or plug.</summary>
    public const string Switch = "switch";
    /// <summary>A dimmable light.</summary>
    public const string Dimmer = "dimmer";
    /// <summary>A thermostat with a target temperature.</summary>
    public const string Thermostat = "thermostat";
    /// <summary>A door lock.</summary>
    public const string Lock = "lock";
    /// <summary>A sensor that only reports.</summary>
    public const string Sensor = "sensor";

    /// <summary>The known types.</summary>
    public static readonly IReadOnlyList<string> All = [Light, Switch, Dimmer, Thermostat, Lock, Sensor];

    /// <summary>The capabilities a device of <paramref name="type"/> has when none are configured.</summary>
    public static IReadOnlyList<string> DefaultCapabilities(string? type) => type?.Trim().ToLowerInvariant() switch
    {
        Light or Switch => [DeviceCapabilities.OnOff],
        Dimmer => [DeviceCapabilities.OnOff, DeviceCapabilities.Level],
        Thermostat => [DeviceCapabilities.Temperature],
        Lock => [DeviceCapabilities.Lock],
        Sensor => [DeviceCapabilities.Sensor],
        _ => [],
    };
}

/// <summary>Capability names.</summary>
public static class DeviceCapabilities
{
    /// <summary>on, off, toggle.</summary>
    public const string OnOff = "on_off";
    /// <summary>set_level 0-100 (%).</summary>
    public const string Level = "level";
    /// <summary>set_temperature (°C).</summary>
    public const string Temperature = "temperature";
    /// <summary>lock, unlock.</summary>
    public const string Lock = "lock";
    /// <summary>Reports readings; accepts no commands.</summary>
    public const string Sensor = "sensor";
}

/// <summary>Command names, their aliases and the capability each needs.</summary>
public static class DeviceCommands
{
    /// <summary>Switch on.</summary>
    public const string On = "on";
    /// <summary>Switch off.</summary>
    public const string Off = "off";
    /// <summary>Switch over.</summary>
    public const string Toggle = "toggle";
    /// <summary>Set the level (Value 0-100).</summary>
    public const string SetLevel = "set_level";
    /// <summary>Set the target temperature (Value in °C).</summary>
    public const string SetTemperature = "set_temperature";
    /// <summary>Lock.</summary>
    public const string Lock = "lock";
    /// <summary>Unlock.</summary>
    public const string Unlock = "unlock";

    /// <summary>The built-in commands and the capability each needs.</summary>
    public static readonly IReadOnlyDictionary<string, string> Capability = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [On] = DeviceCapabilities.OnOff, [Off] = DeviceCapabilities.OnOff, [Toggle] = DeviceCapabilities.OnOff,
        [SetLevel] = DeviceCapabilities.Level, [SetTemperature] = DeviceCapabilities.Temperature,
        [Lock] = DeviceCapabilities.Lock, [Unlock] = DeviceCapabilities.Lock,
    };

    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["turn_on"] = On, ["switch_on"] = On, ["power_on"] = On, ["turn_off"] = Off, ["switch_off"] = Off, ["power_off"] = Off,
        ["level"] = SetLevel, ["dim"] = SetLevel, ["brightness"] = SetLevel, ["set_brightness"] = SetLevel,
        ["temperature"] = SetTemperature, ["set_temp"] = SetTemperature, ["set_target_temperature"] = SetTemperature,
    };

    /// <summary>Lower-cases, turns spaces and dashes into '_' and maps aliases ("turn on" → "on").</summary>
    public static string Normalize(string? command)
    {
        var text = Regex.Replace((command ?? "").Trim().ToLowerInvariant(), "[\\s-]+", "_");
        return Aliases.GetValueOrDefault(text, text);
    }
}
