using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using NuGet.Frameworks;
using NuGet.Packaging;
using Platform.Activities;

namespace Platform.Packs;

/// <summary>A pack's .nupkg, read and checked: its manifest, its assemblies for this runtime and its SHA-512.</summary>
public sealed class PackPackage
{
    private PackPackage(PackManifest manifest, IReadOnlyDictionary<string, byte[]> assemblies, string sha512, byte[] bytes)
    {
        Manifest = manifest;
        Assemblies = assemblies;
        Sha512 = sha512;
        Bytes = bytes;
    }

    /// <summary>The manifest.</summary>
    public PackManifest Manifest { get; }

    /// <summary>The assemblies of the best lib folder for this runtime, by simple name (the SDK itself is never among them).</summary>
    public IReadOnlyDictionary<string, byte[]> Assemblies { get; }

    /// <summary>The SHA-512 of the package bytes, lower-case hex.</summary>
    public string Sha512 { get; }

    /// <summary>The package bytes.</summary>
    public byte[] Bytes { get; }

    /// <summary>The largest package accepted (50 MB).</summary>
    public const long MaxSize = 50L * 1024 * 1024;

    /// <summary>Reads a .nupkg and checks it: a zip with a nuspec and pack.json whose id and version agree, assemblies for this runtime, and a supported SDK.</summary>
    /// <exception cref="PackException">What is wrong and how to fix it.</exception>
    public static PackPackage Read(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        if (bytes.Length == 0) throw PackException.Invalid("The package is empty.", "Upload the .nupkg file that dotnet pack wrote.");
        if (bytes.Length > MaxSize) throw PackException.Invalid($"The package is {bytes.Length / 1024 / 1024} MB; at most 50 MB is accepted.", "Leave large data out of the pack.");
        var sha512 = Convert.ToHexStringLower(SHA512.HashData(bytes));
        PackManifest manifest;
        var assemblies = new Dictionary<string, byte[]>(StringComparer.OrdinalIgnoreCase);
        try
        {
            using var reader = new PackageArchiveReader(new MemoryStream(bytes, writable: false));
            var identity = reader.GetIdentity();
            var files = reader.GetFiles().ToList();
            var manifestPath = files.FirstOrDefault(f => string.Equals(f, PackManifest.FileName, StringComparison.OrdinalIgnoreCase))
                ?? throw PackException.Invalid("The package has no pack.json at its root.",
                    "Add pack.json to the pack project with <None Include=\"pack.json\" Pack=\"true\" PackagePath=\"\\\" /> (the platform-pack template does).");
            using (var s = reader.GetStream(manifestPath))
            using (var text = new StreamReader(s))
                manifest = PackManifest.Parse(text.ReadToEnd());
            if (!string.Equals(manifest.Id, identity.Id, StringComparison.OrdinalIgnoreCase))
                throw PackException.Invalid($"pack.json's id '{manifest.Id}' differs from the package id '{identity.Id}'.", "Use the same id in pack.json and the project's PackageId.");
            if (!NuGet.Versioning.NuGetVersion.Parse(manifest.Version).Equals(identity.Version))
                throw PackException.Invalid($"pack.json's version {manifest.Version} differs from the package version {identity.Version}.",
                    "Use the same version in pack.json and the project's Version (the template writes pack.json from the project at pack time).");
            if (!manifest.AcceptsHostSdk(out var hostSdk))
                throw PackException.Invalid($"The pack '{manifest.Id}' needs SDK {manifest.Sdk}, but this server has SDK {hostSdk}.",
                    $"Build the pack against Platform.Activities.Abstractions {PackSdk.HostVersion.Major}.x and set sdk to a range that includes {hostSdk}, or upgrade the server.");

            var libs = reader.GetLibItems().ToList();
            var nearest = new FrameworkReducer().GetNearest(NuGetFramework.Parse("net10.0"), libs.Select(g => g.TargetFramework));
            var group = libs.FirstOrDefault(g => g.TargetFramework.Equals(nearest));
            if (group is null)
                throw PackException.Invalid("The package has no assemblies for .NET 10 under lib/.",
                    $"Target net10.0 (or an older net or netstandard) in the pack project. Found: {(libs.Count == 0 ? "no lib folder" : string.Join(", ", libs.Select(l => l.TargetFramework.GetShortFolderName())))}.");
            foreach (var item in group.Items.Where(i => i.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)))
            {
                var name = Path.GetFileNameWithoutExtension(item);
                if (string.Equals(name, PackSdk.AssemblyName, StringComparison.OrdinalIgnoreCase)) continue; // the host's SDK is shared
                using var s = reader.GetStream(item);
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                assemblies[name] = ms.ToArray();
            }
        }
        catch (PackException) { throw; }
        catch (Exception e) when (e is InvalidDataException or NuGet.Packaging.Core.PackagingException or System.Xml.XmlException or IOException or ArgumentException or InvalidOperationException)
        {
            throw PackException.Invalid($"The file is not a valid NuGet package: {e.Message}", "Upload the .nupkg that dotnet pack wrote for the pack project.");
        }
        if (assemblies.Count == 0)
            throw PackException.Invalid("The package has no assemblies.", "Build the pack project with dotnet pack; its assembly goes to lib/net10.0/.");
        foreach (var (name, image) in assemblies) CheckSdkReference(manifest.Id, name, image);
        return new PackPackage(manifest, assemblies, sha512, bytes);
    }

    /// <summary>Checks, without loading it, that an assembly references an SDK this host accepts.</summary>
    private static void CheckSdkReference(string packId, string name, byte[] image)
    {
        try
        {
            using var pe = new PEReader(new MemoryStream(image, writable: false));
            if (!pe.HasMetadata) throw PackException.Invalid($"{name}.dll in the pack '{packId}' is not a .NET assembly.", "Ship only .NET assemblies under lib/.");
            var md = pe.GetMetadataReader();
            foreach (var h in md.AssemblyReferences)
            {
                var r = md.GetAssemblyReference(h);
                if (!string.Equals(md.GetString(r.Name), PackSdk.AssemblyName, StringComparison.Ordinal)) continue;
                if (!PackSdk.IsCompatible(r.Version))
                    throw PackException.Invalid(
                        $"{name}.dll in the pack '{packId}' was built against pack SDK {r.Version.ToString(2)}, but this server has SDK {PackSdk.HostVersion.ToString(2)}.",
                        $"Rebuild the pack against Platform.Activities.Abstractions {PackSdk.HostVersion.Major}.{PackSdk.HostVersion.Minor} or older {PackSdk.HostVersion.Major}.x, or upgrade the server to SDK {r.Version.ToString(2)}.");
            }
        }
        catch (BadImageFormatException)
        {
            throw PackException.Invalid($"{name}.dll in the pack '{packId}' is not a .NET assembly.", "Ship only .NET assemblies under lib/.");
        }
    }

    /// <summary>True when the bytes start like a zip file.</summary>
    public static bool LooksLikeZip(ReadOnlySpan<byte> bytes) => bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K';
}
