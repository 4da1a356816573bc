namespace Platform.Activities.Devices;

/// <summary>
/// The reply languages of the device activities' sentences (<see cref="ControlDevice"/>, <see cref="GetDeviceState"/>):
/// English (<c>en</c>) and Chinese (<c>zh</c>).
/// </summary>
public static class DeviceLanguages
{
    /// <summary>English.</summary>
    public const string English = "en";

    /// <summary>Chinese (simplified).</summary>
    public const string Chinese = "zh";

    /// <summary>The language input's value that means "the conversation's language".</summary>
    public const string Auto = "auto";

    /// <summary>
    /// <c>zh</c> or <c>en</c> for a language name (zh, zh-CN, zh-Hans, chinese, 中文 / en, en-US, english); null for anything
    /// else, including empty and <c>auto</c>.
    /// </summary>
    public static string? Normalize(string? value)
    {
        var v = value?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(v)) return null;
        if (v.StartsWith("zh", StringComparison.Ordinal) || v is "chinese" or "中文" or "cn") return Chinese;
        if (v.StartsWith("en", StringComparison.Ordinal) || v is "english") return English;
        return null;
    }

    /// <summary>
    /// The language an activity answers in: <paramref name="configured"/> when it names one, else the conversation's (detected
    /// per message by Message Received / Wait For Message, or fixed by the channel's <c>language</c> setting), else English.
    /// </summary>
    public static string Resolve(ActivityExecutionContext context, string? configured)
    {
        ArgumentNullException.ThrowIfNull(context);
        return Normalize(configured) ?? Normalize(context.GetIncomingMessageLanguage()) ?? English;
    }
}

/// <summary>
/// The sentences of device results in one language. <see cref="For"/> gives the English or the Chinese set; the English
/// sentences are those of <see cref="DeviceSentences"/>.
/// </summary>
internal abstract class DeviceText
{
    public static readonly DeviceText English = new EnglishDeviceText();
    public static readonly DeviceText Chinese = new ChineseDeviceText();

    public static DeviceText For(string? language) => DeviceLanguages.Normalize(language) == DeviceLanguages.Chinese ? Chinese : English;

    /// <summary>How a quick reply or a list names the device ("Kitchen light" / "厨房的灯").</summary>
    public abstract string Label(Device device);
    /// <summary>A sentence about the state; after a command in Chinese it acknowledges ("好的，…已打开。").</summary>
    public abstract string? Describe(Device device, IReadOnlyDictionary<string, object?>? state, bool afterCommand);
    public abstract string NoState(Device device);
    public abstract string WhichCommand(Device device, string supported);
    public abstract string CannotDo(Device device, string command, string supported);
    public abstract string Supported(IReadOnlyList<string> commands);
    public abstract string LevelProblem(Device device, object? raw);
    public abstract string TemperatureProblem(Device device, object? raw);
    public abstract string NeedsUser(Device device, string command);
    public abstract string NotAllowed(Device device, string command);
    public abstract string Confirm(Device device, string command);
    public abstract string NoAnswer(Device device, string seconds);
    public abstract string BrokerUnreachable(Device device, string? endpoint);
    public abstract string NoHttpEndpoint(Device device);
    public abstract string HttpRefused(Device device, string command, int status, string reason);
    public abstract string HttpUnreachable(Device device, string authority, string error);
    public abstract string DeviceRefused(Device device, string command, object error);
    public abstract string Did(Device device, string command);
    public abstract string WhichOne(IReadOnlyList<Device> candidates);
    public abstract string Unknown(string? text, string? room);
    public abstract string CanControl(string sentence, IReadOnlyList<Device> devices);
    public abstract string NoDevices(string sentence);

    protected static string Number(double value) => DeviceSentences.Format(value);

