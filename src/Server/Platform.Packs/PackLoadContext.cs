using System.Reflection;
using System.Runtime.Loader;
using Platform.Activities;

namespace Platform.Packs;

/// <summary>
/// One pack version's collectible load context. The SDK (<c>Platform.Activities.Abstractions</c>) and everything the host
/// has loaded or can resolve (the framework, Microsoft.Extensions.*) come from the host, so activities are the host's
/// <see cref="Activity"/> type; the assemblies shipped in the pack are loaded here privately, so two packs can carry
/// different versions of the same library.
/// </summary>
public sealed class PackLoadContext : AssemblyLoadContext
{
    private readonly IReadOnlyDictionary<string, byte[]> _assemblies;

    /// <summary>Creates the context; nothing is loaded yet.</summary>
    public PackLoadContext(string packId, string version, IReadOnlyDictionary<string, byte[]> assemblies)
        : base($"pack:{packId}@{version}", isCollectible: true)
    {
        _assemblies = assemblies;
        PackId = packId;
        Version = version;
        // Disabling, removing or upgrading the pack unloads this context: its pack host process (isolation 'process') stops too.
        Unloading += _ =>
        {
            _unloaded = true;
            Interlocked.Exchange(ref _host, null)?.Dispose();
        };
    }

    private PackProcessHost? _host;
    private volatile bool _unloaded;

    /// <summary>The pack's version.</summary>
    public string Version { get; } = "";

    /// <summary><c>shared</c> (activities run in the server) or <c>process</c> (in a pack host process, <see cref="PackProcessHost"/>).</summary>
    public string Isolation { get; init; } = "shared";

    /// <summary>The pack's assemblies by simple name (what a pack host process loads).</summary>
    internal IReadOnlyDictionary<string, byte[]> PackAssemblies => _assemblies;

    /// <summary>The pack host process of a pack with isolation <c>process</c>, created on first use; stopped when this context unloads.</summary>
    internal PackProcessHost GetOrCreateHost(Func<PackLoadContext, PackProcessHost> create)
    {
        if (Volatile.Read(ref _host) is { } host) return host;
        if (_unloaded)
            throw new ActivityFaultException(FaultCodes.Configuration, $"The pack '{PackId}' {Version} was disabled, removed or upgraded while this call started. Retry the instance.");
        var created = create(this);
        var existing = Interlocked.CompareExchange(ref _host, created, null);
        if (existing is null) return created;
        created.Dispose();
        return existing;
    }

    /// <summary>The pack's id.</summary>
    public string PackId { get; } = "";

    /// <summary>What the pack's manifest permits; the <see cref="PackServiceGate"/> enforces it on the pack's activities.</summary>
    public PackPermissions Permissions { get; init; } = new();

    /// <summary>Loads every assembly of the pack that references the SDK (those hold its activities).</summary>
    public IReadOnlyList<Assembly> LoadActivityAssemblies()
    {
        var list = new List<Assembly>();
        foreach (var name in _assemblies.Keys.Order(StringComparer.OrdinalIgnoreCase))
        {
            var assembly = LoadFromAssemblyName(new AssemblyName(name));
            if (PackSdk.ReferencedVersion(assembly) is not null) list.Add(assembly);
        }
        return list;
    }

    /// <inheritdoc />
    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name is null || string.Equals(assemblyName.Name, PackSdk.AssemblyName, StringComparison.Ordinal)) return null; // shared SDK
        // Private copies first: a pack's own dependency wins over a host's assembly of the same name (it was built against it).
        // Framework assemblies cannot be replaced this way; the runtime always takes them from the host.
        if (_assemblies.TryGetValue(assemblyName.Name, out var image) && !IsFramework(assemblyName.Name))
            return LoadFromStream(new MemoryStream(image, writable: false));
        return null;
    }

    private static bool IsFramework(string name) =>
        name.StartsWith("System.", StringComparison.Ordinal) || name is "System" or "mscorlib" or "netstandard" ||
        name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || name.StartsWith("Microsoft.AspNetCore.", StringComparison.Ordinal);
}
