using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Platform.Persistence.EFCore.Serialization;

/// <summary>
/// The one JSON format of the database: instance state, journal dictionaries and the JSON parts of definitions.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Property names are camelCase (like the HTTP API); reading is case-insensitive, so older rows stay readable.</item>
/// <item>Dictionary keys are written exactly as given (variable and output names must not change).</item>
/// <item>Enums are written as names; nulls are written (a missing required member would fail to read back).</item>
/// <item>Non-ASCII text is written as is (not \u-escaped): this JSON never goes into HTML.</item>
/// <item><c>object?</c> values read back as <see cref="JsonElement"/>; the engine converts them when it uses them.</item>
/// </list>
/// Changing these options changes the stored format: add a migration that rewrites the rows if you ever need to.
/// </remarks>
public static class PlatformJson
{
    /// <summary>The shared, read-only options.</summary>
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DictionaryKeyPolicy = null,
            PropertyNameCaseInsensitive = true,
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            WriteIndented = false,
            Converters = { new JsonStringEnumConverter() },
        };
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Serialises a value with <see cref="Options"/>.</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Deserialises a value written by <see cref="Serialize{T}"/>; a JSON <c>null</c> gives <paramref name="fallback"/>.</summary>
    public static T Deserialize<T>(string json, Func<T> fallback) => JsonSerializer.Deserialize<T>(json, Options) ?? fallback();

    /// <summary>Writes a JSON node as compact text (property order, numbers and strings are kept exactly).</summary>
    public static string Write(JsonNode node) => node.ToJsonString(Options);

    /// <summary>Reads a stored JSON object.</summary>
    public static JsonObject ReadObject(string json) => Parse(json) switch
    {
        null => new JsonObject(),
        JsonObject o => o,
        var other => throw new JsonException($"Expected a stored JSON object but found {other.GetValueKind()}."),
    };

    /// <summary>Reads a stored JSON array.</summary>
    public static JsonArray ReadArray(string json) => Parse(json) switch
    {
        null => new JsonArray(),
        JsonArray a => a,
        var other => throw new JsonException($"Expected a stored JSON array but found {other.GetValueKind()}."),
    };

    private static JsonNode? Parse(string json) => JsonNode.Parse(json);
}