    private sealed class EnglishDeviceText : DeviceText
    {
        public override string Label(Device device) => device.Name;
        public override string? Describe(Device device, IReadOnlyDictionary<string, object?>? state, bool afterCommand) => DeviceSentences.Describe(device, state);
        public override string NoState(Device device) => $"I have no state for {DeviceSentences.Named(device)} yet.";
        public override string WhichCommand(Device device, string supported) => $"Which command for {DeviceSentences.Named(device)}? {supported}";
        public override string CannotDo(Device device, string command, string supported) => $"{DeviceSentences.Subject(device)} cannot do '{command}'. {supported}";
        public override string Supported(IReadOnlyList<string> commands) =>
            commands.Count == 0 ? "It accepts no commands; it only reports its state." : $"It supports: {string.Join(", ", commands)}.";
        public override string LevelProblem(Device device, object? raw) =>
            $"Which level for {DeviceSentences.Named(device)}? Give a number from 0 to 100 (%), not '{raw}'.";
        public override string TemperatureProblem(Device device, object? raw) =>
            $"Which temperature for {DeviceSentences.Named(device)}? Give a number from 5 to 35 (°C), not '{raw}'.";
        public override string NeedsUser(Device device, string command) => $"I cannot {Verb(command)} {DeviceSentences.Named(device)} without knowing who asks.";
        public override string NotAllowed(Device device, string command) => $"You are not allowed to {Verb(command)} {DeviceSentences.Named(device)}.";
        public override string Confirm(Device device, string command) => $"Do you really want to {Verb(command)} {DeviceSentences.Named(device)}? Please confirm.";
        public override string NoAnswer(Device device, string seconds) => $"{DeviceSentences.Subject(device)} did not answer within {seconds} s. It may be offline.";
        public override string BrokerUnreachable(Device device, string? endpoint) =>
            $"I cannot reach {DeviceSentences.Named(device)}: the MQTT broker at {endpoint} is not reachable.";
        public override string NoHttpEndpoint(Device device) =>
            $"{DeviceSentences.Subject(device)} has no valid HTTP endpoint; set transport.url under /api/devices/{device.Id}.";
        public override string HttpRefused(Device device, string command, int status, string reason) =>
            $"{DeviceSentences.Subject(device)} refused '{command}' (HTTP {status}){(reason.Length > 0 ? ": " + reason : "")}.";
        public override string HttpUnreachable(Device device, string authority, string error) => $"I cannot reach {DeviceSentences.Named(device)} at {authority} ({error}).";
        public override string DeviceRefused(Device device, string command, object error) => $"{DeviceSentences.Subject(device)} refused '{command}': {error}.";
        public override string Did(Device device, string command) => $"{DeviceSentences.Subject(device)} did '{command}'.";
        public override string WhichOne(IReadOnlyList<Device> candidates) =>
            $"Which one do you mean: {string.Join(" or ", candidates.Select(d => DeviceSentences.Named(d) + RoomUnlessNamed(d)))}?";
        public override string Unknown(string? text, string? room)
        {
            var what = string.IsNullOrWhiteSpace(text) ? "a device" : $"a device called '{text.Trim()}'";
            return string.IsNullOrWhiteSpace(room)
                ? string.IsNullOrWhiteSpace(text) ? "I don't know which device you mean." : $"I don't know {what}."
                : $"I don't know {what} in the {room.Trim()}.";
        }
        public override string CanControl(string sentence, IReadOnlyList<Device> devices) =>
            $"{sentence} I can control: {string.Join(", ", devices.Select(d => d.Name + (string.IsNullOrWhiteSpace(d.Room) ? "" : $" ({d.Room})")))}.";
        public override string NoDevices(string sentence) => sentence + " No devices are registered yet.";

        private static string RoomUnlessNamed(Device d) =>
            string.IsNullOrWhiteSpace(d.Room) || DeviceResolver.Normalize(d.Name).Contains(DeviceResolver.Normalize(d.Room), StringComparison.Ordinal) ? "" : $" ({d.Room})";

        private static string Verb(string command) => command switch
        {
            DeviceCommands.On => "switch on",
            DeviceCommands.Off => "switch off",
            DeviceCommands.SetLevel => "set the level of",
            DeviceCommands.SetTemperature => "set the temperature of",
            _ => command.Replace('_', ' '),
        };
    }

    private sealed class ChineseDeviceText : DeviceText
    {
        public override string Label(Device device) => ChineseNames.Of(device);

