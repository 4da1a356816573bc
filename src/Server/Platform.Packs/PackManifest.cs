using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using NuGet.Versioning;
using Platform.Activities;

namespace Platform.Packs;

/// <summary>
/// The <c>pack.json</c> manifest at the root of a pack's .nupkg: who made the pack, which SDK versions it runs on, how it is
/// isolated and what it may reach. Permissions default to none.
/// </summary>
public sealed partial record PackManifest
{
    /// <summary>The manifest's file name inside the package.</summary>
    public const string FileName = "pack.json";

    /// <summary>The pack id; equals the NuGet package id.</summary>
    public string Id { get; init; } = "";

    /// <summary>The pack version (SemVer); equals the NuGet package version.</summary>
    public string Version { get; init; } = "";

    /// <summary>The name shown in the Studio.</summary>
    public string? DisplayName { get; init; }

    /// <summary>What the pack does.</summary>
    public string? Description { get; init; }

    /// <summary>Who made it.</summary>
    public string? Author { get; init; }

    /// <summary>The SDK versions it runs on, as a NuGet version range, e.g. <c>[1.0,2.0)</c>. Default: the same major version as the SDK it was built against.</summary>
    public string? Sdk { get; init; }

    /// <summary>
    /// <c>shared</c> (in-process, the default: for trusted packs) or <c>process</c> (its activities run in a pack host process
    /// started by the server, with per-call limits; a crash there faults the call, not the server).
    /// </summary>
    public string Isolation { get; init; } = "shared";

    /// <summary>What the pack may reach.</summary>
    public PackPermissions Permissions { get; init; } = new();

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>Parses and checks a manifest.</summary>
    /// <exception cref="PackException">The manifest is not valid JSON, misses a field or asks for something unsupported; the message says what to fix.</exception>
    public static PackManifest Parse(string json)
    {
        PackManifest? m;
        try
        {
            m = JsonSerializer.Deserialize<PackManifest>(json, Json);
        }
        catch (JsonException e)
        {
            throw PackException.Invalid($"pack.json is not valid: {e.Message}",
                "Fix pack.json: it is a JSON object with id, version, displayName, description, author, sdk and permissions (see docs/packs.md).");
        }
        if (m is null) throw PackException.Invalid("pack.json is empty.", "Write a JSON object with at least id and version.");
        if (!IsValidId(m.Id))
            throw PackException.Invalid($"pack.json's id '{m.Id}' is not valid.", "Use a NuGet package id: letters, digits, '.', '_' or '-', at most 100 characters, e.g. Acme.Weather.");
        if (!NuGetVersion.TryParse(m.Version, out _))
            throw PackException.Invalid($"pack.json's version '{m.Version}' is not a semantic version.", "Use a version such as 1.0.0 (the package version).");
        if (m.Sdk is { Length: > 0 } && !VersionRange.TryParse(m.Sdk, out _))
            throw PackException.Invalid($"pack.json's sdk '{m.Sdk}' is not a version range.", "Use a NuGet version range such as [1.0,2.0) or 1.0 (meaning 1.0 or newer).");
        if (m.Isolation is not ("shared" or "process"))
            throw PackException.Invalid($"pack.json's isolation '{m.Isolation}' is not known.", "Use shared (in-process) or process.");
        m.Permissions.Check();
        return m;
    }

    /// <summary>True for a NuGet-style package id.</summary>
    public static bool IsValidId(string? id) => id is { Length: > 0 and <= 100 } && IdPattern().IsMatch(id);

    /// <summary>True when this host's SDK lies in <see cref="Sdk"/> (or no range is given).</summary>
    public bool AcceptsHostSdk(out string hostSdk)
    {
        hostSdk = $"{PackSdk.HostVersion.Major}.{PackSdk.HostVersion.Minor}.{Math.Max(0, PackSdk.HostVersion.Build)}";
        return Sdk is not { Length: > 0 } || VersionRange.Parse(Sdk).Satisfies(NuGetVersion.Parse(hostSdk));
    }

    [GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")]
    private static partial Regex IdPattern();
}

/// <summary>What a pack may reach. Everything defaults to nothing.</summary>
public sealed record PackPermissions
{
    /// <summary>Outbound network hosts, e.g. <c>api.weather.example</c>, <c>*.example.com</c> or <c>127.0.0.1:8080</c>.</summary>
    public IReadOnlyList<string> Network { get; init; } = [];

    /// <summary>Names of secrets it may read.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    /// <summary>Names of data sources it may query.</summary>
    public IReadOnlyList<string> DataSources { get; init; } = [];

    /// <summary>MQTT topic patterns it may publish or subscribe to (<c>+</c> and <c>#</c> wildcards).</summary>
    public IReadOnlyList<string> Mqtt { get; init; } = [];

    /// <summary>Whether it needs the file system.</summary>
    public bool FileSystem { get; init; }

    internal void Check()
    {
        foreach (var host in Network)
            if (string.IsNullOrWhiteSpace(host) || host.Contains('/') || host.Contains(' '))
                throw PackException.Invalid($"pack.json's network permission '{host}' is not a host.", "List host names (optionally with :port), e.g. api.example.com or *.example.com; no scheme or path.");
        foreach (var (list, what) in new[] { (Secrets, "secret"), (DataSources, "data source"), (Mqtt, "MQTT topic") })
            if (list.Any(string.IsNullOrWhiteSpace))
                throw PackException.Invalid($"pack.json lists an empty {what} name.", $"Remove the empty entry or give the {what} name.");
    }

    /// <summary>True when <paramref name="host"/> (with or without port) is listed in <see cref="Network"/>.</summary>
    public bool AllowsHost(string host, int port) => Platform.PackHost.NetworkPermission.Allows(Network, host, port);
}

/// <summary>A pack that cannot be installed or loaded; <see cref="Fix"/> says what to do.</summary>
public sealed class PackException(string code, string message, string fix) : Exception(message)
{
    /// <summary><c>invalid</c> (bad package or manifest: 400), <c>conflict</c> (409), <c>not-found</c> (404), <c>untrusted</c> (400).</summary>
    public string Code { get; } = code;

    /// <summary>How to fix it.</summary>
    public string Fix { get; } = fix;

    internal static PackException Invalid(string message, string fix) => new("invalid", message, fix);
    internal static PackException Conflict(string message, string fix) => new("conflict", message, fix);
    internal static PackException NotFound(string message, string fix) => new("not-found", message, fix);
    internal static PackException Untrusted(string message, string fix) => new("untrusted", message, fix);
}
