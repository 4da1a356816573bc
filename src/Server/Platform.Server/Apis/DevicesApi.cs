using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Activities.Devices;
using Platform.Mqtt;
using Platform.Server.Security;

namespace Platform.Server.Apis;

/// <summary>
/// The device registry under <c>/api/devices</c>, each device's cached state and the device audit log.
/// Reading needs any role; commands need Operator; changing needs Designer.
/// </summary>
public static class DevicesApi
{
    /// <summary>The route prefix.</summary>
    public const string Prefix = "/api/devices";

    /// <summary>The most audit entries one request returns.</summary>
    public const int MaxAuditTake = 1000;

    /// <summary>A device as answered: the stored fields with the topics and capabilities in effect.</summary>
    public sealed record DeviceResponse(string Id, string Name, IReadOnlyList<string> Aliases, string? Room, string Type,
        IReadOnlyList<string> Capabilities, bool HighRisk, IReadOnlyList<string> HighRiskCommands, IReadOnlyList<string> PermittedUsers,
        DeviceTransport Transport, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    /// <summary>A create or replace request.</summary>
    public sealed record DeviceRequest(string? Id, string? Name, List<string>? Aliases, string? Room, string? Type, List<string>? Capabilities,
        bool? HighRisk, List<string>? HighRiskCommands, List<string>? PermittedUsers, DeviceTransport? Transport);

    /// <summary>A device's state as answered.</summary>
    public sealed record DeviceStateResponse(string DeviceId, IReadOnlyDictionary<string, object?>? State, DateTimeOffset? UpdatedAt, bool? Retained, string Message);

    /// <summary>A test command sent from the Studio's Devices page.</summary>
    /// <param name="Command">on, off, toggle, set_level, set_temperature, lock, unlock or a custom capability.</param>
    /// <param name="Value">The command's value (a level 0-100, a temperature 5-35), or null.</param>
    /// <param name="Confirmed">True to confirm a high-risk command.</param>
    /// <param name="UserId">Who asks (checked against the permitted users of high-risk commands); default "studio".</param>
    /// <param name="TimeoutSeconds">How long to wait for the acknowledgement: 0.1-30 s, default 5.</param>
    public sealed record DeviceCommandBody(string? Command, System.Text.Json.JsonElement? Value, bool? Confirmed, string? UserId, double? TimeoutSeconds);

    /// <summary>How a test command ended (every outcome is a 200: the command was run and audited).</summary>
    public sealed record DeviceCommandResponse(string DeviceId, string Command, DeviceCommandOutcome Outcome, string Message,
        IReadOnlyDictionary<string, object?>? State, string? CorrelationId);

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapDevicesApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var group = app.MapGroup(Prefix).RequireAuthorization(ApiPolicies.Read).WithTags("Devices");
        group.MapGet("/", ListAsync);
        group.MapGet("/audit", AuditAsync);
        group.MapGet("/{id}", GetAsync);
        group.MapGet("/{id}/state", StateAsync);
        group.MapPost("/", CreateAsync).RequireAuthorization(ApiPolicies.Design);
        group.MapPut("/{id}", ReplaceAsync).RequireAuthorization(ApiPolicies.Design);
        group.MapDelete("/{id}", DeleteAsync).RequireAuthorization(ApiPolicies.Design);
        group.MapPost("/{id}/commands", CommandAsync).RequireAuthorization(ApiPolicies.Operate);
        return app;
    }

    /// <summary>The answer shape of a device.</summary>
    public static DeviceResponse ToResponse(Device d)
    {
        ArgumentNullException.ThrowIfNull(d);
        return new DeviceResponse(d.Id, d.Name, d.Aliases, d.Room, d.Type, d.EffectiveCapabilities, d.HighRisk, d.HighRiskCommands, d.PermittedUsers,
            d.Transport.Kind == DeviceTransportKind.Mqtt ? d.Transport with { CommandTopic = d.CommandTopic, StateTopic = d.StateTopic } : d.Transport,
            d.CreatedAt, d.UpdatedAt);
    }

    /// <summary>GET /api/devices.</summary>
    public static async Task<Ok<List<DeviceResponse>>> ListAsync(IDeviceStore store, CancellationToken ct) =>
        TypedResults.Ok((await store.ListAsync(ct)).Select(ToResponse).ToList());

    /// <summary>GET /api/devices/{id}.</summary>
    public static async Task<Results<Ok<DeviceResponse>, ProblemHttpResult>> GetAsync(string id, IDeviceStore store, CancellationToken ct) =>
        await store.FindAsync(id, ct) is { } d ? TypedResults.Ok(ToResponse(d)) : NotFound(id);