        public override string? Describe(Device device, IReadOnlyDictionary<string, object?>? state, bool afterCommand)
        {
            if (state is null || state.Count == 0) return null;
            var n = ChineseNames.Of(device);
            var ok = afterCommand ? "好的，" : "";
            var type = device.Type.ToLowerInvariant();
            if (DeviceSentences.Bool(state, "locked") is { } locked) return $"{ok}{n}{(locked ? "已上锁" : "已解锁")}。";
            if (type == DeviceTypes.Thermostat || device.Can(DeviceCapabilities.Temperature))
            {
                var target = DeviceSentences.Number(state, "target") ?? DeviceSentences.Number(state, "setpoint") ?? DeviceSentences.Number(state, "target_temperature");
                var current = DeviceSentences.Number(state, "temperature");
                if (target is not null)
                    return current is not null
                        ? $"{ok}{n}设定为 {Number(target.Value)} °C，现在 {Number(current.Value)} °C。"
                        : $"{ok}{n}设定为 {Number(target.Value)} °C。";
            }
            if (type == DeviceTypes.Sensor || device.Can(DeviceCapabilities.Sensor))
            {
                var parts = new List<string>();
                if (DeviceSentences.Number(state, "temperature") is { } temperature) parts.Add($"{Number(temperature)} °C");
                if (DeviceSentences.Number(state, "humidity") is { } humidity) parts.Add($"湿度 {Number(humidity)}%");
                if (parts.Count > 0) return $"{n}显示 {string.Join("，", parts)}。";
            }
            var on = DeviceSentences.Bool(state, "on") ?? DeviceSentences.Bool(state, "state") ?? DeviceSentences.Bool(state, "power") ?? DeviceSentences.Bool(state, "value");
            var level = DeviceSentences.Number(state, "level") ?? DeviceSentences.Number(state, "brightness");
            if (on is true && level is not null && device.Can(DeviceCapabilities.Level))
                return afterCommand ? $"好的，{n}已打开，亮度 {Number(level.Value)}%。" : $"{n}开着，亮度 {Number(level.Value)}%。";
            if (on is not null)
                return afterCommand ? $"好的，{n}{(on.Value ? "已打开" : "已关闭")}。" : $"{n}{(on.Value ? "开着" : "关着")}。";
            if (level is not null) return $"{ok}{n}的亮度是 {Number(level.Value)}%。";
            if (state.TryGetValue("value", out var v) && v is not null) return $"{n}报告：{v}。";
            return null;
        }

        public override string NoState(Device device) => $"我还不知道{ChineseNames.Of(device)}的状态。";
        public override string WhichCommand(Device device, string supported) => $"要对{ChineseNames.Of(device)}做什么？{supported}";
        public override string CannotDo(Device device, string command, string supported) => $"{ChineseNames.Of(device)}不能执行“{command}”。{supported}";
        public override string Supported(IReadOnlyList<string> commands) =>
            commands.Count == 0 ? "它不接受命令，只报告状态。" : $"它支持：{string.Join("、", commands)}。";
        public override string LevelProblem(Device device, object? raw) =>
            $"{ChineseNames.Of(device)}要调到多少？请给出 0 到 100 之间的数（%），而不是“{raw}”。";
        public override string TemperatureProblem(Device device, object? raw) =>
            $"{ChineseNames.Of(device)}要设定为多少度？请给出 5 到 35 之间的数（°C），而不是“{raw}”。";
        public override string NeedsUser(Device device, string command) => $"不知道是谁在请求，我不能{Verb(command)}{ChineseNames.Of(device)}。";
        public override string NotAllowed(Device device, string command) => $"你没有权限{Verb(command)}{ChineseNames.Of(device)}。";
        public override string Confirm(Device device, string command) => $"你确定要{Verb(command)}{ChineseNames.Of(device)}吗？请确认。";
        public override string NoAnswer(Device device, string seconds) => $"{ChineseNames.Of(device)}在 {seconds} 秒内没有回应，可能离线了。";
        public override string BrokerUnreachable(Device device, string? endpoint) => $"我连不上{ChineseNames.Of(device)}：MQTT 代理 {endpoint} 无法访问。";
        public override string NoHttpEndpoint(Device device) => $"{ChineseNames.Of(device)}没有有效的 HTTP 地址；请在 /api/devices/{device.Id} 设置 transport.url。";
        public override string HttpRefused(Device device, string command, int status, string reason) =>
            $"{ChineseNames.Of(device)}拒绝了“{command}”（HTTP {status}）{(reason.Length > 0 ? "：" + reason : "")}。";
        public override string HttpUnreachable(Device device, string authority, string error) => $"我连不上{ChineseNames.Of(device)}（{authority}）：{error}。";
        public override string DeviceRefused(Device device, string command, object error) => $"{ChineseNames.Of(device)}拒绝了“{command}”：{error}。";
        public override string Did(Device device, string command) => $"好的，{ChineseNames.Of(device)}已执行“{command}”。";

        public override string WhichOne(IReadOnlyList<Device> candidates)
        {
            var names = candidates.Select(d => ChineseNames.Of(d) + RoomUnlessNamed(d)).ToList();
            var list = names.Count == 1 ? names[0] : string.Join("、", names.Take(names.Count - 1)) + "还是" + names[^1];
            return $"你指的是哪一个：{list}？";
        }

        public override string Unknown(string? text, string? room)
        {
            var hasText = !string.IsNullOrWhiteSpace(text);
            if (string.IsNullOrWhiteSpace(room)) return hasText ? $"我不知道叫“{text!.Trim()}”的设备。" : "我不知道你指的是哪个设备。";
            var r = ChineseNames.Room(room);
            return hasText ? $"{r}里没有叫“{text!.Trim()}”的设备。" : $"我不知道你指的是{r}里的哪个设备。";
        }

