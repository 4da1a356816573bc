using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Platform.Packs.Tests;

/// <summary>
/// Real package signatures for the tests: self-signed code-signing certificates made with <see cref="CertificateRequest"/>
/// (RSA 3072, SHA-256, code-signing extended key usage) and packages signed with <c>dotnet nuget sign</c> (no timestamper:
/// the tests run offline, and the server does not evaluate timestamps).
/// </summary>
public static class TestSigning
{
    /// <summary>The password of the certificate files the tests write.</summary>
    public const string Password = "platform-tests";

    /// <summary>A self-signed code-signing certificate with its private key, valid from an hour ago for a year.</summary>
    public static X509Certificate2 CreateCodeSigningCertificate(string commonName)
    {
        using var rsa = RSA.Create(3072);
        var request = new CertificateRequest(new X500DistinguishedName($"CN={commonName}"), rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.3", "Code Signing")], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddYears(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx, Password), Password, X509KeyStorageFlags.Exportable);
    }

    /// <summary>The certificate's SHA-256 fingerprint, upper-case hex.</summary>
    public static string Fingerprint(X509Certificate2 certificate) => certificate.GetCertHashString(HashAlgorithmName.SHA256).ToUpperInvariant();

    /// <summary>Signs the packages in place with <c>dotnet nuget sign</c> and the certificate (written to a .pfx beside them).</summary>
    public static async Task SignAsync(X509Certificate2 certificate, string directory, params string[] packages)
    {
        var pfx = Path.Combine(directory, $"{Fingerprint(certificate)[..12]}.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, Password));
        await PackBuilds.RunDotnetAsync(directory, PackBuilds.Env(Path.Combine(directory, "nuget")),
            ["nuget", "sign", .. packages, "--certificate-path", pfx, "--certificate-password", Password, "--overwrite"]);
    }

    /// <summary>
    /// The package with one byte changed in the stored (compressed) data of one of its files, as a disk or a man in the middle
    /// would change it; the zip's directory and the signature stay as they were.
    /// </summary>
    public static byte[] ChangeOneByte(byte[] package, string fileName)
    {
        var copy = package.ToArray();
        var name = Encoding.UTF8.GetBytes(fileName);
        for (var at = 0; at + 30 < copy.Length; at++)
        {
            // A local file header: PK\x03\x04, then at 26 the name's length, at 28 the extra field's, then the name.
            if (BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(at)) != 0x04034b50) continue;
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan(at + 26));
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan(at + 28));
            if (!copy.AsSpan(at + 30, nameLength).SequenceEqual(name)) continue;
            var compressedSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(copy.AsSpan(at + 18));
            var data = at + 30 + nameLength + extraLength;
            copy[data + Math.Max(compressedSize, 2) / 2] ^= 0x20;
            return copy;
        }
        throw new ArgumentException($"The package has no file {fileName}.", nameof(fileName));
    }
}