    /// <summary>GET /api/devices/{id}/state: the cached state, or the retained state message (waited for up to 1 s).</summary>
    public static async Task<Results<Ok<DeviceStateResponse>, ProblemHttpResult>> StateAsync(string id, IDeviceStore store,
        DeviceCommandService devices, CancellationToken ct)
    {
        if (await store.FindAsync(id, ct) is not { } d) return NotFound(id);
        DeviceState? state;
        try { state = await devices.GetStateAsync(d, TimeSpan.FromSeconds(1), ct); }
        catch (MqttNotConfiguredException) { state = null; }
        return TypedResults.Ok(new DeviceStateResponse(d.Id, state?.Values, state?.UpdatedAt, state?.Retained,
            DeviceSentences.Describe(d, state?.Values) ?? $"I have no state for {DeviceSentences.Named(d)} yet."));
    }

    /// <summary>GET /api/devices/audit?take=50: the latest audit entries, newest first.</summary>
    public static async Task<Results<Ok<IReadOnlyList<DeviceAuditEntry>>, ProblemHttpResult>> AuditAsync(IDeviceAuditLog audit, CancellationToken ct, int? take = null)
    {
        var n = take ?? 50;
        if (n is < 1 or > MaxAuditTake)
            return Problems.BadRequest("The take parameter is out of range.", $"Use take=1 to take={MaxAuditTake} (default 50).");
        return TypedResults.Ok(await audit.ReadLatestAsync(n, ct));
    }

