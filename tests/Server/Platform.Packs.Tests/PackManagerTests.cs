using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using Platform.Activities;
using Platform.Engine.Descriptors;
using Platform.Testing;
using Xunit;

namespace Platform.Packs.Tests;

/// <summary>The pack manager without a server: loading, upgrading, unloading, checks and sharing between nodes.</summary>
public sealed class PackManagerTests
{
    private static PackManager Node(IConfigurationDocuments documents, ActivityRegistry? registry = null, PackOptions? options = null) =>
        new(registry ?? new ActivityRegistry(), documents, Options.Create(options ?? new PackOptions()), TimeProvider.System);

    private static string Id() => "Tests.P" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Should_Add_The_Activities_To_The_Registry_When_A_Pack_Is_Installed()
    {
        // Arrange
        var registry = new ActivityRegistry();
        using var packs = Node(new InMemoryDocuments(), registry);
        var id = Id();

        // Act
        var (info, created) = await packs.InstallAsync(TestPacks.Greeter(id, "1.0.0"), "tests-admin", "upload");

        // Assert
        Assert.True(created);
        Assert.Equal("Enabled", info.State);
        Assert.Equal([$"{id}.Greet"], info.ActivityTypes);
        Assert.Equal(["127.0.0.1"], info.Permissions.Network);
        Assert.Equal(128, info.Sha512.Length);
        var descriptor = registry.Find($"{id}.Greet");
        Assert.NotNull(descriptor);
        Assert.Equal("Test packs", descriptor.Category);
        Assert.IsType<PackLoadContext>(System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(descriptor.ClrType!.Assembly));
        Assert.Same(typeof(Activity), descriptor.ClrType.BaseType); // the SDK is shared with the host
    }

    [Fact]
    public async Task Should_Replace_The_Activity_When_A_Newer_Version_Is_Installed()
    {
        // Arrange
        var registry = new ActivityRegistry();
        using var packs = Node(new InMemoryDocuments(), registry);
        var id = Id();
        await packs.InstallAsync(TestPacks.Greeter(id, "1.0.0", "Hello"), "tests-admin", "upload");
        var v1Type = registry.Find($"{id}.Greet")!.ClrType;

        // Act
        var (info, created) = await packs.InstallAsync(TestPacks.Greeter(id, "2.0.0", "Hi"), "tests-admin", "upload");

        // Assert
        Assert.False(created);
        Assert.Equal("2.0.0", info.Version);
        var v2Type = registry.Find($"{id}.Greet")!.ClrType;
        Assert.NotSame(v1Type, v2Type);
        Assert.Equal("2.0.0", Assert.Single(packs.List()).Version);
    }

