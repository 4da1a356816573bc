using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.PackHost;

/// <summary>
/// One frame between the server and a pack host process. On the wire: a 4-byte little-endian length, then the message as
/// UTF-8 JSON. The server writes to the host's stdin, the host answers on its stdout (its <c>Console.Out</c> is sent to
/// stderr, so a pack's console output cannot break the channel).
/// </summary>
/// <remarks>
/// Kinds (<see cref="T"/>): server → host <c>load</c>, <c>call</c>, <c>cancel</c>, <c>reply</c>; host → server <c>ready</c>,
/// <c>done</c>, <c>svc</c> (a service the activity asked for, answered by <c>reply</c> with the same <see cref="Id"/>).
/// Values travel as JSON (objects arrive as <see cref="JsonElement"/>).
/// </remarks>
public sealed class HostMessage
{
    /// <summary>The kind of frame.</summary>
    public string T { get; set; } = "";

    /// <summary>The call id (<c>call</c>, <c>cancel</c>, <c>done</c>) or the service request id (<c>svc</c>, <c>reply</c>).</summary>
    public long Id { get; set; }

    /// <summary><c>svc</c>: the call that asks.</summary>
    public long Call { get; set; }

    /// <summary><c>load</c>: the pack id.</summary>
    public string? PackId { get; set; }

    /// <summary><c>load</c>: the pack's assemblies, simple name → base64 image.</summary>
    public Dictionary<string, string>? Assemblies { get; set; }

    /// <summary><c>load</c>: the declared network hosts (pack.json <c>permissions.network</c>).</summary>
    public List<string>? Network { get; set; }

    /// <summary><c>call</c>: the CLR type of the activity; <c>svc</c>: the service kind (<c>secret</c>, <c>variable</c>, <c>evaluate</c>, <c>publish</c>, <c>outbox</c>).</summary>
    public string? Type { get; set; }

    /// <summary><c>call</c>: the activity's id, node id, name, type name and version; its custom properties are not sent.</summary>
    public string? ActivityId { get; set; }

    /// <inheritdoc cref="ActivityId"/>
    public string? NodeId { get; set; }

    /// <inheritdoc cref="ActivityId"/>
    public string? Name { get; set; }

    /// <inheritdoc cref="ActivityId"/>
    public string? ActivityType { get; set; }

    /// <inheritdoc cref="ActivityId"/>
    public int Version { get; set; }

    /// <summary><c>call</c>: the evaluated inputs by property name.</summary>
    public Dictionary<string, object?>? Inputs { get; set; }

    /// <summary><c>call</c>: the execution's ids.</summary>
    public string? WorkflowInstanceId { get; set; }

    /// <inheritdoc cref="WorkflowInstanceId"/>
    public string? DefinitionId { get; set; }

    /// <inheritdoc cref="WorkflowInstanceId"/>
    public string? ActivityInstanceId { get; set; }

    /// <summary><c>call</c>: the correlation id; <c>done</c>: the new one when the activity changed it (<see cref="CorrelationChanged"/>).</summary>
    public string? CorrelationId { get; set; }

    /// <summary><c>done</c>: true when the activity set the correlation id.</summary>
    public bool CorrelationChanged { get; set; }

    /// <summary><c>call</c>: true when the activity is the trigger that started the workflow.</summary>
    public bool IsTrigger { get; set; }

    /// <summary><c>call</c>: the server's clock at the call.</summary>
    public DateTimeOffset UtcNow { get; set; }

    /// <summary><c>call</c>: the workflow input.</summary>
    public Dictionary<string, object?>? WorkflowInput { get; set; }

    /// <summary><c>call</c>: the instance's property bag; <c>done</c>: the bag after the call.</summary>
    public Dictionary<string, object?>? Properties { get; set; }

    /// <summary><c>done</c>: the outcomes the activity completed with (none: <c>Done</c>).</summary>
    public List<string>? Outcomes { get; set; }

    /// <summary><c>done</c>: the outputs set, by property name.</summary>
    public Dictionary<string, object?>? Outputs { get; set; }

    /// <summary><c>done</c>: the variables set, in order.</summary>
    public List<KeyValuePair<string, object?>>? Variables { get; set; }

    /// <summary><c>done</c>: the workflow outputs set.</summary>
    public Dictionary<string, object?>? WorkflowOutput { get; set; }

