using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Engine.Descriptors;
using Platform.Testing;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>
/// Two self-signed code-signing certificates (one trusted, one not), packs signed with them by <c>dotnet nuget sign</c>, and a
/// server that trusts the first by its fingerprint (written lower case with colons, as tools print it).
/// </summary>
public sealed class SignedPackFixture : IAsyncLifetime
{
    private readonly TempDirectory _work = new("platform-signed-packs");
    private static string NewId(string prefix) => $"Tests.{prefix}{Guid.NewGuid().ToString("N")[..8]}";

    public string TrustedFingerprint { get; private set; } = "";
    public string OtherFingerprint { get; private set; } = "";
    public string TrustedSubject => "CN=Platform Tests Trusted Signer";

    /// <summary>A pack id signed by the trusted certificate, version 1.0.0 and 2.0.0.</summary>
    public string SignedId { get; } = NewId("Signed");
    public byte[] SignedV1 { get; private set; } = [];
    public byte[] SignedV2 { get; private set; } = [];

    /// <summary>Another pack signed by the trusted certificate (for tampering and for nodes without a server).</summary>
    public string SpareId { get; } = NewId("Spare");
    public byte[] Spare { get; private set; } = [];

    /// <summary>A pack signed by the certificate the server does not trust.</summary>
    public string UntrustedId { get; } = NewId("Untrusted");
    public byte[] Untrusted { get; private set; } = [];

    /// <summary>A server whose Platform:Packs:TrustedCertificateFingerprints lists the trusted certificate.</summary>
    public PackServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        using var trusted = TestSigning.CreateCodeSigningCertificate("Platform Tests Trusted Signer");
        using var other = TestSigning.CreateCodeSigningCertificate("Platform Tests Other Signer");
        (TrustedFingerprint, OtherFingerprint) = (TestSigning.Fingerprint(trusted), TestSigning.Fingerprint(other));
        var files = new Dictionary<string, byte[]>
        {
            [$"{SignedId}.1.0.0.nupkg"] = TestPacks.Greeter(SignedId, "1.0.0", "Hello"),
            [$"{SignedId}.2.0.0.nupkg"] = TestPacks.Greeter(SignedId, "2.0.0", "Hi"),
            [$"{SpareId}.1.0.0.nupkg"] = TestPacks.Greeter(SpareId, "1.0.0"),
            [$"{UntrustedId}.1.0.0.nupkg"] = TestPacks.Greeter(UntrustedId, "1.0.0"),
        };
        foreach (var (name, bytes) in files) await File.WriteAllBytesAsync(_work.File(name), bytes);
        await TestSigning.SignAsync(trusted, _work.Path, $"{SignedId}.1.0.0.nupkg", $"{SignedId}.2.0.0.nupkg", $"{SpareId}.1.0.0.nupkg");
        await TestSigning.SignAsync(other, _work.Path, $"{UntrustedId}.1.0.0.nupkg");
        SignedV1 = await File.ReadAllBytesAsync(_work.File($"{SignedId}.1.0.0.nupkg"));
        SignedV2 = await File.ReadAllBytesAsync(_work.File($"{SignedId}.2.0.0.nupkg"));
        Spare = await File.ReadAllBytesAsync(_work.File($"{SpareId}.1.0.0.nupkg"));
        Untrusted = await File.ReadAllBytesAsync(_work.File($"{UntrustedId}.1.0.0.nupkg"));

        var pinned = string.Join(':', TrustedFingerprint.Chunk(2).Select(c => new string(c))).ToLowerInvariant();
        Server = new PackServer(new Dictionary<string, string> { ["Platform:Packs:TrustedCertificateFingerprints:0"] = pinned });
        await Server.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        _work.Dispose();
    }
}

/// <summary>
/// Signature verification with trusted certificate fingerprints: signed by a trusted certificate installs and shows the signer,
/// signed by another is refused naming its fingerprint, a byte changed after signing is refused, unsigned is refused; and a node
/// checks the signature again when it loads a stored pack.
/// </summary>
public sealed class PackSignatureTests(SignedPackFixture signed) : IClassFixture<SignedPackFixture>
{
    private HttpClient Admin => signed.Server.Admin;