    /// <summary>POST /api/devices: 201, 400 on bad input, 409 when the id is taken.</summary>
    public static async Task<Results<Created<DeviceResponse>, ProblemHttpResult>> CreateAsync(DeviceRequest request, IDeviceStore store,
        TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Device.IsValidId(request.Id)) return InvalidId(request.Id);
        if (await store.FindAsync(request.Id!, ct) is not null)
            return Problems.Conflict($"The device '{request.Id}' already exists.", $"Replace it with PUT {Prefix}/{request.Id} or pick another id.");
        var now = clock.GetUtcNow();
        if (Build(request.Id!, request, now, now) is not { } device) return Invalid(request);
        await store.SaveAsync(device, ct);
        return TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(device.Id)}", ToResponse(device));
    }

    /// <summary>PUT /api/devices/{id}: replaces the device (201 when it is new).</summary>
    public static async Task<Results<Ok<DeviceResponse>, Created<DeviceResponse>, ProblemHttpResult>> ReplaceAsync(string id, DeviceRequest request,
        IDeviceStore store, TimeProvider clock, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Device.IsValidId(id)) return InvalidId(id);
        if (request.Id is not null && !string.Equals(request.Id, id, StringComparison.OrdinalIgnoreCase))
            return Problems.BadRequest("The id in the body differs from the id in the URL.", "Renaming is not supported: create a new device and delete the old one.");
        var existing = await store.FindAsync(id, ct);
        var now = clock.GetUtcNow();
        if (Build(existing?.Id ?? id, request, existing?.CreatedAt ?? now, now) is not { } device) return Invalid(request);
        await store.SaveAsync(device, ct);
        return existing is null ? TypedResults.Created($"{Prefix}/{Uri.EscapeDataString(device.Id)}", ToResponse(device)) : TypedResults.Ok(ToResponse(device));
    }

    /// <summary>DELETE /api/devices/{id}: 204 or 404.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, IDeviceStore store, DeviceStateCache cache, CancellationToken ct)
    {
        if (!await store.DeleteAsync(id, ct)) return NotFound(id);
        cache.Remove(id);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// POST /api/devices/{id}/commands: sends one command to the device through <see cref="DeviceCommandService"/> (the same path as
    /// Control Device, audited with channel "studio") and answers its outcome; 404 for an unknown device, 400 on bad input, 409 when
    /// the device uses MQTT and no broker is configured.
    /// </summary>
    public static async Task<Results<Ok<DeviceCommandResponse>, ProblemHttpResult>> CommandAsync(string id, DeviceCommandBody body,
        IDeviceStore store, DeviceCommandService devices, System.Security.Claims.ClaimsPrincipal user, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (await store.FindAsync(id, ct) is not { } device) return NotFound(id);
        if (string.IsNullOrWhiteSpace(body.Command))
            return Problems.BadRequest("The command is missing.", $"Set command to one of: {string.Join(", ", SupportedCommands(device))}.");
        var timeout = body.TimeoutSeconds ?? 5;
        if (double.IsNaN(timeout) || timeout is < 0.1 or > 30)
            return Problems.BadRequest("The timeout is out of range.", "Set timeoutSeconds from 0.1 to 30 (default 5).");
        var value = body.Value is { ValueKind: not (System.Text.Json.JsonValueKind.Null or System.Text.Json.JsonValueKind.Undefined) } v ? (object?)v : null;
        try
        {
            var result = await devices.ExecuteAsync(new DeviceCommandRequest
            {
                Device = device.Id, Command = body.Command.Trim(), Value = value, Confirmed = body.Confirmed ?? false,
                UserId = string.IsNullOrWhiteSpace(body.UserId) ? "studio" : body.UserId.Trim(), Channel = "studio",
                Timeout = TimeSpan.FromSeconds(timeout),
                Actor = user.Identity?.Name, ActorKind = Security.AuditActorOf.Kind(user), // the caller, not the body's userId
            }, ct);
            return TypedResults.Ok(new DeviceCommandResponse(device.Id, result.Command, result.Outcome, result.Message, result.State, result.CorrelationId));
        }
        catch (MqttNotConfiguredException e)
        {
            return Problems.Conflict("No MQTT broker is configured.",
                $"{e.Message} Set Platform:Mqtt:Host to an external broker, or keep the embedded broker on (Platform:Mqtt:EmbeddedPort, default 1883).");
        }
    }

    private static IEnumerable<string> SupportedCommands(Device device) =>
        DeviceCommands.Capability.Where(c => device.Can(c.Value)).Select(c => c.Key)
            .Concat(device.EffectiveCapabilities.Where(c => !DeviceCommands.Capability.Values.Contains(c)));

    /// <summary>The first problem of a request, or null when it is valid.</summary>
    public static string? Problem(DeviceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Trim().Length > 100) return "Set name to the name people use, e.g. \"Kitchen light\" (1-100 characters).";
        var type = request.Type?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(type) || !IsWord(type)) return $"Set type to one of {string.Join(", ", DeviceTypes.All)} (or another lower-case word).";
        var capabilities = Clean(request.Capabilities);
        if (capabilities.Any(c => !IsWord(c))) return "Capabilities are lower-case words such as on_off, level, temperature, lock, sensor.";
        if (capabilities.Count == 0 && DeviceTypes.DefaultCapabilities(type).Count == 0)
            return $"The type '{type}' has no default capabilities: list them in capabilities (on_off, level, temperature, lock, sensor or your own).";
        if (Clean(request.Aliases).Any(a => a.Length > 100)) return "Aliases are names of up to 100 characters.";
        if (Clean(request.HighRiskCommands).Any(c => !IsWord(DeviceCommands.Normalize(c)))) return "highRiskCommands are command names such as unlock.";
        var transport = request.Transport ?? new DeviceTransport();
        if (transport.Kind == DeviceTransportKind.Http)
        {
            if (!Uri.TryCreate(transport.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                return "An HTTP device needs transport.url, an absolute http:// or https:// address that accepts the JSON command by POST.";
        }
        else
        {
            foreach (var topic in new[] { transport.CommandTopic, transport.StateTopic })
                if (!string.IsNullOrWhiteSpace(topic) && !MqttTopics.IsValidTopic(topic.Trim()))
                    return $"'{topic}' is not a valid MQTT topic: it must not contain '+' or '#'. Leave it empty for devices/{{id}}/set and devices/{{id}}/state.";
        }
        return null;
    }

    private static Device? Build(string id, DeviceRequest r, DateTimeOffset createdAt, DateTimeOffset updatedAt)
    {
        if (Problem(r) is not null) return null;
        var transport = r.Transport ?? new DeviceTransport();
        transport = transport.Kind == DeviceTransportKind.Http
            ? new DeviceTransport { Kind = DeviceTransportKind.Http, Url = transport.Url!.Trim() }
            : new DeviceTransport
            {
                Kind = DeviceTransportKind.Mqtt,
                CommandTopic = string.IsNullOrWhiteSpace(transport.CommandTopic) ? $"devices/{id}/set" : transport.CommandTopic.Trim(),
                StateTopic = string.IsNullOrWhiteSpace(transport.StateTopic) ? $"devices/{id}/state" : transport.StateTopic.Trim(),
            };
        if (transport.Kind == DeviceTransportKind.Mqtt && transport.CommandTopic == transport.StateTopic) return null;
        return new Device
        {
            Id = id, Name = r.Name!.Trim(), Aliases = Clean(r.Aliases), Room = string.IsNullOrWhiteSpace(r.Room) ? null : r.Room.Trim(),
            Type = r.Type!.Trim().ToLowerInvariant(), Capabilities = Clean(r.Capabilities).Select(c => c.ToLowerInvariant()).ToList(),
            HighRisk = r.HighRisk ?? false, HighRiskCommands = Clean(r.HighRiskCommands).Select(DeviceCommands.Normalize).ToList(),
            PermittedUsers = Clean(r.PermittedUsers), Transport = transport, CreatedAt = createdAt, UpdatedAt = updatedAt,
        };
    }

    private static ProblemHttpResult Invalid(DeviceRequest request) =>
        Problems.BadRequest("The device is not valid.", Problem(request)
            ?? "transport.commandTopic and transport.stateTopic must differ: the device answers on the state topic.");

    private static ProblemHttpResult InvalidId(string? id) =>
        Problems.BadRequest($"'{id}' is not a valid device id.",
            $"Use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (not {string.Join(", ", Device.ReservedIds)}), e.g. kitchen-light.");

    private static ProblemHttpResult NotFound(string id) =>
        Problems.NotFound($"The device '{id}' was not found.", $"GET {Prefix} lists the devices; ids are case-insensitive.");

    private static List<string> Clean(List<string>? values) =>
        (values ?? []).Where(v => !string.IsNullOrWhiteSpace(v)).Select(v => v.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    private static bool IsWord(string s) => System.Text.RegularExpressions.Regex.IsMatch(s, "^[a-z][a-z0-9_-]{0,31}$");
}
