using System.Reflection;

namespace Platform.Activities;

/// <summary>
/// The version of this pack SDK and the rule by which a host accepts a pack built against another version (SemVer):
/// the same major version, and a minor version no newer than the host's.
/// </summary>
public static class PackSdk
{
    /// <summary>The SDK's package version (SemVer), equal to the NuGet package version of Platform.Activities.Abstractions.</summary>
    public const string Version = "1.1.0";

    /// <summary>The assembly name packs reference.</summary>
    public const string AssemblyName = "Platform.Activities.Abstractions";

    /// <summary>The SDK version of the running host, from this assembly's version.</summary>
    public static Version HostVersion { get; } = typeof(PackSdk).Assembly.GetName().Version ?? new Version(1, 0);

    /// <summary>
    /// True when a pack built against <paramref name="builtAgainst"/> may run on this host: same major version, and a
    /// minor version no newer than the host's (a newer minor may use members this host lacks).
    /// </summary>
    public static bool IsCompatible(Version builtAgainst)
    {
        ArgumentNullException.ThrowIfNull(builtAgainst);
        return builtAgainst.Major == HostVersion.Major && builtAgainst.Minor <= HostVersion.Minor;
    }

    /// <summary>The SDK version an assembly was compiled against (its reference to this assembly), or null when it has none.</summary>
    public static Version? ReferencedVersion(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return assembly.GetReferencedAssemblies().FirstOrDefault(a => string.Equals(a.Name, AssemblyName, StringComparison.Ordinal))?.Version;
    }
}