        public override string CanControl(string sentence, IReadOnlyList<Device> devices) =>
            $"{sentence}我可以控制：{string.Join("、", devices.Select(d => ChineseNames.Of(d) + RoomUnlessNamed(d)))}。";

        public override string NoDevices(string sentence) => sentence + "还没有登记任何设备。";

        private static string RoomUnlessNamed(Device d)
        {
            if (string.IsNullOrWhiteSpace(d.Room)) return "";
            var room = ChineseNames.Room(d.Room);
            return ChineseNames.Of(d).Contains(room, StringComparison.Ordinal) ? "" : $"（{room}）";
        }

        private static string Verb(string command) => command switch
        {
            DeviceCommands.On => "打开",
            DeviceCommands.Off => "关闭",
            DeviceCommands.Toggle => "切换",
            DeviceCommands.SetLevel => "调节",
            DeviceCommands.SetTemperature => "设定",
            DeviceCommands.Lock => "锁上",
            DeviceCommands.Unlock => "解锁",
            _ => command.Replace('_', ' '),
        };
    }
}

/// <summary>
/// Chinese names of devices and rooms: a device's first alias written in Chinese (add one under <c>/api/devices</c>, e.g.
/// "书房的台灯"), else its English name read with a small dictionary of common rooms and devices ("Kitchen light" → 厨房的灯,
/// "Temperature sensor" → 温度传感器), else the name as it is.
/// </summary>
public static class ChineseNames
{
    private static readonly Dictionary<string, string> Rooms = new(StringComparer.Ordinal)
    {
        ["kitchen"] = "厨房", ["bedroom"] = "卧室", ["master bedroom"] = "主卧", ["living room"] = "客厅", ["lounge"] = "客厅",
        ["hall"] = "门厅", ["hallway"] = "走廊", ["corridor"] = "走廊", ["bathroom"] = "浴室", ["toilet"] = "卫生间", ["office"] = "办公室",
        ["study"] = "书房", ["garage"] = "车库", ["garden"] = "花园", ["dining room"] = "餐厅", ["balcony"] = "阳台",
        ["kids room"] = "儿童房", ["guest room"] = "客房", ["basement"] = "地下室", ["laundry"] = "洗衣房", ["entrance"] = "玄关",
    };

    private static readonly Dictionary<string, string> Things = new(StringComparer.Ordinal)
    {
        ["light"] = "灯", ["lights"] = "灯", ["lamp"] = "灯", ["ceiling light"] = "吊灯", ["desk lamp"] = "台灯", ["dimmer"] = "调光灯",
        ["switch"] = "开关", ["plug"] = "插座", ["socket"] = "插座", ["thermostat"] = "温控器", ["heating"] = "暖气", ["heater"] = "暖气",
        ["air conditioner"] = "空调", ["air conditioning"] = "空调", ["ac"] = "空调", ["fan"] = "风扇", ["lock"] = "门锁",
        ["door lock"] = "门锁", ["front door lock"] = "前门的门锁", ["front door"] = "前门", ["back door"] = "后门", ["door"] = "门",
        ["sensor"] = "传感器", ["temperature sensor"] = "温度传感器", ["thermometer"] = "温度计", ["humidity sensor"] = "湿度传感器",
        ["motion sensor"] = "人体传感器", ["camera"] = "摄像头", ["tv"] = "电视", ["television"] = "电视", ["curtains"] = "窗帘",
        ["curtain"] = "窗帘", ["blinds"] = "百叶窗", ["speaker"] = "音箱", ["kettle"] = "电水壶", ["washing machine"] = "洗衣机",
    };

    /// <summary>The device's Chinese name (see the class).</summary>
    public static string Of(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Aliases.FirstOrDefault(HasCjk) is { } alias) return alias.Trim();
        if (HasCjk(device.Name)) return device.Name.Trim();
        var name = DeviceResolver.Normalize(device.Name);
        if (Things.TryGetValue(name, out var thing)) return thing;
        foreach (var (room, zh) in Rooms.OrderByDescending(r => r.Key.Length))
        {
            if (!name.StartsWith(room + " ", StringComparison.Ordinal)) continue;
            var rest = name[(room.Length + 1)..];
            return Things.TryGetValue(rest, out var t) ? zh + "的" + t : device.Name.Trim();
        }
        return device.Name.Trim();
    }

    /// <summary>A room's Chinese name ("kitchen" → 厨房), or the room as it is.</summary>
    public static string Room(string room)
    {
        ArgumentNullException.ThrowIfNull(room);
        return HasCjk(room) ? room.Trim() : Rooms.GetValueOrDefault(DeviceResolver.Normalize(room), room.Trim());
    }

    private static bool HasCjk(string? s) => s is not null && s.Any(c => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF');
}
