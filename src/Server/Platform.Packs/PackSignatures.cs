using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using NuGet.Packaging;
using NuGet.Packaging.Signing;

namespace Platform.Packs;

/// <summary>Who signed a pack, as verified on install: the signing certificate's SHA-256 fingerprint and subject.</summary>
/// <param name="Fingerprint">SHA-256 of the signing certificate, upper-case hex without separators.</param>
/// <param name="Subject">The certificate's subject, e.g. <c>CN=Acme</c>.</param>
public sealed record PackSigner(string Fingerprint, string Subject);

/// <summary>
/// Checks the NuGet author or repository signature of a .nupkg against the pinned fingerprints of
/// <see cref="PackOptions.TrustedCertificateFingerprints"/>. The rules, in order:
/// <list type="number">
/// <item>the package carries a primary signature (<c>.signature.p7s</c>);</item>
/// <item>the SHA-256 fingerprint of the signing certificate is in the list;</item>
/// <item>the CMS signature verifies with that certificate's public key (so the signed content is the signer's);</item>
/// <item>the package's content hash equals the hash in the signed content (nothing changed after signing);</item>
/// <item>the certificate allows code signing and is valid now (on install; not again when a stored pack is loaded);</item>
/// <item>a self-signed certificate is trusted by its pinned fingerprint alone; any other certificate's chain must also build to a
/// root the server's operating system trusts (intermediates from the signature, no downloads, revocation not checked).</item>
/// </list>
/// Timestamps are not evaluated: an expired certificate is refused on install even if the signature was timestamped.
/// </summary>
public static class PackSignatures
{
    private const string CodeSigningEku = "1.3.6.1.5.5.7.3.3";

    /// <summary>A fingerprint as compared: hex digits only, upper case (<c>AB:cd 01</c> → <c>ABCD01</c>).</summary>
    public static string Normalize(string fingerprint) =>
        new string((fingerprint ?? "").Where(Uri.IsHexDigit).ToArray()).ToUpperInvariant();

