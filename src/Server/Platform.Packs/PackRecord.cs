using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Packs;

/// <summary>
/// An installed pack as stored in the platform database (configuration documents of kind <see cref="Kind"/>, id = pack id),
/// so every node loads the same set. The package bytes travel with it (base64) and are checked against <see cref="Sha512"/>.
/// </summary>
public sealed record PackRecord
{
    /// <summary>The configuration document kind.</summary>
    public const string Kind = "packs";

    /// <summary>The pack id.</summary>
    public required string Id { get; init; }

    /// <summary>The installed version.</summary>
    public required string Version { get; init; }

    /// <summary>False after disable: the pack stays installed but its activities are not offered nor run.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>SHA-512 of the package, lower-case hex.</summary>
    public required string Sha512 { get; init; }

    /// <summary>When it was installed or upgraded.</summary>
    public DateTimeOffset InstalledAt { get; init; }

    /// <summary>Who installed it (API key name, or <c>drop-folder</c>).</summary>
    public string? InstalledBy { get; init; }

    /// <summary>Where it came from: <c>upload</c>, <c>feed:&lt;source&gt;</c> or <c>drop-folder</c>.</summary>
    public string? Source { get; init; }

    /// <summary>SHA-256 fingerprint of the certificate whose signature was verified on install; null when signatures are not required.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SignerFingerprint { get; init; }

    /// <summary>The subject of that certificate.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? SignerSubject { get; init; }

    /// <summary>The .nupkg, base64.</summary>
    public required string Package { get; init; }

    internal string ToJson() => JsonSerializer.Serialize(this, PackManifest.Json);

    internal static PackRecord FromJson(string json) => JsonSerializer.Deserialize<PackRecord>(json, PackManifest.Json)
        ?? throw new InvalidDataException("An empty pack record.");
}

/// <summary>A pack as listed by <c>GET /api/packs</c>.</summary>
/// <param name="Id">The pack id.</param>
/// <param name="Version">The installed version.</param>
/// <param name="State"><c>Enabled</c>, <c>Disabled</c> or <c>Failed</c> (see <paramref name="Errors"/>).</param>
/// <param name="DisplayName">From the manifest.</param>
/// <param name="Description">From the manifest.</param>
/// <param name="Author">From the manifest.</param>
/// <param name="Sdk">The SDK range from the manifest.</param>
/// <param name="Isolation"><c>shared</c> or <c>process</c>.</param>
/// <param name="Permissions">What the pack may reach.</param>
/// <param name="ActivityTypes">The activity type names it provides while enabled.</param>
/// <param name="Errors">Why it failed to load, each with how to fix it.</param>
/// <param name="Sha512">The package's SHA-512.</param>
/// <param name="InstalledAt">When it was installed or upgraded.</param>
/// <param name="InstalledBy">Who did it.</param>
/// <param name="Source">Where it came from.</param>
/// <param name="SignerFingerprint">SHA-256 fingerprint of the signing certificate verified on install (null when signatures are not required).</param>
/// <param name="SignerSubject">The subject of that certificate.</param>
public sealed record PackInfo(string Id, string Version, string State, string? DisplayName, string? Description, string? Author, string? Sdk,
    string Isolation, PackPermissions Permissions, IReadOnlyList<string> ActivityTypes, IReadOnlyList<string> Errors, string Sha512,
    DateTimeOffset InstalledAt, string? InstalledBy, string? Source, string? SignerFingerprint = null, string? SignerSubject = null);

/// <summary>One change of the installed packs, as audited.</summary>
/// <param name="Action"><c>install</c>, <c>upgrade</c>, <c>enable</c>, <c>disable</c> or <c>remove</c>.</param>
/// <param name="Id">The pack id.</param>
/// <param name="Version">The version installed (or enabled, disabled, removed).</param>
/// <param name="PreviousVersion">The version an upgrade replaced, or null.</param>
/// <param name="By">Who made the change (the principal's name, or <c>drop-folder</c>).</param>
/// <param name="Sha512">The package's SHA-512.</param>
/// <param name="Source">Where the package came from: <c>upload</c>, <c>feed:&lt;url&gt;</c> or <c>drop-folder</c>.</param>
/// <param name="Signer">SHA-256 fingerprint of the verified signing certificate, or null when signatures are not required.</param>
public sealed record PackChange(string Action, string Id, string Version, string? PreviousVersion, string? By, string? Sha512, string? Source,
    string? Signer = null);
