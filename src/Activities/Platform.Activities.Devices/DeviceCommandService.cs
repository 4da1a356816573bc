using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Mqtt;

namespace Platform.Activities.Devices;

/// <summary>How a device command ended; the outcomes of <see cref="ControlDevice"/>.</summary>
public enum DeviceCommandOutcome
{
    /// <summary>The device acknowledged the command.</summary>
    Done,
    /// <summary>No acknowledgement within the timeout (device or broker unreachable).</summary>
    Timeout,
    /// <summary>The command is not allowed: unsupported, bad value, user not permitted, or refused by the device.</summary>
    Rejected,
    /// <summary>No device (or more than one) matches.</summary>
    UnknownDevice,
    /// <summary>A high-risk command that needs <c>Confirmed = true</c>.</summary>
    ConfirmationRequired,
}

/// <summary>A command for a device.</summary>
public sealed record DeviceCommandRequest
{
    /// <summary>The device: its id, name, an alias or its type ("light").</summary>
    public string? Device { get; init; }
    /// <summary>The room, to tell devices of the same name or type apart ("kitchen").</summary>
    public string? Room { get; init; }
    /// <summary>The command: on, off, toggle, set_level, set_temperature, lock, unlock, or a custom capability name.</summary>
    public string Command { get; init; } = "";
    /// <summary>The command's value (the level for set_level, °C for set_temperature).</summary>
    public object? Value { get; init; }
    /// <summary>Who asks (checked against the device's permitted users for high-risk commands).</summary>
    public string? UserId { get; init; }
    /// <summary>Through which channel (audited).</summary>
    public string? Channel { get; init; }
    /// <summary>True when the user confirmed a high-risk command.</summary>
    public bool Confirmed { get; init; }
    /// <summary>How long to wait for the device's acknowledgement (default 5 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>The workflow instance that asks, for the audit log.</summary>
    public string? WorkflowInstanceId { get; init; }
    /// <summary>
    /// Who is behind the command as the host established it (the authenticated principal of an API call, or the channel user of the
    /// message that started the workflow; see <see cref="AuditActor"/>), never a workflow input. Null when nobody is known.
    /// </summary>
    public string? Actor { get; init; }
    /// <summary>The kind of <see cref="Actor"/> (<see cref="AuditActorKinds"/>).</summary>
    public string? ActorKind { get; init; }
    /// <summary>The language of <see cref="DeviceCommandResult.Message"/>: <c>en</c> (default) or <c>zh</c> (see <see cref="DeviceLanguages"/>).</summary>
    public string? Language { get; init; }
}

/// <summary>The result of a device command.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="Device">The device, when one matched.</param>
/// <param name="State">The state the device reported in its acknowledgement (Done), else the cached state, or null.</param>
/// <param name="Message">A sentence to reply with, e.g. "The kitchen light is on."</param>
public sealed record DeviceCommandResult(DeviceCommandOutcome Outcome, Device? Device, IReadOnlyDictionary<string, object?>? State, string Message)
{
    /// <summary>The normalized command.</summary>
    public string Command { get; init; } = "";
    /// <summary>The correlation id sent with the command, when it was sent.</summary>
    public string? CorrelationId { get; init; }

    /// <summary>
    /// The devices that matched equally well when the outcome is <see cref="DeviceCommandOutcome.UnknownDevice"/> because the
    /// request is ambiguous ("the light": the kitchen and the bedroom light); empty otherwise.
    /// </summary>
    public IReadOnlyList<Device> Candidates { get; init; } = [];
}

/// <summary>
/// Runs device commands: resolves the device, checks the capability, the value, the user's permission and confirmation,
/// sends the command (MQTT with a correlation id, or HTTP) and waits for the acknowledgement; audits every command.
/// </summary>
public sealed class DeviceCommandService
{
    /// <summary>The name of the HTTP client used for HTTP devices.</summary>
    public const string HttpClientName = "Platform.Devices";

    private static readonly HttpClient FallbackHttp = new();
    private readonly IDeviceStore _store;
    private readonly DeviceStateCache _cache;
    private readonly IDeviceAuditLog _audit;
    private readonly IMqttConnection? _mqtt;
    private readonly IHttpClientFactory? _http;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly IAuditLog? _trail;

