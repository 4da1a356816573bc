using Platform.Mqtt;

namespace Platform.Activities.Devices;

/// <summary>
/// Sends a command to a device and waits for its acknowledgement. The device is chosen by id, or by name, alias or type plus
/// room, as intent recognition yields them (device "light", room "kitchen"). The command must fit the device's capabilities.
/// High-risk commands need a permitted user and <c>Confirmed = true</c>; without confirmation the outcome is
/// ConfirmationRequired. Every command is written to the device audit log.
/// </summary>
[Activity("Platform", "Devices", "Sends a command (on, off, set_level, lock…) to a device and waits for its acknowledgement.", Kind = ActivityKind.Task)]
[FlowNode("Done", "Timeout", "Rejected", "UnknownDevice", "ConfirmationRequired")]
public sealed class ControlDevice : Activity
{
    /// <summary>The device: its id, name, an alias or its type.</summary>
    [Input(Description = "The device: its id, name, an alias or its type (e.g. \"light\" from intent entities).", Order = 0)]
    public Input<string> DeviceName { get; set; } = new("");

    /// <summary>The room, to tell devices of the same name or type apart.</summary>
    [Input(Description = "The room (e.g. \"kitchen\"); optional, narrows the device.", Order = 1)]
    public Input<string> Room { get; set; } = new("");

    /// <summary>The command.</summary>
    [Input(Description = "The command: on, off, toggle, set_level, set_temperature, lock, unlock (or a custom capability).", UIHint = UIHints.DropDown,
        Options = ["on", "off", "toggle", "set_level", "set_temperature", "lock", "unlock"], Order = 2)]
    public Input<string> Command { get; set; } = new("");

    /// <summary>The command's value: the level (0-100) for set_level, °C for set_temperature.</summary>
    [Input(Description = "The value: the level 0-100 for set_level, the temperature in °C for set_temperature.", UIHint = UIHints.SingleLine, Order = 3)]
    public Input<object?> Value { get; set; } = new((object?)null);

    /// <summary>Who asks; checked against the device's permitted users for high-risk commands.</summary>
    [Input(Description = "Who asks (the channel's user id); high-risk commands need a permitted user.", Order = 4)]
    public Input<string> UserId { get; set; } = new("");

    /// <summary>The channel the request came through (audited).</summary>
    [Input(Description = "The channel the request came through, e.g. telegram (audited).", Order = 5)]
    public Input<string> Channel { get; set; } = new("");

    /// <summary>True when the user confirmed a high-risk command.</summary>
    [Input(Description = "True when the user confirmed a high-risk command (e.g. unlocking a door).", UIHint = UIHints.Checkbox, Order = 6)]
    public Input<bool> Confirmed { get; set; } = new(false);

    /// <summary>How long to wait for the acknowledgement.</summary>
    [Input(Description = "How long to wait for the device's acknowledgement, e.g. 00:00:05 (default 5 s).", Order = 7)]
    public Input<TimeSpan> Timeout { get; set; } = new(TimeSpan.FromSeconds(5));

    /// <summary>The language of <see cref="Message"/> and <see cref="Choices"/>: <c>auto</c> (the conversation's), <c>en</c> or <c>zh</c>.</summary>
    [Input(Description = "The language of Message and Choices: auto (the language of the conversation, detected per message or set by the channel), en or zh.",
        UIHint = UIHints.DropDown, Options = [DeviceLanguages.Auto, DeviceLanguages.English, DeviceLanguages.Chinese], Order = 8)]
    public Input<string> Language { get; set; } = new(DeviceLanguages.Auto);

    /// <summary>The device (id, name, room, type, capabilities…), or null when none matched.</summary>
    [Output(Description = "The device (id, name, room, type, capabilities…).")]
    public Output<Dictionary<string, object?>?> Device { get; set; } = new();

    /// <summary>The state the device reported (Done), else the last known state.</summary>
    [Output(Description = "The state the device reported, e.g. {\"on\": true}.")]
    public Output<IReadOnlyDictionary<string, object?>?> State { get; set; } = new();

