using System.Text.Json;
using Platform.Mqtt;

namespace Platform.Activities.Devices;

/// <summary>The AI agent's <c>get_device_state</c> tool: the last known state of a device (like <see cref="GetDeviceState"/>).</summary>
public sealed class GetDeviceStateTool(DeviceCommandService service) : IAgentTool
{
    /// <summary>The tool name.</summary>
    public const string ToolName = "get_device_state";

    /// <inheritdoc />
    public string Name => ToolName;

    /// <inheritdoc />
    public string Description => "Reads the last known state of a smart-home device (light, thermostat, lock, sensor…).";

    /// <inheritdoc />
    public JsonElement ParametersSchema { get; } = AgentToolSchema.Object(
        ("device", "string", "The device: its name, an alias or its type, e.g. \"kitchen light\" or \"thermometer\".", true),
        ("room", "string", "The room, e.g. \"bedroom\" (optional).", false));

    /// <inheritdoc />
    public async Task<AgentToolResult> InvokeAsync(JsonElement arguments, ActivityExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var name = AgentToolSchema.String(arguments, "device");
        var room = AgentToolSchema.String(arguments, "room");
        var match = await service.ResolveAsync(name, room, context.CancellationToken);
        if (match.Device is not { } device)
            return AgentToolResult.Error(await service.UnknownDeviceMessageAsync(name, room, match, context.CancellationToken));
        DeviceState? state;
        try { state = await service.GetStateAsync(device, TimeSpan.FromSeconds(1), context.CancellationToken); }
        catch (MqttNotConfiguredException) { state = null; }
        return AgentToolResult.Json(new Dictionary<string, object?>
        {
            ["device"] = device.Name, ["room"] = device.Room, ["state"] = state?.Values,
            ["message"] = DeviceSentences.Describe(device, state?.Values) ?? $"I have no state for {DeviceSentences.Named(device)} yet.",
        });
    }
}

/// <summary>
/// The AI agent's <c>control_device</c> tool: sends a command like <see cref="ControlDevice"/>, never confirmed: a high-risk
/// command (e.g. unlocking a door) comes back as "confirmation required" and the agent ends with <c>NeedsConfirmation</c>,
/// so the workflow asks the user and runs Control Device with <c>Confirmed</c> itself.
/// </summary>
public sealed class ControlDeviceTool(DeviceCommandService service) : IAgentTool
{
    /// <summary>The tool name.</summary>
    public const string ToolName = "control_device";

    /// <inheritdoc />
    public string Name => ToolName;

    /// <inheritdoc />
    public string Description =>
        "Sends a command to a smart-home device, e.g. command \"on\"/\"off\" for a light, \"set_temperature\" with a value for a thermostat, \"unlock\"/\"lock\" for a lock. High-risk commands need the user's confirmation.";

    /// <inheritdoc />
    public JsonElement ParametersSchema { get; } = AgentToolSchema.Object(
        ("device", "string", "The device: its name, an alias or its type.", true),
        ("room", "string", "The room (optional).", false),
        ("command", "string", "The command, e.g. on, off, set_temperature, unlock.", true),
        ("value", "string", "The command's value, e.g. 21 for set_temperature (optional).", false));

    /// <inheritdoc />
    public async Task<AgentToolResult> InvokeAsync(JsonElement arguments, ActivityExecutionContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var actor = context.GetActor();
        var request = new DeviceCommandRequest
        {
            Device = AgentToolSchema.String(arguments, "device"), Room = AgentToolSchema.String(arguments, "room"),
            Command = AgentToolSchema.String(arguments, "command") ?? "", Value = AgentToolSchema.Value(arguments, "value"),
            UserId = actor is { Kind: AuditActorKinds.Channel } channelUser ? channelUser.Name : null, Confirmed = false, Timeout = TimeSpan.FromSeconds(5),
            WorkflowInstanceId = context.WorkflowInstanceId, Actor = actor?.Name, ActorKind = actor?.Kind,
        };
        DeviceCommandResult result;
        try { result = await service.ExecuteAsync(request, context.CancellationToken); }
        catch (MqttNotConfiguredException e) { return AgentToolResult.Error(e.Message); }
        var content = new Dictionary<string, object?>
        {
            ["outcome"] = result.Outcome.ToString(), ["device"] = result.Device?.Name, ["state"] = result.State, ["message"] = result.Message,
        };
        if (result.Outcome == DeviceCommandOutcome.ConfirmationRequired)
        {
            content["status"] = "confirmation_required";
            return AgentToolResult.Json(content) with
            {
                ConfirmationRequired = result.Message,
                PendingAction = new Dictionary<string, object?>
                {
                    ["tool"] = ToolName, ["device"] = result.Device?.Name ?? request.Device, ["deviceId"] = result.Device?.Id, ["room"] = request.Room,
                    ["command"] = request.Command, ["value"] = request.Value, ["message"] = result.Message,
                },
            };
        }
        return AgentToolResult.Json(content) with { IsError = result.Outcome is not DeviceCommandOutcome.Done };
    }
}
