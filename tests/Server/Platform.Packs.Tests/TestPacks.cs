using System.IO.Compression;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Platform.Activities;

namespace Platform.Packs.Tests;

/// <summary>Builds small pack .nupkg files in memory: C# compiled with Roslyn against the host's pack SDK, a nuspec and a pack.json.</summary>
public static class TestPacks
{
    private static readonly Lazy<List<MetadataReference>> FrameworkReferences = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
        .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll"
            || Path.GetFileName(p).StartsWith("Microsoft.Extensions.Logging.Abstractions", StringComparison.Ordinal))
        .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList());

    /// <summary>The host's SDK assembly as a compile reference.</summary>
    public static MetadataReference Sdk { get; } = MetadataReference.CreateFromFile(typeof(Activity).Assembly.Location);

    /// <summary>Microsoft.Extensions.Http (IHttpClientFactory) as a compile reference.</summary>
    public static MetadataReference Http { get; } = MetadataReference.CreateFromFile(typeof(System.Net.Http.IHttpClientFactory).Assembly.Location);

    /// <summary>Compiles C# into an assembly image.</summary>
    public static byte[] Compile(string assemblyName, string code, params MetadataReference[] references)
    {
        var compilation = CSharpCompilation.Create(assemblyName, [CSharpSyntaxTree.ParseText(code)],
            [.. FrameworkReferences.Value, .. (references.Length == 0 ? [Sdk] : references)],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Disable));
        using var ms = new MemoryStream();
        var result = compilation.Emit(ms);
        if (!result.Success) throw new InvalidOperationException(string.Join(Environment.NewLine, result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return ms.ToArray();
    }

    /// <summary>
    /// An activity <c>{ns}.Greet</c> (type version <paramref name="typeVersion"/>) whose output <c>Text</c> is
    /// <c>{greeting}, {Who}</c>, compiled into an assembly named after the pack.
    /// </summary>
    public static string GreetCode(string ns, string greeting, int typeVersion = 1, string extraMembers = "") => $$"""
        using System.Threading.Tasks;
        using Platform.Activities;
        namespace {{ns}};
        [Activity("{{ns}}", "Test packs", "Greets someone.", Version = {{typeVersion}})]
        public class Greet : Activity
        {
            [Input(Description = "Who.")] public Input<string> Who { get; set; } = new("");
            [Output] public Output<string> Text { get; set; } = new();
            {{extraMembers}}
            protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
            {
                Text.Set(context, "{{greeting}}, " + Who.Get(context));
                context.SetWorkflowOutput("greeting", "{{greeting}}, " + Who.Get(context));
                context.Complete("Done");
                return ValueTask.CompletedTask;
            }
        }
        """;

    /// <summary>A manifest as JSON.</summary>
    public static JsonObject Manifest(string id, string version, string? sdk = "[1.0,2.0)") => new()
    {
        ["id"] = id, ["version"] = version, ["displayName"] = id + " pack", ["description"] = "A test pack.", ["author"] = "Tests", ["sdk"] = sdk,
        ["permissions"] = new JsonObject { ["network"] = new JsonArray("127.0.0.1"), ["secrets"] = new JsonArray("weather-key") },
    };

    /// <summary>A .nupkg with a nuspec, lib/net10.0 assemblies and (unless null) pack.json.</summary>
    public static byte[] Package(string id, string version, IReadOnlyDictionary<string, byte[]> assemblies, JsonObject? manifest)
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, $"{id}.nuspec", $"""
                <?xml version="1.0" encoding="utf-8"?>
                <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
                  <metadata><id>{id}</id><version>{version}</version><authors>Tests</authors><description>A test pack.</description></metadata>
                </package>
                """);
            foreach (var (name, image) in assemblies)
            {
                var entry = zip.CreateEntry($"lib/net10.0/{name}.dll");
                using var s = entry.Open();
                s.Write(image);
            }
            if (manifest is not null) Write(zip, "pack.json", manifest.ToJsonString());
        }
        return ms.ToArray();
    }

    /// <summary>A pack <paramref name="id"/> with one Greet activity in namespace <paramref name="id"/>.</summary>
    public static byte[] Greeter(string id, string version, string greeting = "Hello", int typeVersion = 1) =>
        Package(id, version, new Dictionary<string, byte[]> { [id] = Compile(id, GreetCode(id, greeting, typeVersion)) }, Manifest(id, version));

    private static void Write(ZipArchive zip, string name, string text)
    {
        using var s = zip.CreateEntry(name).Open();
        s.Write(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Reads a static string property of a type by reflection.</summary>
    public static string? StaticString(Type type, string property) =>
        type.GetProperty(property, BindingFlags.Public | BindingFlags.Static)?.GetValue(null) as string;
}