    /// <summary>
    /// Creates the service. MQTT and HTTP are optional: without them devices of that transport cannot be reached. With
    /// <paramref name="trail"/> and an <paramref name="audit"/> log other than <see cref="TrailDeviceAuditLog"/>, every command is
    /// also written to the platform's audit trail (action <c>device.command</c>); with <see cref="TrailDeviceAuditLog"/> it is
    /// written there once.
    /// </summary>
    public DeviceCommandService(IDeviceStore store, DeviceStateCache cache, IDeviceAuditLog audit, IMqttConnection? mqtt = null,
        IHttpClientFactory? http = null, TimeProvider? clock = null, ILogger<DeviceCommandService>? logger = null, IAuditLog? trail = null)
    {
        _trail = trail;
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _cache = cache ?? throw new ArgumentNullException(nameof(cache));
        _audit = audit ?? throw new ArgumentNullException(nameof(audit));
        _mqtt = mqtt;
        _http = http;
        _clock = clock ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Finds a device by id, name, alias or type, and room.</summary>
    public async Task<DeviceMatch> ResolveAsync(string? device, string? room, CancellationToken ct = default) =>
        DeviceResolver.Resolve(await _store.ListAsync(ct).ConfigureAwait(false), device, room);

    /// <summary>
    /// The device's state: the cached one, or else (MQTT devices) the retained state message, waited for up to <paramref name="wait"/>.
    /// Null when nothing is known.
    /// </summary>
    public async Task<DeviceState?> GetStateAsync(Device device, TimeSpan wait, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (_cache.Get(device.Id) is { } cached) return cached;
        if (device.Transport.Kind != DeviceTransportKind.Mqtt || _mqtt is null || !_mqtt.IsConfigured || wait <= TimeSpan.Zero) return null;
        var first = new TaskCompletionSource<DeviceState>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(wait);
        try
        {
            await using var subscription = await _mqtt.SubscribeAsync(device.StateTopic, (message, _) =>
            {
                var (values, _) = DevicePayloads.ParseState(message.PayloadText);
                first.TrySetResult(new DeviceState(device.Id, values, _clock.GetUtcNow(), message.Retain));
                return Task.CompletedTask;
            }, MqttQos.AtLeastOnce, cts.Token).ConfigureAwait(false);
            var state = await first.Task.WaitAsync(cts.Token).ConfigureAwait(false);
            _cache.Set(state);
            return state;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return _cache.Get(device.Id);
        }
    }

    /// <summary>Runs a command and audits it.</summary>
    /// <exception cref="MqttNotConfiguredException">The device uses MQTT and no broker is configured.</exception>
    public async Task<DeviceCommandResult> ExecuteAsync(DeviceCommandRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var command = DeviceCommands.Normalize(request.Command);
        DeviceCommandResult result;
        try
        {
            result = await RunAsync(request, command, ct).ConfigureAwait(false);
        }
        catch (MqttNotConfiguredException e)
        {
            await AuditAsync(request, command, new DeviceCommandResult(DeviceCommandOutcome.Timeout, null, null, e.Message) { Command = command }, "Failed")
                .ConfigureAwait(false);
            throw;
        }
        await AuditAsync(request, command, result, result.Outcome.ToString()).ConfigureAwait(false);
        _logger.LogInformation("Device command {Command} on {Device} by {User} via {Channel}: {Outcome}", command,
            result.Device?.Id ?? request.Device, request.UserId, request.Channel, result.Outcome);
        return result;
    }

    private async Task<DeviceCommandResult> RunAsync(DeviceCommandRequest request, string command, CancellationToken ct)
    {
        var text = DeviceText.For(request.Language);
        var match = await ResolveAsync(request.Device, request.Room, ct).ConfigureAwait(false);
        if (match.Device is not { } device)
            return new DeviceCommandResult(DeviceCommandOutcome.UnknownDevice, null, null,
                await UnknownDeviceMessageAsync(request.Device, request.Room, match, request.Language, ct).ConfigureAwait(false))
            {
                Command = command, Candidates = match.Choices,
            };
        DeviceCommandResult Reject(string message) =>
            new(DeviceCommandOutcome.Rejected, device, _cache.Get(device.Id)?.Values, message) { Command = command };

        if (command.Length == 0) return Reject(text.WhichCommand(device, Supported(device, text)));
        var known = DeviceCommands.Capability.TryGetValue(command, out var capability);
        if (known ? !device.Can(capability!) : !device.Can(command))
            return Reject(text.CannotDo(device, command, Supported(device, text)));
        if (ValueProblem(device, command, request.Value, text, out var value) is { } problem) return Reject(problem);

        if (device.IsHighRisk(command))
        {
            if (!device.Permits(request.UserId))
                return Reject(string.IsNullOrWhiteSpace(request.UserId) ? text.NeedsUser(device, command) : text.NotAllowed(device, command));
            if (!request.Confirmed)
                return new DeviceCommandResult(DeviceCommandOutcome.ConfirmationRequired, device, _cache.Get(device.Id)?.Values,
                    text.Confirm(device, command)) { Command = command };
        }

        var correlationId = Guid.NewGuid().ToString("N");
        var payload = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            [DevicePayloads.CorrelationId] = correlationId, ["command"] = command, ["value"] = value,
            ["userId"] = request.UserId, ["channel"] = request.Channel, ["timestamp"] = _clock.GetUtcNow(),
        });
        var timeout = request.Timeout > TimeSpan.Zero ? request.Timeout : TimeSpan.FromSeconds(5);
        var result = device.Transport.Kind == DeviceTransportKind.Http
            ? await SendHttpAsync(device, command, payload, timeout, text, ct).ConfigureAwait(false)
            : await SendMqttAsync(device, command, payload, correlationId, timeout, text, ct).ConfigureAwait(false);
        return result with { CorrelationId = correlationId };
    }

    private async Task<DeviceCommandResult> SendMqttAsync(Device device, string command, string payload, string correlationId, TimeSpan timeout,
        DeviceText text, CancellationToken ct)
    {
        if (_mqtt is null || !_mqtt.IsConfigured) throw new MqttNotConfiguredException();
        var answer = new TaskCompletionSource<Dictionary<string, object?>>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await using var subscription = await _mqtt.SubscribeAsync(device.StateTopic, (message, _) =>
            {
                var (values, correlation) = DevicePayloads.ParseState(message.PayloadText);
                if (correlation == correlationId) answer.TrySetResult(values);
                return Task.CompletedTask;
            }, MqttQos.AtLeastOnce, cts.Token).ConfigureAwait(false);
            await _mqtt.PublishAsync(device.CommandTopic, payload, MqttQos.AtLeastOnce, retain: false, cts.Token).ConfigureAwait(false);
            var values = await answer.Task.WaitAsync(cts.Token).ConfigureAwait(false);
            return Acknowledged(device, command, values, text);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var message = _mqtt.IsConnected ? text.NoAnswer(device, Seconds(timeout)) : text.BrokerUnreachable(device, _mqtt.Endpoint);
            return new DeviceCommandResult(DeviceCommandOutcome.Timeout, device, _cache.Get(device.Id)?.Values, message) { Command = command };
        }
        catch (MqttPublishException e)
        {
            return new DeviceCommandResult(DeviceCommandOutcome.Rejected, device, _cache.Get(device.Id)?.Values, e.Message) { Command = command };
        }
    }

    private async Task<DeviceCommandResult> SendHttpAsync(Device device, string command, string payload, TimeSpan timeout, DeviceText text, CancellationToken ct)
    {
        if (!Uri.TryCreate(device.Transport.Url, UriKind.Absolute, out var url))
            return new DeviceCommandResult(DeviceCommandOutcome.Rejected, device, null, text.NoHttpEndpoint(device)) { Command = command };
        var client = _http?.CreateClient(HttpClientName) ?? FallbackHttp;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            using var content = new StringContent(payload, System.Text.Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(url, content, cts.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                var reason = body.Length > 200 ? body[..200] + "…" : body;
                return new DeviceCommandResult(DeviceCommandOutcome.Rejected, device, _cache.Get(device.Id)?.Values,
                    text.HttpRefused(device, command, (int)response.StatusCode, reason)) { Command = command };
            }
            var values = string.IsNullOrWhiteSpace(body) ? new Dictionary<string, object?>() : DevicePayloads.ParseState(body).Values;
            return Acknowledged(device, command, values, text);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new DeviceCommandResult(DeviceCommandOutcome.Timeout, device, _cache.Get(device.Id)?.Values,
                text.NoAnswer(device, Seconds(timeout))) { Command = command };
        }
        catch (HttpRequestException e)
        {
            return new DeviceCommandResult(DeviceCommandOutcome.Timeout, device, _cache.Get(device.Id)?.Values,
                text.HttpUnreachable(device, url.GetLeftPart(UriPartial.Authority), e.Message)) { Command = command };
        }
    }

    private DeviceCommandResult Acknowledged(Device device, string command, Dictionary<string, object?> values, DeviceText text)
    {
        if (values.TryGetValue(DevicePayloads.Error, out var error) && error is not null && !(error is bool b && !b))
        {
            values.Remove(DevicePayloads.Error);
            return new DeviceCommandResult(DeviceCommandOutcome.Rejected, device, values, text.DeviceRefused(device, command, error)) { Command = command };
        }
        values.Remove(DevicePayloads.Error);
        _cache.Set(new DeviceState(device.Id, values, _clock.GetUtcNow(), Retained: false));
        var sentence = text.Describe(device, values, afterCommand: true) ?? text.Did(device, command);
        return new DeviceCommandResult(DeviceCommandOutcome.Done, device, values, sentence) { Command = command };
    }

    /// <summary>The audit trail action of a device command.</summary>
    public const string AuditAction = "device.command";

    private Task AuditAsync(DeviceCommandRequest request, string command, DeviceCommandResult result, string outcome)
    {
        var entry = new DeviceAuditEntry
        {
            Timestamp = _clock.GetUtcNow(), UserId = request.UserId, Channel = request.Channel, DeviceId = result.Device?.Id,
            Device = result.Device?.Name ?? string.Join(" in ", new[] { request.Device, request.Room }.Where(s => !string.IsNullOrWhiteSpace(s))),
            Command = command, Value = request.Value, Result = outcome, Message = result.Message, Confirmed = request.Confirmed,
            CorrelationId = result.CorrelationId, WorkflowInstanceId = request.WorkflowInstanceId,
            Actor = request.Actor, ActorKind = request.Actor is null ? null : request.ActorKind ?? AuditActorKinds.System,
        };
        // Written once: the server's device audit log is the audit trail itself; any other log (a file) is copied to the trail.
        if (_trail is not null && _audit is not TrailDeviceAuditLog) _trail.Record(TrailDeviceAuditLog.ToAuditEntry(entry));
        return _audit.AppendAsync(entry, CancellationToken.None);
    }

    private static string? ValueProblem(Device device, string command, object? raw, DeviceText text, out object? value)
    {
        value = raw is JsonElement e ? DevicePayloads.ToPlain(System.Text.Json.Nodes.JsonNode.Parse(e.GetRawText())) : raw;
        if (value is string { Length: 0 }) value = null;
        switch (command)
        {
            case DeviceCommands.SetLevel:
                if (DevicePayloads.AsNumber(value) is not { } level || level < 0 || level > 100)
                    return text.LevelProblem(device, raw);
                value = level;
                return null;
            case DeviceCommands.SetTemperature:
                if (DevicePayloads.AsNumber(value) is not { } t || t < 5 || t > 35)
                    return text.TemperatureProblem(device, raw);
                value = t;
                return null;
            default:
                if (value is not null && DeviceCommands.Capability.ContainsKey(command)) value = null; // on/off/lock… take no value
                return null;
        }
    }

    private static string Supported(Device device, DeviceText text) =>
        text.Supported(DeviceCommands.Capability.Where(p => device.Can(p.Value)).Select(p => p.Key)
            .Concat(device.EffectiveCapabilities.Where(c => !DeviceCommands.Capability.Values.Contains(c) && c != DeviceCapabilities.Sensor))
            .ToList());

    /// <summary>
    /// The reply when no single device matches: the candidates when several do ("Which one do you mean: the bedroom light or
    /// the kitchen light?"; a candidate's room is added when its name does not say it), else what can be controlled.
    /// </summary>
    public Task<string> UnknownDeviceMessageAsync(string? text, string? room, DeviceMatch match, CancellationToken ct = default) =>
        UnknownDeviceMessageAsync(text, room, match, DeviceLanguages.English, ct);

    /// <summary>
    /// The reply when no single device matches, in <paramref name="language"/> (<c>en</c> or <c>zh</c>, see
    /// <see cref="DeviceLanguages"/>): "你指的是哪一个：卧室的灯还是厨房的灯？", or what can be controlled.
    /// </summary>
    public async Task<string> UnknownDeviceMessageAsync(string? text, string? room, DeviceMatch match, string? language, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(match);
        var words = DeviceText.For(language);
        if (match.IsAmbiguous) return words.WhichOne(match.Candidates.Take(5).ToList());
        var sentence = words.Unknown(text, room);
        var all = await _store.ListAsync(ct).ConfigureAwait(false);
        return all.Count == 0 ? words.NoDevices(sentence) : words.CanControl(sentence, all.Take(10).ToList());
    }

    /// <summary>How <paramref name="language"/> names the devices to choose from (for quick replies): "Kitchen light" / "厨房的灯".</summary>
    public static List<string> ChoiceLabels(IEnumerable<Device> devices, string? language)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var words = DeviceText.For(language);
        return devices.Select(words.Label).ToList();
    }

    /// <summary>A sentence about a device's state in <paramref name="language"/> ("The kitchen light is on." / "厨房的灯开着。"), or
    /// "I have no state for … yet." when nothing is known.</summary>
    public static string DescribeState(Device device, IReadOnlyDictionary<string, object?>? state, string? language)
    {
        ArgumentNullException.ThrowIfNull(device);
        var words = DeviceText.For(language);
        return words.Describe(device, state, afterCommand: false) ?? words.NoState(device);
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
