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
}
