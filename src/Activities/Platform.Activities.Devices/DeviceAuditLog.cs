using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Activities;

namespace Platform.Activities.Devices;

/// <summary>One device command as audited: who, through which channel, which device and command, and what came of it.</summary>
public sealed record DeviceAuditEntry
{
    /// <summary>When the command finished.</summary>
    public DateTimeOffset Timestamp { get; init; }
    /// <summary>The user id the command named (the UserId input, or the channel user when the workflow was started by a message), or null.</summary>
    public string? UserId { get; init; }
    /// <summary>Through which channel (the Channel input), or null.</summary>
    public string? Channel { get; init; }
    /// <summary>The device id, or null when no device matched.</summary>
    public string? DeviceId { get; init; }
    /// <summary>The device's name, or the text that named no device.</summary>
    public string? Device { get; init; }
    /// <summary>The command.</summary>
    public string Command { get; init; } = "";
    /// <summary>The command's value, if any.</summary>
    public object? Value { get; init; }
    /// <summary>The outcome: Done, Timeout, Rejected, UnknownDevice or ConfirmationRequired.</summary>
    public string Result { get; init; } = "";
    /// <summary>The sentence given back.</summary>
    public string? Message { get; init; }
    /// <summary>Whether the user confirmed.</summary>
    public bool Confirmed { get; init; }
    /// <summary>The correlation id sent with the command, when one was sent.</summary>
    public string? CorrelationId { get; init; }
    /// <summary>The workflow instance that ran the command, if any.</summary>
    public string? WorkflowInstanceId { get; init; }
    /// <summary>Who was really behind the command (the API caller or the channel user; never a workflow input), or null when unknown.</summary>
    public string? Actor { get; init; }
    /// <summary>The kind of <see cref="Actor"/>: key, user, channel or system.</summary>
    public string? ActorKind { get; init; }
}

/// <summary>Records device commands.</summary>
public interface IDeviceAuditLog
{
    /// <summary>Appends an entry.</summary>
    Task AppendAsync(DeviceAuditEntry entry, CancellationToken ct = default);
    /// <summary>The latest <paramref name="take"/> entries, newest first.</summary>
    Task<IReadOnlyList<DeviceAuditEntry>> ReadLatestAsync(int take, CancellationToken ct = default);
}

/// <summary>The audit log as append-only JSON lines (<c>audit/devices.jsonl</c> in the data directory).</summary>
public sealed class JsonLinesDeviceAuditLog : IDeviceAuditLog
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly string _path;
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Creates the log over <paramref name="path"/>; the file and its folder are created on the first entry.</summary>
    public JsonLinesDeviceAuditLog(string path) => _path = path;

    /// <summary>The file.</summary>
    public string Path => _path;

    /// <inheritdoc />
    public async Task AppendAsync(DeviceAuditEntry entry, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var line = JsonSerializer.Serialize(entry, Json) + "\n";
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!);
            await using var stream = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read);
            await stream.WriteAsync(Encoding.UTF8.GetBytes(line), ct).ConfigureAwait(false);
        }
        finally { _gate.Release(); }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeviceAuditEntry>> ReadLatestAsync(int take, CancellationToken ct = default)
    {
        if (take <= 0 || !File.Exists(_path)) return [];
        var latest = new Queue<string>();
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            using var reader = new StreamReader(new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite), Encoding.UTF8);
            while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0) continue;
                latest.Enqueue(line);
                if (latest.Count > take) latest.Dequeue();
            }
        }
        finally { _gate.Release(); }
        var result = new List<DeviceAuditEntry>(latest.Count);
        foreach (var line in latest.Reverse())
        {
            try
            {
                if (Parse(line) is { } e) result.Add(e);
            }
            catch (JsonException) { } // a torn last line after a crash is skipped, not fatal
        }
        return result;
    }

    internal static DeviceAuditEntry? Parse(string json) => JsonSerializer.Deserialize<DeviceAuditEntry>(json, Json) is { } e
        ? e with { Value = e.Value is JsonElement v ? DevicePayloads.ToPlain(System.Text.Json.Nodes.JsonNode.Parse(v.GetRawText())) : e.Value }
        : null;
}

/// <summary>
/// The audit log of all nodes in one place: <see cref="IAuditRecords"/> of kind <see cref="Kind"/> (the host keeps them in the
/// platform database), so <c>GET /api/devices/audit</c> shows the commands every node ran.
/// </summary>
public sealed class SharedDeviceAuditLog : IDeviceAuditLog
{
    /// <summary>The audit record kind of device commands.</summary>
    public const string Kind = "device-commands";

    private readonly IAuditRecords _records;

    /// <summary>Creates the log over the shared records.</summary>
    public SharedDeviceAuditLog(IAuditRecords records) => _records = records ?? throw new ArgumentNullException(nameof(records));

    /// <inheritdoc />
    public Task AppendAsync(DeviceAuditEntry entry, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return _records.AppendAsync(Kind, entry.Timestamp, JsonSerializer.Serialize(entry, JsonLinesDeviceAuditLog.Json), ct);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeviceAuditEntry>> ReadLatestAsync(int take, CancellationToken ct = default)
    {
        if (take <= 0) return [];
        var result = new List<DeviceAuditEntry>();
        foreach (var json in await _records.ReadLatestAsync(Kind, take, ct).ConfigureAwait(false))
        {
            try
            {
                if (JsonLinesDeviceAuditLog.Parse(json) is { } e) result.Add(e);
            }
            catch (JsonException) { } // not an entry this version can read: left out
        }
        return result;
    }
}
