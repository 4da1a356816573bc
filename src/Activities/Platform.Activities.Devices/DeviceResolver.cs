using System.Text.RegularExpressions;

namespace Platform.Activities.Devices;

/// <summary>What <see cref="DeviceResolver.Resolve"/> found.</summary>
/// <param name="Device">The device, when exactly one matched.</param>
/// <param name="Candidates">The devices that matched equally well (several when ambiguous, none when unknown).</param>
public sealed record DeviceMatch(Device? Device, IReadOnlyList<Device> Candidates)
{
    /// <summary>True when several devices matched equally well.</summary>
    public bool IsAmbiguous => Device is null && Candidates.Count > 1;

    /// <summary>The devices to choose from when the match is ambiguous ("which one?"); empty when one device or none matched.</summary>
    public IReadOnlyList<Device> Choices => IsAmbiguous ? Candidates : [];
}

/// <summary>
/// Finds a device from an id, or from text as intent recognition yields it: a name or alias ("kitchen light"), a type
/// ("light") with an optional room ("kitchen"), or the room alone when it holds a single device.
/// </summary>
public static class DeviceResolver
{
    /// <summary>Resolves <paramref name="text"/> (id, name, alias or type) and <paramref name="room"/> against <paramref name="devices"/>.</summary>
    public static DeviceMatch Resolve(IReadOnlyList<Device> devices, string? text, string? room)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var t = Normalize(text);
        var r = Normalize(room);
        if (t.Length == 0 && r.Length == 0) return new DeviceMatch(null, []);
        if (!string.IsNullOrWhiteSpace(text) && devices.FirstOrDefault(d => string.Equals(d.Id, text.Trim(), StringComparison.OrdinalIgnoreCase)) is { } byId)
            return new DeviceMatch(byId, [byId]);

        var scored = new List<(Device Device, int Score)>();
        foreach (var d in devices)
        {
            var inRoom = r.Length == 0 || Normalize(d.Room) == r || Words(Normalize(d.Name)).Contains(r) || Normalize(d.Name).Contains(r, StringComparison.Ordinal);
            if (!inRoom) continue;
            var score = t.Length == 0 ? 1 : Score(d, t);
            if (score > 0) scored.Add((d, score));
        }
        if (scored.Count == 0) return new DeviceMatch(null, []);
        var best = scored.Max(s => s.Score);
        var top = scored.Where(s => s.Score == best).Select(s => s.Device).ToList();
        return top.Count == 1 ? new DeviceMatch(top[0], top) : new DeviceMatch(null, top);
    }

    private static int Score(Device d, string t)
    {
        var names = new[] { d.Name }.Concat(d.Aliases).Select(Normalize).Where(n => n.Length > 0).ToList();
        var room = Normalize(d.Room);
        var type = Normalize(d.Type);
        if (names.Contains(t)) return 4;
        if (room.Length > 0)
        {
            // "kitchen light", "light in the kitchen": room plus a name, an alias or the type.
            foreach (var n in names.Append(type))
                if (t == $"{room} {n}" || t == $"{n} in {room}" || t == $"{n} in the {room}") return 4;
        }
        if (type.Length > 0 && (t == type || Singular(t) == type)) return 3;
        var words = Words(t);
        if (names.Any(n => Words(n).Intersect(words).Count() == words.Count || Words(n).Select(Singular).Intersect(words.Select(Singular)).Count() == words.Count)) return 2;
        return 0;
    }

    private static HashSet<string> Words(string s) => s.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);

    private static string Singular(string s) => s.Length > 3 && s.EndsWith('s') && !s.EndsWith("ss", StringComparison.Ordinal) ? s[..^1] : s;

    /// <summary>Lower-case, single spaces, no leading "the", no punctuation.</summary>
    public static string Normalize(string? text)
    {
        var s = Regex.Replace((text ?? "").ToLowerInvariant(), "[^\\p{L}\\p{Nd}]+", " ").Trim();
        if (s.StartsWith("the ", StringComparison.Ordinal)) s = s[4..];
        if (s.StartsWith("my ", StringComparison.Ordinal)) s = s[3..];
        return s;
    }
}

/// <summary>The sentences devices' results are told with ("The kitchen light is on.").</summary>
public static class DeviceSentences
{
    /// <summary>"the kitchen light": the name with a lower-case first letter, unless it is an acronym.</summary>
    public static string Named(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        var name = device.Name.Trim();
        if (name.Length > 1 && char.IsUpper(name[0]) && !char.IsUpper(name[1])) name = char.ToLowerInvariant(name[0]) + name[1..];
        return "the " + name;
    }

    /// <summary>"The kitchen light"</summary>
    public static string Subject(Device device)
    {
        var n = Named(device);
        return char.ToUpperInvariant(n[0]) + n[1..];
    }

    /// <summary>A sentence about the state, e.g. "The kitchen light is on." or null when the state says nothing known.</summary>
    public static string? Describe(Device device, IReadOnlyDictionary<string, object?>? state)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (state is null || state.Count == 0) return null;
        var subject = Subject(device);
        var type = device.Type.ToLowerInvariant();
        if (Bool(state, "locked") is { } locked) return $"{subject} is {(locked ? "locked" : "unlocked")}.";
        if (type == DeviceTypes.Thermostat || device.Can(DeviceCapabilities.Temperature))
        {
            var target = Number(state, "target") ?? Number(state, "setpoint") ?? Number(state, "target_temperature");
            var current = Number(state, "temperature");
            if (target is not null)
                return current is not null
                    ? $"{subject} is set to {Format(target.Value)} °C; it is {Format(current.Value)} °C now."
                    : $"{subject} is set to {Format(target.Value)} °C.";
        }
        if (type == DeviceTypes.Sensor || device.Can(DeviceCapabilities.Sensor))
        {
            var parts = new List<string>();
            if (Number(state, "temperature") is { } temperature) parts.Add($"{Format(temperature)} °C");
            if (Number(state, "humidity") is { } humidity) parts.Add($"{Format(humidity)} % humidity");
            if (parts.Count > 0) return $"{subject} reads {string.Join(" and ", parts)}.";
        }
        var on = Bool(state, "on") ?? Bool(state, "state") ?? Bool(state, "power") ?? Bool(state, "value");
        var level = Number(state, "level") ?? Number(state, "brightness");
        if (on is true && level is not null && device.Can(DeviceCapabilities.Level)) return $"{subject} is on at {Format(level.Value)} %.";
        if (on is not null) return $"{subject} is {(on.Value ? "on" : "off")}.";
        if (level is not null) return $"{subject} is at {Format(level.Value)} %.";
        if (state.TryGetValue("value", out var v) && v is not null) return $"{subject} reports {v}.";
        return null;
    }

    internal static bool? Bool(IReadOnlyDictionary<string, object?> state, string key) =>
        state.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)) is { Key: not null } p ? DevicePayloads.AsBool(p.Value) : null;

    internal static double? Number(IReadOnlyDictionary<string, object?> state, string key) =>
        state.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)) is { Key: not null } p ? DevicePayloads.AsNumber(p.Value) : null;

    /// <summary>A number without needless decimals, invariant culture.</summary>
    public static string Format(double value) => value.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
}
