using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Activities;

namespace Platform.Activities.Devices;

/// <summary>Stores the device registry.</summary>
public interface IDeviceStore
{
    /// <summary>All devices, by id.</summary>
    Task<IReadOnlyList<Device>> ListAsync(CancellationToken ct = default);
    /// <summary>One device (case-insensitive id), or null.</summary>
    Task<Device?> FindAsync(string id, CancellationToken ct = default);
    /// <summary>Adds or replaces a device.</summary>
    Task SaveAsync(Device device, CancellationToken ct = default);
    /// <summary>Deletes a device; false when unknown.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken ct = default);
    /// <summary>Raised after a device was saved or deleted.</summary>
    event EventHandler? Changed;
}

/// <summary>
/// The registry in one JSON file (<c>devices.json</c> in the data directory). When the file does not exist yet, the
/// <c>seed</c> devices are written to it on first use. Thread-safe within the process; writes replace the file atomically.
/// </summary>
public sealed class JsonFileDeviceStore : IDeviceStore
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true, Converters = { new JsonStringEnumConverter() }, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly string _path;
    private readonly IReadOnlyList<Device> _seed;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Dictionary<string, Device>? _cache;

    /// <summary>Creates the store.</summary>
    /// <param name="path">The JSON file.</param>
    /// <param name="seed">Devices written when the file does not exist yet (for example <see cref="DemoDevices.Create"/>).</param>
    public JsonFileDeviceStore(string path, IEnumerable<Device>? seed = null)
    {
        _path = path;
        _seed = seed?.ToList() ?? [];
    }

    /// <inheritdoc />
    public event EventHandler? Changed;

    /// <inheritdoc />
    public async Task<IReadOnlyList<Device>> ListAsync(CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try { return (await LoadAsync(ct).ConfigureAwait(false)).Values.OrderBy(d => d.Id, StringComparer.OrdinalIgnoreCase).ToList(); }
        finally { _gate.Release(); }
    }

    /// <inheritdoc />
    public async Task<Device?> FindAsync(string id, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try { return (await LoadAsync(ct).ConfigureAwait(false)).GetValueOrDefault(id ?? ""); }
        finally { _gate.Release(); }
    }

    /// <inheritdoc />
    public async Task SaveAsync(Device device, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!Device.IsValidId(device.Id)) throw new ArgumentException($"'{device.Id}' is not a valid device id.", nameof(device));
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var copy = new Dictionary<string, Device>(await LoadAsync(ct).ConfigureAwait(false), StringComparer.OrdinalIgnoreCase);
            copy.Remove(device.Id); // keeps the new spelling of the id
            copy[device.Id] = device;
            await WriteAsync(copy, ct).ConfigureAwait(false);
            _cache = copy;
        }
        finally { _gate.Release(); }
        Changed?.Invoke(this, EventArgs.Empty);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string id, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var all = await LoadAsync(ct).ConfigureAwait(false);
            if (!all.ContainsKey(id ?? "")) return false;
            var copy = new Dictionary<string, Device>(all, StringComparer.OrdinalIgnoreCase);
            copy.Remove(id!);
            await WriteAsync(copy, ct).ConfigureAwait(false);
            _cache = copy;
        }
        finally { _gate.Release(); }
        Changed?.Invoke(this, EventArgs.Empty);
        return true;
    }

    private async Task<Dictionary<string, Device>> LoadAsync(CancellationToken ct)
    {
        if (_cache is not null) return _cache;
        var result = new Dictionary<string, Device>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(_path))
        {
            await using var stream = File.OpenRead(_path);
            try
            {
                foreach (var d in await JsonSerializer.DeserializeAsync<List<Device>>(stream, Json, ct).ConfigureAwait(false) ?? [])
                    result[d.Id] = d;
            }
            catch (JsonException e)
            {
                throw new InvalidOperationException($"The device registry '{_path}' is not valid JSON ({e.Message}). Fix or delete the file; " +
                                                    "deleting it brings back the demo devices of the embedded default.", e);
            }
        }
        else if (_seed.Count > 0)
        {
            foreach (var d in _seed) result[d.Id] = d;
            await WriteAsync(result, ct).ConfigureAwait(false);
        }
        return _cache = result;
    }

    private async Task WriteAsync(Dictionary<string, Device> all, CancellationToken ct)
    {
        var stored = all.Values.OrderBy(d => d.Id, StringComparer.OrdinalIgnoreCase).ToList();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_path))!);
        var temp = _path + ".tmp";
        await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
            await JsonSerializer.SerializeAsync(stream, stored, Json, ct).ConfigureAwait(false);
        File.Move(temp, _path, overwrite: true);
    }
}