    /// <summary>A sentence to reply with, e.g. "The kitchen light is on."</summary>
    [Output(Description = "A sentence to reply with, e.g. \"The kitchen light is on.\"")]
    public Output<string> Message { get; set; } = new();

    /// <summary>
    /// The names of the devices that matched equally well when the outcome is UnknownDevice because the request is ambiguous,
    /// e.g. <c>["Bedroom light", "Kitchen light"]</c> for "the light"; empty when the device is simply unknown, and on every
    /// other outcome. A workflow tells "which one?" from "unknown" by its length and offers the names as quick replies.
    /// </summary>
    [Output(Description = "On UnknownDevice: the names of the devices that matched equally well (ambiguous, e.g. [\"Bedroom light\", \"Kitchen light\"]); empty when the device is unknown.")]
    public Output<List<string>> Candidates { get; set; } = new();

    /// <summary>
    /// The same devices as <see cref="Candidates"/>, named in the reply language for quick replies (<c>["卧室的灯", "厨房的灯"]</c> in
    /// Chinese, the names in English); empty when there is nothing to choose.
    /// </summary>
    [Output(Description = "On UnknownDevice (ambiguous): the devices to choose from, named in the reply language, for quick replies (e.g. [\"卧室的灯\", \"厨房的灯\"]); empty otherwise.")]
    public Output<List<string>> Choices { get; set; } = new();

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var service = context.GetRequiredService<DeviceCommandService>();
        var language = DeviceLanguages.Resolve(context, Language.Get(context));
        var timeout = Timeout.Get(context) is var t && t > TimeSpan.Zero ? t : TimeSpan.FromSeconds(5);
        // The actor comes from the host (the channel user of the message that started the workflow, or the API caller), never from
        // the workflow's input. A channel user is also the user checked against the device's permitted users, whatever UserId says.
        var actor = context.GetActor();
        var userId = actor is { Kind: AuditActorKinds.Channel } channelUser ? channelUser.Name : Blank(UserId.Get(context));
        DeviceCommandResult result;
        try
        {
            result = await service.ExecuteAsync(new DeviceCommandRequest
            {
                Device = DeviceName.Get(context), Room = Room.Get(context), Command = Command.Get(context) ?? "", Value = Value.Get(context),
                UserId = userId, Channel = Blank(Channel.Get(context)), Confirmed = Confirmed.Get(context), Timeout = timeout,
                WorkflowInstanceId = context.WorkflowInstanceId, Actor = actor?.Name, ActorKind = actor?.Kind, Language = language,
            }, context.CancellationToken);
        }
        catch (MqttNotConfiguredException e)
        {
            throw new ActivityFaultException(FaultCodes.Configuration, e.Message, nonRetryable: true, e);
        }
        Device.Set(context, DeviceJson.ToPlain(result.Device));
        State.Set(context, result.State);
        Message.Set(context, result.Message);
        Candidates.Set(context, result.Candidates.Select(d => d.Name).ToList());
        Choices.Set(context, DeviceCommandService.ChoiceLabels(result.Candidates, language));
        context.AddJournalData("command", result.Command);
        if (result.CorrelationId is not null) context.AddJournalData("correlationId", result.CorrelationId);
        context.Complete(result.Outcome.ToString());
    }

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}

/// <summary>
/// Reads a device's state: the cached one (from retained and live state messages), or the retained message of its state
/// topic. The device is chosen like in <see cref="ControlDevice"/>.
/// </summary>
[Activity("Platform", "Devices", "Reads the last known state of a device.", Kind = ActivityKind.Task)]
[FlowNode("Done", "UnknownDevice")]
public sealed class GetDeviceState : Activity
{
    /// <summary>The device: its id, name, an alias or its type.</summary>
    [Input(Description = "The device: its id, name, an alias or its type (e.g. \"thermometer\").", Order = 0)]
    public Input<string> DeviceName { get; set; } = new("");

