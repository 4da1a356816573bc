using System.Globalization;
using System.Text.Json;

namespace Platform.Activities.AI;

/// <summary>
/// What a <see cref="RecognizeIntent"/> remembers between asking for a missing entity and getting the answer: kept in the
/// instance properties (<c>platform.slots.{activityId}</c>) as JSON, so it survives the wait for the next message.
/// </summary>
internal sealed record PendingSlots
{
    public const string PropertyPrefix = "platform.slots.";

    /// <summary>The intent set.</summary>
    public required string Set { get; init; }

    /// <summary>The intent waiting for its entities.</summary>
    public required string Intent { get; init; }

    /// <summary>The intent's confidence when it was recognised.</summary>
    public double Confidence { get; init; }

    /// <summary>The entities found so far: name → (kind, text form), see <see cref="ToValues"/>.</summary>
    public Dictionary<string, StoredValue> Entities { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The entity asked for.</summary>
    public required string Slot { get; init; }

    /// <summary>How many times <see cref="Slot"/> has been asked for.</summary>
    public int Questions { get; init; } = 1;

    /// <summary>An entity value in a form that survives JSON: <c>number</c> (decimal), <c>datetime</c> (round-trip date) or <c>text</c>.</summary>
    public sealed record StoredValue(string Kind, string? Value);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string Key(ActivityExecutionContext context) => PropertyPrefix + context.Activity.Id;

    public static PendingSlots? Read(ActivityExecutionContext context)
    {
        if (!context.Properties.TryGetValue(Key(context), out var raw) || raw is null) return null;
        try
        {
            var json = raw switch
            {
                string s => s,
                JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
                _ => raw.ToString(),
            };
            return string.IsNullOrEmpty(json) ? null : JsonSerializer.Deserialize<PendingSlots>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Write(ActivityExecutionContext context) => context.Properties[Key(context)] = JsonSerializer.Serialize(this, Json);

    public static void Clear(ActivityExecutionContext context) => context.Properties.Remove(Key(context));

    public static Dictionary<string, StoredValue> FromValues(IReadOnlyDictionary<string, object?> values) =>
        values.ToDictionary(p => p.Key, p => p.Value switch
        {
            decimal d => new StoredValue("number", d.ToString(CultureInfo.InvariantCulture)),
            DateTimeOffset t => new StoredValue("datetime", t.ToString("O", CultureInfo.InvariantCulture)),
            IFormattable f => new StoredValue("text", f.ToString(null, CultureInfo.InvariantCulture)),
            _ => new StoredValue("text", p.Value?.ToString()),
        }, StringComparer.Ordinal);

    public Dictionary<string, object?> ToValues() =>
        Entities.ToDictionary(p => p.Key, p => p.Value switch
        {
            { Kind: "number", Value: { } v } when decimal.TryParse(v, NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => (object?)d,
            { Kind: "datetime", Value: { } v } when DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) => t,
            var other => other.Value,
        }, StringComparer.Ordinal);
}

/// <summary>Required entities of intents.</summary>
internal static class Slots
{
    /// <summary>The required entities of <paramref name="intent"/> not in <paramref name="entities"/>, in order.</summary>
    public static List<IntentSlot> Missing(IntentSet set, string intent, IReadOnlyDictionary<string, object?> entities) =>
        set.Intents.FirstOrDefault(i => string.Equals(i.Name, intent, StringComparison.Ordinal))?.Required
            .Where(s => !entities.TryGetValue(s.Entity, out var v) || v is null || v is string { Length: 0 }).ToList() ?? [];

    /// <summary>The canonical values of a list entity (offered as quick replies), or empty.</summary>
    public static List<string> Choices(IntentSet set, string entity) =>
        set.Entities.FirstOrDefault(e => string.Equals(e.Name, entity, StringComparison.Ordinal) && string.Equals(e.Kind, IntentEntityKinds.List, StringComparison.OrdinalIgnoreCase))
            ?.Values.Select(v => v.Value.Trim()).Where(v => v.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).ToList() ?? [];
}