    [Fact]
    public async Task Should_Collect_The_Load_Context_When_A_Pack_Is_Removed()
    {
        // Arrange
        var registry = new ActivityRegistry();
        using var packs = Node(new InMemoryDocuments(), registry);
        var id = Id();
        var context = await InstallAndReferenceAsync(packs, id);

        // Act
        await packs.RemoveAsync(id, "tests-admin");
        for (var i = 0; context.IsAlive && i < 20; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        // Assert
        Assert.False(context.IsAlive, "The pack's load context was not collected after removal.");
        Assert.Null(registry.Find($"{id}.Greet"));
        Assert.Empty(packs.List());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static async Task<WeakReference> InstallAndReferenceAsync(PackManager packs, string id)
    {
        await packs.InstallAsync(TestPacks.Greeter(id, "1.0.0"), "tests-admin", "upload");
        return packs.LoadContextReference(id)!;
    }

    [Fact]
    public async Task Should_Take_The_Activities_Out_And_Back_When_A_Pack_Is_Disabled_And_Enabled()
    {
        // Arrange
        var registry = new ActivityRegistry();
        using var packs = Node(new InMemoryDocuments(), registry);
        var id = Id();
        await packs.InstallAsync(TestPacks.Greeter(id, "1.0.0"), "tests-admin", "upload");

        // Act
        var disabled = await packs.SetEnabledAsync(id, false, "tests-admin");
        var missingWhileDisabled = registry.Find($"{id}.Greet") is null;
        var enabled = await packs.SetEnabledAsync(id, true, "tests-admin");

        // Assert
        Assert.Equal("Disabled", disabled.State);
        Assert.Empty(disabled.ActivityTypes);
        Assert.True(missingWhileDisabled);
        Assert.Equal("Enabled", enabled.State);
        Assert.NotNull(registry.Find($"{id}.Greet"));
    }

    [Fact]
    public async Task Should_Load_The_Pack_On_Another_Node_When_It_Refreshes()
    {
        // Arrange
        var documents = new InMemoryDocuments();
        var registryB = new ActivityRegistry();
        using var nodeA = Node(documents);
        using var nodeB = Node(documents, registryB);
        var id = Id();
        await nodeA.InstallAsync(TestPacks.Greeter(id, "1.0.0"), "tests-admin", "upload");

        // Act
        await nodeB.RefreshAsync();
        var loaded = registryB.Find($"{id}.Greet") is not null;
        await nodeA.RemoveAsync(id, "tests-admin");
        await nodeB.RefreshAsync();

        // Assert
        Assert.True(loaded);
        Assert.Null(registryB.Find($"{id}.Greet"));
        Assert.Empty(nodeB.List());
    }

    [Fact]
    public async Task Should_Keep_Private_Dependencies_Apart_When_Two_Packs_Carry_Different_Versions_Of_A_Library()
    {
        // Arrange: two packs each ship their own Tests.Shared.dll (1.0 and 2.0) and report its version.
        var registry = new ActivityRegistry();
        using var packs = Node(new InMemoryDocuments(), registry);
        var (a, b) = (Id(), Id());
        await packs.InstallAsync(WithSharedLibrary(a, "1.0.0.0"), "tests-admin", "upload");

        // Act
        await packs.InstallAsync(WithSharedLibrary(b, "2.0.0.0"), "tests-admin", "upload");

        // Assert
        Assert.Equal("1.0.0.0", TestPacks.StaticString(registry.Find($"{a}.Greet")!.ClrType!, "SharedVersion"));
        Assert.Equal("2.0.0.0", TestPacks.StaticString(registry.Find($"{b}.Greet")!.ClrType!, "SharedVersion"));
    }

    private static byte[] WithSharedLibrary(string id, string libraryVersion)
    {
        var shared = TestPacks.Compile("Tests.Shared", $$"""
            [assembly: System.Reflection.AssemblyVersion("{{libraryVersion}}")]
            namespace Tests.Shared { public static class Info { public static string Version => "{{libraryVersion}}"; } }
            """);
        var pack = TestPacks.Compile(id, TestPacks.GreetCode(id, "Hello", extraMembers: "public static string SharedVersion => Tests.Shared.Info.Version;"),
            TestPacks.Sdk, Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(shared));
        return TestPacks.Package(id, "1.0.0", new Dictionary<string, byte[]> { [id] = pack, ["Tests.Shared"] = shared }, TestPacks.Manifest(id, "1.0.0"));
    }

    [Fact]
    public async Task Should_Refuse_With_The_Versions_When_The_Pack_Was_Built_Against_Another_Sdk_Major()
    {
        // Arrange: a pack compiled against an SDK assembly of version 2.0.
        var fakeSdk = TestPacks.Compile(PackSdk.AssemblyName, """
            [assembly: System.Reflection.AssemblyVersion("2.0.0.0")]
            namespace Platform.Activities { public abstract class Activity { } public sealed class ActivityAttribute : System.Attribute { public ActivityAttribute(string a, string b, string c = null) { } } }
            """);
        var id = Id();
        var image = TestPacks.Compile(id, $"namespace {id}; [Platform.Activities.Activity(\"{id}\", \"Test\")] public class Greet : Platform.Activities.Activity {{ }}",
            Microsoft.CodeAnalysis.MetadataReference.CreateFromImage(fakeSdk));
        var bytes = TestPacks.Package(id, "1.0.0", new Dictionary<string, byte[]> { [id] = image }, TestPacks.Manifest(id, "1.0.0", sdk: null));
        using var packs = Node(new InMemoryDocuments());

        // Act
        var error = await Assert.ThrowsAsync<PackException>(() => packs.InstallAsync(bytes, "tests-admin", "upload"));

        // Assert
        Assert.Equal("invalid", error.Code);
        Assert.Contains("built against pack SDK 2.0", error.Message);
        Assert.Contains($"this server has SDK {PackSdk.HostVersion.Major}.{PackSdk.HostVersion.Minor}", error.Message);
        Assert.Contains("Rebuild the pack", error.Fix);
        Assert.Empty(packs.List());
    }

    [Theory]
    [InlineData("no-manifest", "no pack.json")]
    [InlineData("not-zip", "not a valid NuGet package")]
    [InlineData("id-mismatch", "differs from the package id")]
    [InlineData("sdk-range", "needs SDK [2.0,3.0)")]
    [InlineData("isolation", "isolation 'sandbox' is not known")]
    public async Task Should_Refuse_With_A_Clear_Error_When_The_Package_Is_Not_A_Valid_Pack(string problem, string expected)
    {
        // Arrange
        var id = Id();
        var image = TestPacks.Compile(id, TestPacks.GreetCode(id, "Hello"));
        var manifest = TestPacks.Manifest(problem == "id-mismatch" ? "Other.Id" : id, "1.0.0", problem == "sdk-range" ? "[2.0,3.0)" : "[1.0,2.0)");
        if (problem == "isolation") manifest["isolation"] = "sandbox";
        var bytes = problem == "not-zip" ? "this is not a package"u8.ToArray()
            : TestPacks.Package(id, "1.0.0", new Dictionary<string, byte[]> { [id] = image }, problem == "no-manifest" ? null : manifest);
        using var packs = Node(new InMemoryDocuments());

        // Act
        var error = await Assert.ThrowsAsync<PackException>(() => packs.InstallAsync(bytes, "tests-admin", "upload"));

        // Assert
        Assert.Contains(expected, error.Message);
        Assert.False(string.IsNullOrWhiteSpace(error.Fix));
    }

    [Fact]
    public async Task Should_Refuse_When_Its_Activity_Type_Is_Already_Provided_By_Another_Pack()
    {
        // Arrange: the second pack's activity has the same type name as the first's.
        var registry = new ActivityRegistry();
        using var packs = Node(new InMemoryDocuments(), registry);
        var (a, b) = (Id(), Id());
        await packs.InstallAsync(TestPacks.Greeter(a, "1.0.0"), "tests-admin", "upload");
        var clashing = TestPacks.Package(b, "1.0.0", new Dictionary<string, byte[]> { [b] = TestPacks.Compile(b, TestPacks.GreetCode(a, "Hi")) }, TestPacks.Manifest(b, "1.0.0"));

        // Act
        var error = await Assert.ThrowsAsync<PackException>(() => packs.InstallAsync(clashing, "tests-admin", "upload"));

        // Assert
        Assert.Equal("conflict", error.Code);
        Assert.Contains($"{a}.Greet", error.Message);
        Assert.Single(packs.List());
    }

    [Fact]
    public async Task Should_Refuse_An_Unsigned_Pack_When_Trusted_Certificates_Are_Configured()
    {
        // Arrange
        using var packs = Node(new InMemoryDocuments(), options: new PackOptions { TrustedCertificateFingerprints = ["AB:CD"] });

        // Act
        var error = await Assert.ThrowsAsync<PackException>(() => packs.InstallAsync(TestPacks.Greeter(Id(), "1.0.0"), "tests-admin", "upload"));

        // Assert
        Assert.Equal("untrusted", error.Code);
        Assert.Contains("not signed", error.Message);
    }

    [Fact]
    public async Task Should_Install_From_A_Local_Folder_Feed_When_Asked_By_Id()
    {
        // Arrange
        using var feed = new TempDirectory("packs-feed");
        var id = Id();
        await File.WriteAllBytesAsync(feed.File($"{id}.1.0.0.nupkg"), TestPacks.Greeter(id, "1.0.0", "Hello"));
        await File.WriteAllBytesAsync(feed.File($"{id}.1.1.0.nupkg"), TestPacks.Greeter(id, "1.1.0", "Hi"));
        var registry = new ActivityRegistry();
        using var packs = Node(new InMemoryDocuments(), registry, new PackOptions { Sources = [feed.Path] });

        // Act
        var (newest, _) = await packs.InstallFromFeedAsync(id, null, "tests-admin");
        var (pinned, _) = await packs.InstallFromFeedAsync(id, "1.0.0", "tests-admin");
        var missing = await Assert.ThrowsAsync<PackException>(() => packs.InstallFromFeedAsync(id, "9.0.0", "tests-admin"));

        // Assert
        Assert.Equal("1.1.0", newest.Version);
        Assert.Equal("1.0.0", pinned.Version);
        Assert.Equal("not-found", missing.Code);
        Assert.StartsWith("feed:", pinned.Source);
    }
}