    /// <summary>The room, to tell devices of the same name or type apart.</summary>
    [Input(Description = "The room (e.g. \"bedroom\"); optional, narrows the device.", Order = 1)]
    public Input<string> Room { get; set; } = new("");

    /// <summary>How long to wait for a retained state message when none is cached.</summary>
    [Input(Description = "How long to wait for the device's retained state when none is cached (default 1 s).", Order = 2)]
    public Input<TimeSpan> Timeout { get; set; } = new(TimeSpan.FromSeconds(1));

    /// <summary>The language of <see cref="Message"/> and <see cref="Choices"/>: <c>auto</c> (the conversation's), <c>en</c> or <c>zh</c>.</summary>
    [Input(Description = "The language of Message and Choices: auto (the language of the conversation, detected per message or set by the channel), en or zh.",
        UIHint = UIHints.DropDown, Options = [DeviceLanguages.Auto, DeviceLanguages.English, DeviceLanguages.Chinese], Order = 3)]
    public Input<string> Language { get; set; } = new(DeviceLanguages.Auto);

    /// <summary>The device, or null when none matched.</summary>
    [Output(Description = "The device (id, name, room, type, capabilities…).")]
    public Output<Dictionary<string, object?>?> Device { get; set; } = new();

    /// <summary>The state, or null when none is known.</summary>
    [Output(Description = "The last known state, e.g. {\"temperature\": 21.5}, or null.")]
    public Output<IReadOnlyDictionary<string, object?>?> State { get; set; } = new();

    /// <summary>A sentence, e.g. "The temperature sensor reads 21.5 °C."</summary>
    [Output(Description = "A sentence to reply with, e.g. \"The temperature sensor reads 21.5 °C.\"")]
    public Output<string> Message { get; set; } = new();

    /// <summary>
    /// The names of the devices that matched equally well when the outcome is UnknownDevice because the request is ambiguous,
    /// as in <see cref="ControlDevice.Candidates"/>; empty when the device is unknown or found.
    /// </summary>
    [Output(Description = "On UnknownDevice: the names of the devices that matched equally well (ambiguous, e.g. [\"Bedroom light\", \"Kitchen light\"]); empty when the device is unknown.")]
    public Output<List<string>> Candidates { get; set; } = new();

    /// <summary>The same devices as <see cref="Candidates"/>, named in the reply language for quick replies; empty otherwise.</summary>
    [Output(Description = "On UnknownDevice (ambiguous): the devices to choose from, named in the reply language, for quick replies (e.g. [\"卧室的灯\", \"厨房的灯\"]); empty otherwise.")]
    public Output<List<string>> Choices { get; set; } = new();

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var service = context.GetRequiredService<DeviceCommandService>();
        var language = DeviceLanguages.Resolve(context, Language.Get(context));
        var name = DeviceName.Get(context);
        var room = Room.Get(context);
        var match = await service.ResolveAsync(name, room, context.CancellationToken);
        if (match.Device is not { } device)
        {
            Device.Set(context, null);
            State.Set(context, null);
            Message.Set(context, await service.UnknownDeviceMessageAsync(name, room, match, language, context.CancellationToken));
            Candidates.Set(context, match.Choices.Select(d => d.Name).ToList());
            Choices.Set(context, DeviceCommandService.ChoiceLabels(match.Choices, language));
            context.Complete("UnknownDevice");
            return;
        }
        var wait = Timeout.Get(context) is var t && t >= TimeSpan.Zero ? t : TimeSpan.FromSeconds(1);
        DeviceState? state;
        try { state = await service.GetStateAsync(device, wait, context.CancellationToken); }
        catch (MqttNotConfiguredException) { state = null; }
        Device.Set(context, DeviceJson.ToPlain(device));
        State.Set(context, state?.Values);
        Message.Set(context, DeviceCommandService.DescribeState(device, state?.Values, language));
        Candidates.Set(context, []);
        Choices.Set(context, []);
        context.Complete("Done");
    }
}