    [Fact]
    public async Task Should_Install_And_Show_The_Signer_When_The_Pack_Is_Signed_By_A_Trusted_Certificate()
    {
        // Act
        var installed = await (await Admin.UploadAsync(signed.SignedV1)).JsonAsync(HttpStatusCode.Created);
        var upgraded = await (await Admin.UploadAsync(signed.SignedV2)).JsonAsync(HttpStatusCode.OK);
        var listed = await (await signed.Server.Operator.GetAsync("/api/packs")).Content.ReadFromJsonAsync<JsonArray>(TestContext.Current.CancellationToken);
        var palette = await Admin.ActivityTypesAsync();

        // Assert
        Assert.Equal(signed.TrustedFingerprint, installed["signerFingerprint"]!.GetValue<string>());
        Assert.Equal("2.0.0", upgraded["version"]!.GetValue<string>());
        var pack = listed!.Single(p => p!["id"]!.GetValue<string>() == signed.SignedId)!;
        Assert.Equal(signed.TrustedFingerprint, pack["signerFingerprint"]!.GetValue<string>());
        Assert.Equal(signed.TrustedSubject, pack["signerSubject"]!.GetValue<string>());
        Assert.Equal("Enabled", pack["state"]!.GetValue<string>());
        Assert.Contains($"{signed.SignedId}.Greet", palette);
    }

    [Fact]
    public async Task Should_Answer_400_Naming_The_Fingerprint_When_The_Signer_Is_Not_Trusted()
    {
        // Act
        using var response = await Admin.UploadAsync(signed.Untrusted);
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        using var lookup = await Admin.GetAsync($"/api/packs/{signed.UntrustedId}");

        // Assert
        Assert.Contains(signed.OtherFingerprint, problem["title"]!.GetValue<string>());
        Assert.Contains("CN=Platform Tests Other Signer", problem["title"]!.GetValue<string>());
        var fix = problem["detail"]!.GetValue<string>();
        Assert.Contains("Platform:Packs:TrustedCertificateFingerprints", fix);
        Assert.Contains(signed.OtherFingerprint, fix);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
        Assert.DoesNotContain($"{signed.UntrustedId}.Greet", await Admin.ActivityTypesAsync());
    }

    [Theory]
    [InlineData("pack.json")]
    [InlineData("lib/net10.0/{id}.dll")]
    public async Task Should_Answer_400_When_A_Byte_Of_A_Signed_Pack_Was_Changed_After_Signing(string file)
    {
        // Arrange
        var tampered = TestSigning.ChangeOneByte(signed.Spare, file.Replace("{id}", signed.SpareId, StringComparison.Ordinal));

        // Act
        using var response = await Admin.UploadAsync(tampered);
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);

        // Assert
        Assert.Contains("changed after it was signed", problem["title"]!.GetValue<string>());
        Assert.Contains("publisher", problem["detail"]!.GetValue<string>());
        Assert.DoesNotContain($"{signed.SpareId}.Greet", await Admin.ActivityTypesAsync());
    }

    [Fact]
    public async Task Should_Answer_400_When_The_Pack_Is_Not_Signed()
    {
        // Act
        using var response = await Admin.UploadAsync(TestPacks.Greeter("Tests.Unsigned" + Guid.NewGuid().ToString("N")[..8], "1.0.0"));
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);

        // Assert
        Assert.Contains("is not signed", problem["title"]!.GetValue<string>());
        Assert.Contains("dotnet nuget sign", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Should_Not_Load_A_Stored_Pack_When_Its_Bytes_And_Hash_Were_Replaced_In_The_Database()
    {
        // Arrange: node A installs the signed pack; then someone with write access to the database swaps in a changed package
        // and its matching SHA-512 (the hash guards against damage, not against an attacker).
        var documents = new InMemoryDocuments();
        var options = Options.Create(new PackOptions { TrustedCertificateFingerprints = [signed.TrustedFingerprint] });
        using var nodeA = new PackManager(new ActivityRegistry(), documents, options, TimeProvider.System);
        await nodeA.InstallAsync(signed.Spare, "tests-admin", "upload");
        var stored = JsonNode.Parse((await documents.FindAsync(PackRecord.Kind, signed.SpareId))!.Json)!.AsObject();
        var changed = TestSigning.ChangeOneByte(signed.Spare, "pack.json");
        stored["package"] = Convert.ToBase64String(changed);
        stored["sha512"] = Convert.ToHexStringLower(SHA512.HashData(changed));
        await documents.SaveAsync(PackRecord.Kind, signed.SpareId, stored.ToJsonString());
        var registryB = new ActivityRegistry();
        using var nodeB = new PackManager(registryB, documents, options, TimeProvider.System);

        // Act
        await nodeB.RefreshAsync();

        // Assert
        var pack = Assert.Single(nodeB.List());
        Assert.Equal("Failed", pack.State);
        Assert.Contains("changed after it was signed", Assert.Single(pack.Errors));
        Assert.Null(registryB.Find($"{signed.SpareId}.Greet"));
    }
}
