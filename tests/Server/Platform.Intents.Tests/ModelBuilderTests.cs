using Microsoft.ML.OnnxRuntime;
using Platform.Intents.Models;

namespace Platform.Intents.Tests;

public class ModelBuilderTests
{
    [Fact]
    public async Task Should_WriteGatherModelAndBertVocab_When_BuildingFromGloveText()
    {
        using var dir = new TempDir();
        var files = await TestModels.BuildSyntheticAsync(dir.Path);

        Assert.Equal(16, files.Dimensions);
        var vocab = File.ReadAllLines(files.VocabPath);
        Assert.Equal(ModelBuilder.SpecialTokens, vocab.Take(5));
        Assert.Contains("kitchen", vocab);
        Assert.DoesNotContain("u.s.", vocab); // never produced by the BERT tokenizer, so not kept
        using var session = new InferenceSession(files.ModelPath);
        Assert.Equal(["input_ids"], session.InputMetadata.Keys);
        Assert.Equal(new[] { -1, -1, 16 }, session.OutputMetadata["token_embeddings"].Dimensions);
    }

    [Fact]
    public async Task Should_ZeroSpecialTokensAndDownWeightFrequentWords_When_Building()
    {
        using var dir = new TempDir();
        var files = await TestModels.BuildSyntheticAsync(dir.Path);
        var vocab = File.ReadAllLines(files.VocabPath).ToList();
        using var session = new InferenceSession(files.ModelPath);
        long[] ids = [0, 1, 2, 3, vocab.IndexOf("the"), vocab.IndexOf("bulb")];
        using var input = OrtValue.CreateTensorValueFromMemory(ids, [1, ids.Length]);
        using var outputs = session.Run(new RunOptions(), ["input_ids"], [input], ["token_embeddings"]);
        var data = outputs[0].GetTensorDataAsSpan<float>().ToArray();
        float Norm(int token) => MathF.Sqrt(data.Skip(token * 16).Take(16).Sum(x => x * x));
        for (var i = 0; i < 4; i++) Assert.Equal(0f, Norm(i));
        // SIF: "the" (rank 0) is weighted far below "bulb" (a rare word).
        Assert.True(Norm(4) < Norm(5) / 5, $"the={Norm(4)} bulb={Norm(5)}");
    }

    [Fact]
    public async Task Should_ReuseCachedModel_When_BuiltTwiceWithSameOptions()
    {
        using var dir = new TempDir();
        var first = await TestModels.BuildSyntheticAsync(dir.Path);
        var written = File.GetLastWriteTimeUtc(first.ModelPath);
        File.Delete(Path.Combine(dir.Path, "vectors.txt")); // the source is not even needed any more
        var second = await new ModelBuilder().BuildAsync(Path.Combine(dir.Path, "vectors.txt"), first.Directory, new ModelBuildOptions { VocabularySize = 1000, RemovedComponents = 1 });
        Assert.Equal(first, second);
        Assert.Equal(written, File.GetLastWriteTimeUtc(second.ModelPath));
        Assert.Null(ModelBuilder.TryGetCached(first.Directory, new ModelBuildOptions { VocabularySize = 5 }));
    }

    [Fact]
    public async Task Should_ReadWinkJsonRanks_When_SourceIsThePackageFormat()
    {
        using var dir = new TempDir();
        var path = TestModels.WriteWinkJson(dir.Path);
        var read = new List<WordVector>();
        var total = WordVectorReader.Read(path, read.Add);
        Assert.Equal(3, total);
        Assert.Equal(["the", "cat", "dog"], read.Select(r => r.Word));
        Assert.Equal([0, 1, 2], read.Select(r => r.Rank));
        Assert.Equal([1f, 0f, 0.5f], read[1].Vector);
        var files = await new ModelBuilder().BuildAsync(path, Path.Combine(dir.Path, "m"), new ModelBuildOptions { RemovedComponents = 0 });
        Assert.Equal(3, files.Dimensions);
    }

    [Fact]
    public async Task Should_RefuseTarball_When_ItsIntegrityDiffersFromThePinnedOne()
    {
        using var dir = new TempDir();
        var downloads = Directory.CreateDirectory(Path.Combine(dir.Path, "downloads"));
        await File.WriteAllTextAsync(Path.Combine(downloads.FullName, ModelBuilder.TarballName), "not the package");
        await Assert.ThrowsAsync<InvalidDataException>(() => DefaultModel.FindOrFetchTarballAsync(dir.Path));
    }

    [Fact]
    public async Task Should_UseGivenSource_When_EnsuringDefaultModel()
    {
        using var dir = new TempDir();
        var source = TestModels.WriteGloveText(dir.Path);
        var files = await DefaultModel.EnsureAsync(Path.Combine(dir.Path, "data"), source);
        Assert.Equal(ModelBuilder.DefaultModelDirectory(Path.Combine(dir.Path, "data")), files.Directory);
        Assert.Equal(files, await DefaultModel.EnsureAsync(Path.Combine(dir.Path, "data"))); // cached: no source needed
    }

    [Fact]
    public async Task Should_ReadJsonEntry_When_SourceIsAnNpmTarball()
    {
        using var dir = new TempDir();
        var json = TestModels.WriteWinkJson(dir.Path);
        var tgz = Path.Combine(dir.Path, "pkg.tgz");
        var staging = Directory.CreateDirectory(Path.Combine(dir.Path, "package"));
        File.Copy(json, Path.Combine(staging.FullName, "vectors.json"));
        File.WriteAllText(Path.Combine(staging.FullName, "package.json"), "{}");
        await using (var file = File.Create(tgz))
        await using (var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionLevel.Fastest))
        {
            await System.Formats.Tar.TarFile.CreateFromDirectoryAsync(staging.FullName, gz, includeBaseDirectory: true);
        }
        var read = new List<WordVector>();
        WordVectorReader.Read(tgz, read.Add);
        Assert.Equal(3, read.Count);
    }
}
