namespace Platform.Activities.Devices;

/// <summary>The device activities: <see cref="ControlDevice"/> and <see cref="GetDeviceState"/> over the device registry.</summary>
public sealed class DevicesPack : IActivityPack
{
    /// <inheritdoc />
    public string Name => "Devices";
}