/// <summary>The demo devices seeded on first start of the embedded default.</summary>
public static class DemoDevices
{
    /// <summary>The user id permitted to unlock the demo front door lock.</summary>
    public const string DemoOwner = "owner";

    /// <summary>
    /// Kitchen light, bedroom light, living room dimmer, thermostat, front door lock (high-risk) and temperature sensor.
    /// The two lights make "the light" ambiguous, so the seed assistant asks which one is meant.
    /// </summary>
    public static IReadOnlyList<Device> Create(DateTimeOffset now) =>
    [
        new() { Id = "kitchen-light", Name = "Kitchen light", Room = "kitchen", Type = DeviceTypes.Light, Aliases = ["kitchen lamp"], CreatedAt = now, UpdatedAt = now },
        new() { Id = "bedroom-light", Name = "Bedroom light", Room = "bedroom", Type = DeviceTypes.Light, Aliases = ["bedroom lamp"], CreatedAt = now, UpdatedAt = now },
        new()
        {
            Id = "living-room-dimmer", Name = "Living room dimmer", Room = "living room", Type = DeviceTypes.Dimmer,
            Aliases = ["living room light", "living room lamp"], CreatedAt = now, UpdatedAt = now,
        },
        new() { Id = "thermostat", Name = "Thermostat", Room = "living room", Type = DeviceTypes.Thermostat, Aliases = ["heating"], CreatedAt = now, UpdatedAt = now },
        new()
        {
            Id = "front-door-lock", Name = "Front door lock", Room = "hall", Type = DeviceTypes.Lock, Aliases = ["front door", "door lock"],
            HighRisk = true, HighRiskCommands = [DeviceCommands.Unlock], PermittedUsers = [DemoOwner], CreatedAt = now, UpdatedAt = now,
        },
        new()
        {
            Id = "temperature-sensor", Name = "Temperature sensor", Room = "bedroom", Type = DeviceTypes.Sensor, Aliases = ["thermometer"],
            CreatedAt = now, UpdatedAt = now,
        },
    ];
}

/// <summary>
/// The device registry shared by all server nodes: kept as <see cref="IConfigurationDocuments"/> of kind <see cref="Kind"/> (the
/// host stores them in the platform database) and held in memory, so controlling a device never queries the database for it.
/// Changes made by other nodes are picked up every refresh interval and raise <see cref="Changed"/>, like local saves.
/// </summary>
public sealed class DocumentDeviceStore : IDeviceStore, IDisposable
{
    /// <summary>The document kind of devices.</summary>
    public const string Kind = "devices";

    private readonly ConfigurationDocumentCache<Device> _cache;

    /// <summary>Creates the store.</summary>
    /// <param name="documents">The shared documents.</param>
    /// <param name="refreshInterval">How often other nodes' changes are looked for (zero: never).</param>
    /// <param name="logger">Logs devices that cannot be read.</param>
    public DocumentDeviceStore(IConfigurationDocuments documents, TimeSpan refreshInterval, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        _cache = new ConfigurationDocumentCache<Device>(documents, Kind, d => d.Id, d => JsonSerializer.Serialize(d, JsonFileDeviceStore.Json),
            json => JsonSerializer.Deserialize<Device>(json, JsonFileDeviceStore.Json) ?? throw new JsonException("The document is null."),
            refreshInterval, logger);
        _cache.Changed += _ => Changed?.Invoke(this, EventArgs.Empty);
    }

    /// <inheritdoc />
    public event EventHandler? Changed;

    /// <inheritdoc />
    public Task<IReadOnlyList<Device>> ListAsync(CancellationToken ct = default) => _cache.ListAsync(ct);

    /// <inheritdoc />
    public Task<Device?> FindAsync(string id, CancellationToken ct = default) => _cache.FindAsync(id, ct);

    /// <inheritdoc />
    public Task SaveAsync(Device device, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!Device.IsValidId(device.Id)) throw new ArgumentException($"'{device.Id}' is not a valid device id.", nameof(device));
        return _cache.SaveAsync(device, ct);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string id, CancellationToken ct = default) => _cache.DeleteAsync(id, ct);

    /// <summary>Looks for changes made by other nodes now.</summary>
    public Task RefreshAsync(CancellationToken ct = default) => _cache.RefreshAsync(ct);

    /// <inheritdoc />
    public void Dispose() => _cache.Dispose();
}