    /// <summary><c>done</c>: the journal data added.</summary>
    public Dictionary<string, object?>? Journal { get; set; }

    /// <summary><c>done</c>: what the activity logged.</summary>
    public List<HostLog>? Logs { get; set; }

    /// <summary><c>done</c>, <c>ready</c>, <c>reply</c>: the failure, if any.</summary>
    public HostFault? Fault { get; set; }

    /// <summary><c>ready</c>, <c>done</c>: the host's processor time so far, in milliseconds.</summary>
    public double CpuMs { get; set; }

    /// <summary><c>svc</c>: the argument (a secret or variable name, a topic, an expression's value); <c>reply</c>: the answer.</summary>
    public object? Value { get; set; }

    /// <summary><c>svc</c>: a second argument (an expression type, a payload in base64, an outbox channel).</summary>
    public string? Text { get; set; }

    /// <summary><c>svc</c>: a third argument (retain for publish, the conversation key for outbox).</summary>
    public string? Extra { get; set; }
}

/// <summary>A line an activity logged in the host.</summary>
/// <param name="Level">The <c>Microsoft.Extensions.Logging.LogLevel</c> as a number.</param>
/// <param name="Message">The formatted message.</param>
public sealed record HostLog(int Level, string Message);

/// <summary>A failure in the host.</summary>
public sealed class HostFault
{
    /// <summary>The fault code (<c>Platform.Activities.FaultCodes</c> or the pack's own).</summary>
    public string Code { get; set; } = "";

    /// <summary>What went wrong and how to fix it.</summary>
    public string Message { get; set; } = "";

    /// <summary>True when retrying cannot help.</summary>
    public bool NonRetryable { get; set; }

    /// <summary>The exception type, for unexpected exceptions.</summary>
    public string? ExceptionType { get; set; }

    /// <summary>True when the host must not be used again (it ran out of memory): the server stops it.</summary>
    public bool Fatal { get; set; }

    /// <summary>True when the call ended because it was cancelled.</summary>
    public bool Canceled { get; set; }
}

/// <summary>Reads and writes <see cref="HostMessage"/> frames.</summary>
public static class HostFrames
{
    /// <summary>The largest frame accepted (the load frame carries the pack's assemblies).</summary>
    public const int MaxFrame = 256 * 1024 * 1024;

    /// <summary>The JSON options of the channel.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
        NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes one frame and flushes. Callers serialise writes (one writer at a time).</summary>
    public static async Task WriteAsync(Stream stream, HostMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var body = JsonSerializer.SerializeToUtf8Bytes(message, Json);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        await stream.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads one frame; null at the end of the stream.</summary>
    /// <exception cref="InvalidDataException">The frame is too large or not a message.</exception>
    public static async Task<HostMessage?> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new byte[4];
        if (!await FillAsync(stream, header, cancellationToken).ConfigureAwait(false)) return null;
        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length is < 0 or > MaxFrame) throw new InvalidDataException($"A frame of {length} bytes is not accepted (at most {MaxFrame}).");
        var body = new byte[length];
        if (!await FillAsync(stream, body, cancellationToken).ConfigureAwait(false)) return null;
        return JsonSerializer.Deserialize<HostMessage>(body, Json) ?? throw new InvalidDataException("An empty frame.");
    }

    private static async Task<bool> FillAsync(Stream stream, byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await stream.ReadAsync(buffer.AsMemory(read), cancellationToken).ConfigureAwait(false);
            if (n == 0) return false;
            read += n;
        }
        return true;
    }

    /// <summary>A JSON value as plain .NET values: dictionaries, lists, strings, booleans, longs or doubles, null.</summary>
    public static object? Plain(object? value) => value is JsonElement e ? Plain(e) : value;

    /// <summary>A JSON element as plain .NET values.</summary>
    public static object? Plain(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => Plain(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().Select(Plain).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>Converts a value that came over the channel (a <see cref="JsonElement"/>) to <paramref name="type"/>.</summary>
    /// <exception cref="JsonException">The value does not fit the type.</exception>
    public static object? ConvertTo(object? value, Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (value is null) return null;
        if (type == typeof(object)) return Plain(value);
        if (type.IsInstanceOfType(value)) return value;
        var element = value is JsonElement e ? e : JsonSerializer.SerializeToElement(value, Json);
        if (element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined) return null;
        return element.Deserialize(type, Json);
    }
}
