using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Channels;

namespace Platform.Messaging;

/// <summary>JSON of <see cref="IncomingMessage"/> as stored in the inbox.</summary>
public static class MessageJson
{
    public static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
        o.Converters.Add(new JsonStringEnumConverter());
        o.Converters.Add(new ConversationIdConverter());
        return o;
    }

    public static string Serialize(IncomingMessage message) => JsonSerializer.Serialize(message, Options);

    public static IncomingMessage Deserialize(string json) =>
        JsonSerializer.Deserialize<IncomingMessage>(json, Options) ?? throw new JsonException("The inbox payload is empty.");

    private sealed class ConversationIdConverter : JsonConverter<ConversationId>
    {
        public override ConversationId Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            ConversationId.Parse(reader.GetString() ?? throw new JsonException("A conversation id is required."));

        public override void Write(Utf8JsonWriter writer, ConversationId value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}
