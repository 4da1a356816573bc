using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Engine.Expressions;

/// <summary>Converts values between JSON, text and CLR types the way designers expect ("5" → 5, "00:00:02" → 2 s).</summary>
public static class ValueConverter
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    /// <summary>Turns JSON elements/nodes into plain CLR values (string, long, double, bool, Dictionary, List); leaves others alone.</summary>
    public static object? Normalize(object? value) => value switch
    {
        JsonElement e => FromElement(e),
        JsonNode n => FromElement(JsonSerializer.SerializeToElement(n)),
        IDictionary<string, object?> d when d.Values.Any(v => v is JsonElement or JsonNode) =>
            d.ToDictionary(p => p.Key, p => Normalize(p.Value)),
        _ => value,
    };

    public static Dictionary<string, object?> NormalizeDictionary(IDictionary<string, object?>? d) =>
        d is null ? new() : d.ToDictionary(p => p.Key, p => Normalize(p.Value));

    public static object? FromElement(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => FromElement(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().Select(FromElement).ToList(),
        _ => null,
    };

    public static T? Convert<T>(object? value) => (T?)Convert(value, typeof(T));

    /// <summary>Converts a value to <paramref name="target"/>; throws <see cref="FormatException"/> with a readable message.</summary>
    public static object? Convert(object? value, Type target)
    {
        value = Normalize(value);
        var underlying = Nullable.GetUnderlyingType(target);
        if (value is null) return target.IsValueType && underlying is null ? Activator.CreateInstance(target) : null;
        if (target == typeof(object) || target.IsInstanceOfType(value)) return value;
        var t = underlying ?? target;

        if (value is string s)
        {
            if (s.Length == 0 && t != typeof(string)) return underlying is not null || !t.IsValueType ? null : Activator.CreateInstance(t);
            if (t.IsEnum) return Enum.Parse(t, s, ignoreCase: true);
            if (t == typeof(TimeSpan)) return ParseTimeSpan(s);
            if (t == typeof(Guid)) return Guid.Parse(s);
            if (t == typeof(DateTimeOffset)) return DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            if (t == typeof(DateTime)) return DateTime.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
            if (t == typeof(Uri)) return new Uri(s, UriKind.RelativeOrAbsolute);
            if (t == typeof(bool)) return bool.Parse(s.Trim());
            if (t.IsPrimitive || t == typeof(decimal)) return System.Convert.ChangeType(s.Trim(), t, CultureInfo.InvariantCulture);
            if (t == typeof(string[]) || t == typeof(List<string>) || t == typeof(ICollection<string>) || t == typeof(IReadOnlyList<string>) || t == typeof(IEnumerable<string>))
            {
                var trimmed = s.TrimStart();
                var items = trimmed.StartsWith('[') ? JsonSerializer.Deserialize<string[]>(s, JsonOptions) ?? []
                    : s.Split([',', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return t == typeof(string[]) ? items : items.ToList();
            }
            return JsonSerializer.Deserialize(s, t, JsonOptions);
        }

        if (t == typeof(string))
            return value is IFormattable f ? f.ToString(null, CultureInfo.InvariantCulture)
                : value is IEnumerable and not string || value is IDictionary ? JsonSerializer.Serialize(value, JsonOptions)
                : value.ToString();
        if (t.IsEnum) return Enum.ToObject(t, System.Convert.ToInt64(value, CultureInfo.InvariantCulture));
        if (t == typeof(TimeSpan) && value is IConvertible) return TimeSpan.FromMilliseconds(System.Convert.ToDouble(value, CultureInfo.InvariantCulture));
        if ((t.IsPrimitive || t == typeof(decimal)) && value is IConvertible) return System.Convert.ChangeType(value, t, CultureInfo.InvariantCulture);
        var json = JsonSerializer.Serialize(value, JsonOptions);
        return JsonSerializer.Deserialize(json, t, JsonOptions);
    }

    /// <summary>Parses "00:00:05", "5s", "250ms", "2m", "1h", "1d" or a number of seconds.</summary>
    public static TimeSpan ParseTimeSpan(string s)
    {
        s = s.Trim();
        if (TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var ts) && s.Contains(':')) return ts;
        static double N(string x) => double.Parse(x, CultureInfo.InvariantCulture);
        if (s.EndsWith("ms", StringComparison.OrdinalIgnoreCase)) return TimeSpan.FromMilliseconds(N(s[..^2]));
        if (s.EndsWith('s')) return TimeSpan.FromSeconds(N(s[..^1]));
        if (s.EndsWith('m')) return TimeSpan.FromMinutes(N(s[..^1]));
        if (s.EndsWith('h')) return TimeSpan.FromHours(N(s[..^1]));
        if (s.EndsWith('d')) return TimeSpan.FromDays(N(s[..^1]));
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var secs)) return TimeSpan.FromSeconds(secs);
        throw new FormatException($"'{s}' is not a duration. Use hh:mm:ss (00:00:05) or a number with a unit: 250ms, 5s, 2m, 1h, 1d.");
    }
}
