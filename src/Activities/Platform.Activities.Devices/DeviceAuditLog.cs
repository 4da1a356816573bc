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
/// Device commands in the platform's audit trail (<see cref="IAuditLogStore"/>, the <c>audit_log</c> table of all nodes): each
/// command is one entry of action <see cref="DeviceCommandService.AuditAction"/> on target type <c>devices</c>, written at once
/// (not queued), so <c>GET /api/devices/audit</c> shows it right after the command. The actor is who was really behind the
/// command (the API caller or the channel user); the UserId input is kept only in the details (<c>userIdInput</c>).
/// </summary>
public sealed class TrailDeviceAuditLog : IDeviceAuditLog
{
    /// <summary>The target type of device commands in the audit trail.</summary>
    public const string TargetType = "devices";

    /// <summary>The import marker of the old <c>audit/devices.jsonl</c> file (imported into the trail once).</summary>
    public const string ImportKind = "device-commands";

    private readonly IAuditLogStore _store;

    /// <summary>Creates the log over the audit trail's store.</summary>
    public TrailDeviceAuditLog(IAuditLogStore store) => _store = store ?? throw new ArgumentNullException(nameof(store));

    /// <inheritdoc />
    public Task AppendAsync(DeviceAuditEntry entry, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return _store.AppendAsync([ToAuditEntry(entry)], ct);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeviceAuditEntry>> ReadLatestAsync(int take, CancellationToken ct = default)
    {
        if (take <= 0) return [];
        var rows = await _store.QueryAsync(new AuditQuery { Action = DeviceCommandService.AuditAction, TargetType = TargetType, Take = take }, ct)
            .ConfigureAwait(false);
        return rows.Where(r => r.Action == DeviceCommandService.AuditAction).Select(FromAuditEntry).ToList();
    }

    /// <summary>The audit trail entry of a device command: the actor, the device as target, the outcome, and the rest in the details.</summary>
    public static AuditEntry ToAuditEntry(DeviceAuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        return new AuditEntry
        {
            Timestamp = entry.Timestamp, Action = DeviceCommandService.AuditAction, Actor = entry.Actor, ActorKind = entry.ActorKind ?? AuditActorKinds.System,
            TargetType = TargetType, TargetId = entry.DeviceId ?? entry.Device,
            Outcome = entry.Result switch
            {
                nameof(DeviceCommandOutcome.Done) or nameof(DeviceCommandOutcome.ConfirmationRequired) => AuditOutcomes.Success,
                nameof(DeviceCommandOutcome.Rejected) => AuditOutcomes.Denied,
                _ => AuditOutcomes.Failed,
            },
            Details = JsonSerializer.Serialize(new
            {
                command = entry.Command, result = entry.Result, channel = entry.Channel, userIdInput = entry.UserId, confirmed = entry.Confirmed,
                correlationId = entry.CorrelationId, workflowInstanceId = entry.WorkflowInstanceId, message = entry.Message,
                deviceId = entry.DeviceId, device = entry.Device, value = entry.Value,
            }, JsonLinesDeviceAuditLog.Json),
        };
    }

    /// <summary>The device command an audit trail entry records (also entries copied from the old <c>audit_records</c> table,
    /// whose details are the whole command with <c>userId</c>).</summary>
    public static DeviceAuditEntry FromAuditEntry(AuditEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        System.Text.Json.Nodes.JsonObject? details = null;
        try
        {
            details = entry.Details is null ? null : System.Text.Json.Nodes.JsonNode.Parse(entry.Details) as System.Text.Json.Nodes.JsonObject;
        }
        catch (JsonException) { } // details this version cannot read: the columns still say who, what and when
        string? Text(string name) => details?[name] is System.Text.Json.Nodes.JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return new DeviceAuditEntry
        {
            Timestamp = entry.Timestamp, UserId = Text("userIdInput") ?? Text("userId"), Channel = Text("channel"),
            DeviceId = Text("deviceId"), Device = Text("device"),
            Command = Text("command") ?? "", Value = DevicePayloads.ToPlain(details?["value"]?.DeepClone()),
            Result = Text("result") ?? "", Message = Text("message"),
            Confirmed = details?["confirmed"] is System.Text.Json.Nodes.JsonValue c && c.TryGetValue<bool>(out var confirmed) && confirmed,
            CorrelationId = Text("correlationId"), WorkflowInstanceId = Text("workflowInstanceId"),
            Actor = entry.Actor, ActorKind = entry.Actor is null ? null : entry.ActorKind,
        };
    }
}
