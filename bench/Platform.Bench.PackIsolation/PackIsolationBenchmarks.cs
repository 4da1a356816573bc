using System.Collections.Concurrent;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.Extensions.DependencyInjection;
using Platform.Activities;
using Platform.Engine;
using Platform.Engine.Contracts;
using Platform.Packs;

namespace Platform.Bench.PackIsolation;

/// <summary>
/// One run of a flowchart of <see cref="Calls"/> pack activities in a line (each copies its input to its output), in memory,
/// with the pack installed as <c>shared</c> or as <c>process</c>. The per-call overhead of process isolation is
/// (process − shared) / <see cref="Calls"/>. Runs in-process (no generated project), short job.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[Config(typeof(ShortInProcess))]
public class PackIsolationBenchmarks
{
    public const int Calls = 20;

    [Params("shared", "process")]
    public string Isolation { get; set; } = "shared";

    private ServiceProvider _services = null!;
    private IWorkflowRuntime _runtime = null!;
    private string _definitionId = null!;

    private sealed class ShortInProcess : ManualConfig
    {
        public ShortInProcess() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(15));
    }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddWorkflowEngine(_ => { });
        services.AddSingleton<IConfigurationDocuments, MemoryDocuments>();
        services.AddPlatformPacks();
        _services = services.BuildServiceProvider();
        var id = "Bench.Iso" + Isolation;
        await _services.GetRequiredService<PackManager>().InstallAsync(Pack(id, Isolation), "bench", "upload");
        _runtime = _services.GetRequiredService<IWorkflowRuntime>();
        var definitions = _services.GetRequiredService<IWorkflowDefinitionService>();
        _definitionId = (await definitions.SaveAsync(Flow($"{id}.Copy", Calls), publish: true)).Definition.DefinitionId;
        var first = await _runtime.StartAsync(new StartWorkflowRequest(_definitionId)); // starts the pack host
        if (first.Instance.State.Incidents.Count > 0) throw new InvalidOperationException(first.Instance.State.Incidents[0].Message);
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _services.DisposeAsync();

    [Benchmark(Description = "20 pack activity calls, one run")]
    public Task<RunWorkflowResult> Run() => _runtime.StartAsync(new StartWorkflowRequest(_definitionId));

    private static JsonObject Flow(string type, int n)
    {
        var activities = new JsonArray();
        var connections = new JsonArray();
        for (var i = 0; i < n; i++)
        {
            activities.Add(new JsonObject
            {
                ["id"] = $"a{i}", ["type"] = type, ["version"] = 1,
                ["text"] = new JsonObject { ["typeName"] = "String", ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = $"call {i}" } },
            });
            if (i > 0)
                connections.Add(new JsonObject
                {
                    ["source"] = new JsonObject { ["activity"] = $"a{i - 1}", ["port"] = "Done" },
                    ["target"] = new JsonObject { ["activity"] = $"a{i}", ["port"] = "In" },
                });
        }
        return new JsonObject
        {
            ["name"] = "bench-pack-isolation",
            ["root"] = new JsonObject { ["id"] = "flow", ["type"] = "Elsa.Flowchart", ["activities"] = activities, ["connections"] = connections },
        };
    }

    private static byte[] Pack(string id, string isolation)
    {
        var code = $$"""
            using System.Threading.Tasks;
            using Platform.Activities;
            namespace {{id}};
            [Activity("{{id}}", "Bench", "Copies its text to its output.")]
            public class Copy : Activity
            {
                [Input] public Input<string> Text { get; set; } = new("");
                [Output] public Output<string> Result { get; set; } = new();
                protected override ValueTask ExecuteAsync(ActivityExecutionContext context)
                {
                    Result.Set(context, Text.Get(context));
                    return ValueTask.CompletedTask;
                }
            }
            """;
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "netstandard.dll" or "mscorlib.dll")
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .Append(MetadataReference.CreateFromFile(typeof(Activity).Assembly.Location));
        var compilation = CSharpCompilation.Create(id, [CSharpSyntaxTree.ParseText(code)], references, new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        using var image = new MemoryStream();
        var emitted = compilation.Emit(image);
        if (!emitted.Success) throw new InvalidOperationException(string.Join(Environment.NewLine, emitted.Diagnostics));
        var manifest = new JsonObject { ["id"] = id, ["version"] = "1.0.0", ["sdk"] = "[1.0,2.0)", ["isolation"] = isolation };
        using var package = new MemoryStream();
        using (var zip = new ZipArchive(package, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, $"{id}.nuspec", $"""
                <?xml version="1.0" encoding="utf-8"?>
                <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
                  <metadata><id>{id}</id><version>1.0.0</version><authors>Bench</authors><description>Bench pack.</description></metadata>
                </package>
                """);
            using (var s = zip.CreateEntry($"lib/net10.0/{id}.dll").Open()) s.Write(image.ToArray());
            Write(zip, "pack.json", manifest.ToJsonString());
        }
        return package.ToArray();
    }

    private static void Write(ZipArchive zip, string name, string text)
    {
        using var s = zip.CreateEntry(name).Open();
        s.Write(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Configuration documents in memory (the packs' store).</summary>
    private sealed class MemoryDocuments : IConfigurationDocuments
    {
        private readonly ConcurrentDictionary<(string, string), ConfigurationDocument> _docs = new();
        private long _revision;

        public Task<IReadOnlyList<ConfigurationDocument>> ListAsync(string kind, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<ConfigurationDocument>>(_docs.Values.Where(d => d.Kind == kind).ToList());

        public Task<ConfigurationDocument?> FindAsync(string kind, string id, CancellationToken cancellationToken = default) =>
            Task.FromResult(_docs.GetValueOrDefault((kind, id)));

        public Task<ConfigurationDocument> SaveAsync(string kind, string id, string json, CancellationToken cancellationToken = default)
        {
            var doc = new ConfigurationDocument(kind, id, json, Interlocked.Increment(ref _revision), DateTimeOffset.UtcNow);
            _docs[(kind, id)] = doc;
            return Task.FromResult(doc);
        }

        public Task<bool> DeleteAsync(string kind, string id, CancellationToken cancellationToken = default) => Task.FromResult(_docs.TryRemove((kind, id), out _));

        public Task<IReadOnlyList<ConfigurationRevision>> ListRevisionsAsync(string kind, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<ConfigurationRevision>>(_docs.Values.Where(d => d.Kind == kind).Select(d => new ConfigurationRevision(d.Id, d.Revision)).ToList());
    }
}