    /// <summary>Verifies the package's signature; returns the signer.</summary>
    /// <param name="bytes">The .nupkg.</param>
    /// <param name="trustedFingerprints">Pinned SHA-256 fingerprints (any separators, any case).</param>
    /// <param name="now">The time the certificate must be valid at, or null not to check validity periods (loading an installed pack).</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="PackException"><c>untrusted</c> with what is wrong and how to fix it; <c>invalid</c> when the file is no NuGet package.</exception>
    public static async Task<PackSigner> VerifyAsync(byte[] bytes, IEnumerable<string> trustedFingerprints, DateTimeOffset? now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var trusted = trustedFingerprints.Select(Normalize).Where(f => f.Length > 0).ToHashSet(StringComparer.Ordinal);
        PackageArchiveReader reader;
        try
        {
            reader = new PackageArchiveReader(new MemoryStream(bytes, writable: false));
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or NuGet.Packaging.Core.PackagingException)
        {
            throw PackException.Invalid($"The file is not a valid NuGet package: {e.Message}", "Upload the .nupkg that dotnet pack wrote for the pack project.");
        }
        using (reader)
        {
            var name = PackageName(reader);
            PrimarySignature? signature;
            try
            {
                if (!await reader.IsSignedAsync(cancellationToken).ConfigureAwait(false))
                    throw PackException.Untrusted($"The pack {name} is not signed, and this server only installs signed packs.",
                        "Sign the package with dotnet nuget sign using a certificate whose SHA-256 fingerprint is listed in Platform:Packs:TrustedCertificateFingerprints.");
                signature = await reader.GetPrimarySignatureAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SignatureException or CryptographicException or InvalidDataException)
            {
                throw PackException.Untrusted($"The signature of the pack {name} cannot be read: {e.Message}", "Sign the package again with dotnet nuget sign.");
            }
            if (signature?.SignerInfo.Certificate is not { } certificate)
                throw PackException.Untrusted($"The signature of the pack {name} names no signing certificate.", "Sign the package again with dotnet nuget sign.");
            var signer = new PackSigner(certificate.GetCertHashString(HashAlgorithmName.SHA256).ToUpperInvariant(), certificate.Subject);
            if (!trusted.Contains(signer.Fingerprint))
                throw PackException.Untrusted(
                    $"The pack {name} is signed by '{signer.Subject}' (SHA-256 fingerprint {signer.Fingerprint}), a certificate this server does not trust.",
                    $"If you trust this signer, add {signer.Fingerprint} to Platform:Packs:TrustedCertificateFingerprints " +
                    $"(e.g. the environment variable Platform__Packs__TrustedCertificateFingerprints__{trusted.Count}={signer.Fingerprint}) and restart the server; otherwise get the pack from its publisher.");
            try
            {
                signature.SignerInfo.CheckSignature(verifySignatureOnly: true);
            }
            catch (CryptographicException e)
            {
                throw PackException.Untrusted($"The signature of the pack {name} does not verify with the certificate {signer.Fingerprint}: {e.Message}",
                    "The signature was altered or made with another key. Download the package again from its publisher.");
            }
            try
            {
                await reader.ValidateIntegrityAsync(signature.SignatureContent, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SignatureException or CryptographicException or InvalidDataException or IOException or InvalidOperationException)
            {
                throw PackException.Untrusted($"The pack {name} was changed after it was signed (its content no longer matches the signed hash).",
                    "Download the package again from its publisher, or rebuild and sign it again.");
            }
            CheckCertificate(name, certificate, signature.SignedCms.Certificates, now);
            return signer;
        }
    }

    private static void CheckCertificate(string name, X509Certificate2 certificate, X509Certificate2Collection extra, DateTimeOffset? now)
    {
        var selfSigned = certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.ApplicationPolicy.Add(new Oid(CodeSigningEku));
        if (now is { } at) policy.VerificationTime = at.UtcDateTime;
        else policy.VerificationFlags |= X509VerificationFlags.IgnoreNotTimeValid | X509VerificationFlags.IgnoreCtlNotTimeValid;
        if (selfSigned)
        {
            // Pinned by its fingerprint: the certificate is its own root of trust.
            policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            policy.CustomTrustStore.Add(certificate);
        }
        else
        {
            policy.ExtraStore.AddRange(extra);
        }
        if (chain.Build(certificate)) return;
        var problems = chain.ChainStatus.Select(s => s.Status).Aggregate(X509ChainStatusFlags.NoError, (a, b) => a | b);
        if ((problems & X509ChainStatusFlags.NotTimeValid) != 0)
            throw PackException.Untrusted(
                $"The certificate that signed the pack {name} ('{certificate.Subject}') is valid from {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}, not now.",
                "Sign the package again with a certificate that is valid now (this server does not evaluate timestamps).");
        if ((problems & X509ChainStatusFlags.NotValidForUsage) != 0)
            throw PackException.Untrusted($"The certificate that signed the pack {name} ('{certificate.Subject}') is not a code-signing certificate.",
                "Sign with a certificate whose extended key usage includes code signing (1.3.6.1.5.5.7.3.3).");
        throw PackException.Untrusted(
            $"The certificate that signed the pack {name} ('{certificate.Subject}') is pinned, but {(selfSigned ? "it" : "its chain")} does not verify: " +
            string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct()),
            selfSigned ? "Sign the package again with dotnet nuget sign."
                : "Install the issuing root certificate in the server's trust store, or sign with a self-signed certificate whose fingerprint you pin.");
    }

    private static string PackageName(PackageArchiveReader reader)
    {
        try
        {
            var identity = reader.GetIdentity();
            return $"'{identity.Id}' {identity.Version}";
        }
        catch (Exception e) when (e is InvalidDataException or IOException or NuGet.Packaging.Core.PackagingException or System.Xml.XmlException or InvalidOperationException)
        {
            return "(its nuspec cannot be read)";
        }
    }
}
