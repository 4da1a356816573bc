namespace Platform.Packs;

/// <summary>Settings under <c>Platform:Packs</c>.</summary>
public sealed class PackOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Platform:Packs";

    /// <summary>NuGet v3 feeds (service index URLs) or local folders that <c>POST /api/packs</c> with an id installs from.</summary>
    public List<string> Sources { get; set; } = [];

    /// <summary>
    /// SHA-256 fingerprints (hex; colons, spaces and case are ignored) of the certificates whose signed packages may be installed.
    /// Empty (the default): unsigned packages are accepted (Admin keys decide what to install); set: only packages signed by one
    /// of them install and load, on every node (see <see cref="PackSignatures"/> for the rules).
    /// </summary>
    public List<string> TrustedCertificateFingerprints { get; set; } = [];

    /// <summary>The folder watched for dropped .nupkg files; default <c>&lt;data directory&gt;/packs</c>.</summary>
    public string? DropFolder { get; set; }

    /// <summary>How often the drop folder and the database are looked at; default the configuration refresh interval.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest one call of a <c>shared</c> pack's activity may take: then its <c>context.CancellationToken</c> is cancelled and,
    /// if the activity stops, the call faults (an activity that ignores the token cannot be stopped in-process). Default 30 s.
    /// </summary>
    public TimeSpan SharedCallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Limits and settings of packs with isolation <c>process</c> (<c>Platform:Packs:Process:*</c>).</summary>
    public PackProcessOptions Process { get; set; } = new();
}

/// <summary>Settings under <c>Platform:Packs:Process</c>: the pack host processes of packs with isolation <c>process</c>.</summary>
public sealed class PackProcessOptions
{
    /// <summary>The longest one activity call may take (wall clock); then the host is stopped and the call faults. Default 30 s.</summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most processor time the host may use during one call; then it is stopped and the call faults. Default 20 s.</summary>
    public TimeSpan CpuTimeLimit { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The managed heap limit of a host in MB (<c>DOTNET_GCHeapHardLimit</c>): an allocation beyond it fails with an
    /// OutOfMemoryException in the pack. A host whose working set grows beyond twice this (native memory) is stopped. Default 256.
    /// </summary>
    public int MemoryLimitMb { get; set; } = 256;

    /// <summary>How long a host may take to start and load its pack. Default 30 s.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The <c>dotnet</c> executable that runs hosts; default the one running the server.</summary>
    public string? DotnetPath { get; set; }

    /// <summary>Platform.PackHost.dll; default the one next to the server's assemblies.</summary>
    public string? HostPath { get; set; }
}
