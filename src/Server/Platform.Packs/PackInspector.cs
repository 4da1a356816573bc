using System.Security.Cryptography;
using NuGet.Packaging;

namespace Platform.Packs;

/// <summary>
/// Reads a pack's .nupkg without installing or loading it: its manifest (and so its permissions), its SHA-512 and its
/// signature, so that a person can see what the pack may reach before it is enabled (the Studio's Packs page).
/// </summary>
public static class PackInspector
{
    /// <summary>Reads and checks a package like an install would, but loads none of its code and changes nothing.</summary>
    /// <param name="bytes">The .nupkg.</param>
    /// <param name="trustedFingerprints">The SHA-256 fingerprints of <see cref="PackOptions.TrustedCertificateFingerprints"/>; empty when any package is accepted.</param>
    /// <param name="cancellationToken">Cancels reading the signature.</param>
    /// <returns>The manifest, SHA-512, assemblies and signature state.</returns>
    /// <exception cref="PackException">The package or its manifest is not valid; the message says what to fix.</exception>
    public static async Task<PackInspection> InspectAsync(byte[] bytes, IReadOnlyCollection<string> trustedFingerprints, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ArgumentNullException.ThrowIfNull(trustedFingerprints);
        var package = PackPackage.Read(bytes);
        var signature = await ReadSignatureAsync(bytes, trustedFingerprints, cancellationToken).ConfigureAwait(false);
        return new PackInspection(package.Manifest, package.Sha512, package.Assemblies.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList(), signature);
    }

    private static async Task<PackSignatureState> ReadSignatureAsync(byte[] bytes, IReadOnlyCollection<string> trustedFingerprints, CancellationToken cancellationToken)
    {
        var trusted = trustedFingerprints.Select(f => f.Replace(":", "", StringComparison.Ordinal).Trim().ToUpperInvariant()).Where(f => f.Length > 0).ToHashSet();
        var required = trusted.Count > 0;
        try
        {
            using var reader = new PackageArchiveReader(new MemoryStream(bytes, writable: false));
            if (!await reader.IsSignedAsync(cancellationToken).ConfigureAwait(false))
                return new PackSignatureState(false, null, null, required, !required);
            var signature = await reader.GetPrimarySignatureAsync(cancellationToken).ConfigureAwait(false);
            var certificate = signature?.SignerInfo.Certificate;
            var fingerprint = certificate?.GetCertHashString(HashAlgorithmName.SHA256)?.ToUpperInvariant();
            return new PackSignatureState(true, certificate?.Subject, fingerprint, required, !required || (fingerprint is not null && trusted.Contains(fingerprint)));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A signature that cannot be read counts as none; an install refuses it when signatures are required.
            return new PackSignatureState(false, null, null, required, !required);
        }
    }
}

/// <summary>What <see cref="PackInspector"/> read from a package.</summary>
/// <param name="Manifest">The pack.json manifest, with its permissions and isolation mode.</param>
/// <param name="Sha512">The SHA-512 of the package, lower-case hex (recorded at install).</param>
/// <param name="Assemblies">The assemblies it would load (simple names).</param>
/// <param name="Signature">Whether it is signed, by whom, and whether this server would accept it.</param>
public sealed record PackInspection(PackManifest Manifest, string Sha512, IReadOnlyList<string> Assemblies, PackSignatureState Signature);

/// <summary>A package's signature as far as this server is concerned.</summary>
/// <param name="Signed">True when the package carries a NuGet author or repository signature.</param>
/// <param name="Signer">The signing certificate's subject.</param>
/// <param name="Fingerprint">The signing certificate's SHA-256 fingerprint (upper-case hex).</param>
/// <param name="Required">True when the server installs only packages signed by a trusted certificate (<see cref="PackOptions.TrustedCertificateFingerprints"/>).</param>
/// <param name="Trusted">True when the server would accept the package's signature state (always true when none is required); the integrity of a signed package is checked at install.</param>
public sealed record PackSignatureState(bool Signed, string? Signer, string? Fingerprint, bool Required, bool Trusted);
