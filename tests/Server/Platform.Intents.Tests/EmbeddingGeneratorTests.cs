using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Platform.Intents.Embeddings;

namespace Platform.Intents.Tests;

public class EmbeddingGeneratorTests
{
    [Fact]
    public async Task Should_PlaceParaphrasesCloser_When_UsingSyntheticGloveModel()
    {
        using var dir = new TempDir();
        var files = await TestModels.BuildSyntheticAsync(dir.Path);
        using var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = files.ModelPath, VocabPath = files.VocabPath });

        var result = await generator.GenerateAsync(["turn on the kitchen lights", "switch the bedroom lamp on", "what is my account balance"]);

        Assert.Equal(3, result.Count);
        Assert.All(result, e => Assert.Equal(1f, MathF.Sqrt(e.Vector.ToArray().Sum(x => x * x)), 3));
        var near = TestModels.Cosine(result[0].Vector.Span, result[1].Vector.Span);
        var far = TestModels.Cosine(result[0].Vector.Span, result[2].Vector.Span);
        Assert.True(near > far + 0.3, $"near={near} far={far}");
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.Equal(16, metadata?.DefaultModelDimensions);
    }

    [Fact]
    public async Task Should_ServeRepeatsFromCache_When_TextSeenBefore()
    {
        using var dir = new TempDir();
        var files = await TestModels.BuildSyntheticAsync(dir.Path);
        using var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = files.ModelPath, VocabPath = files.VocabPath, CacheSize = 2 });
        var runs = generator.RunCount;
        var a = await generator.EmbedAsync("play some music");
        var b = await generator.EmbedAsync("play some music");
        Assert.Same(a, b);
        Assert.Equal(runs + 1, generator.RunCount);
        await generator.EmbedAsync("x");
        await generator.EmbedAsync("y"); // evicts "play some music"
        Assert.Equal(2, generator.CachedCount);
        Assert.NotSame(a, await generator.EmbedAsync("play some music"));
    }

    [Fact]
    public async Task Should_Answer_Every_Caller_When_Callers_Keep_Arriving_While_A_Run_Ends()
    {
        // Arrange: two callers at a time, one request each, many rounds: each round's last request must not be left queued
        // when the leader that finished its run and the newcomer meet (a CI run of the eval hung on that). A stress check:
        // the race needs a preemption between two instructions, and this did not reproduce it before the fix either.
        using var dir = new TempDir();
        var files = await TestModels.BuildSyntheticAsync(dir.Path);
        using var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = files.ModelPath, VocabPath = files.VocabPath, CacheSize = 0 });

        // Act
        for (var round = 0; round < 2000; round++)
        {
            var both = Task.WhenAll(
                Task.Run(() => generator.EmbedAsync($"turn on the light {round}").AsTask()),
                Task.Run(() => generator.EmbedAsync($"weather {round}").AsTask()));

            // Assert
            await both.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Should_GiveSameVectorsAsSequential_When_ManyConcurrentRequestsAreBatched()
    {
        using var dir = new TempDir();
        var files = await TestModels.BuildSyntheticAsync(dir.Path);
        using var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = files.ModelPath, VocabPath = files.VocabPath, CacheSize = 0 });
        var texts = Enumerable.Range(0, 400).Select(i => (i % 3) switch { 0 => "turn on the light", 1 => "check my account balance please", _ => "weather" } + new string('!', i % 5)).ToArray();
        var expected = texts.Select(generator.Embed).ToArray();
        var runsBefore = generator.RunCount;

        var actual = await Task.WhenAll(texts.Select(t => Task.Run(() => generator.EmbedAsync(t).AsTask())));

        for (var i = 0; i < texts.Length; i++) Assert.Equal(expected[i], actual[i]);
        Assert.True(generator.RunCount - runsBefore <= texts.Length);
        var many = await generator.EmbedAsync(texts); // one call, batched into runs of MaxBatchSize
        Assert.Equal(expected[7], many[7]);
    }

    [Fact]
    public async Task Should_FeedMaskAndTokenTypes_When_ModelIsBertStyle()
    {
        using var dir = new TempDir();
        var (model, vocab) = TestModels.BuildTinyBert(dir.Path);
        using var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = model, VocabPath = vocab, CacheSize = 0 });
        Assert.Equal(4, generator.Dimensions);

        var alone = await generator.EmbedAsync(["hello world"]);
        var batched = await generator.EmbedAsync(["hello world", "turn on the kitchen lights hello hello world"]);

        // Padding is masked out: the short text's vector does not change when batched with a longer one.
        for (var j = 0; j < 4; j++) Assert.Equal(alone[0][j], batched[0][j], 5);
        // WordPiece splits "lights" into light + ##s, both known.
        var ids = generator.Tokenizer.EncodeToIds("lights");
        Assert.Equal([8, 9], ids);
    }

    [Fact]
    public async Task Should_ReturnFirstToken_When_PoolingIsCls()
    {
        using var dir = new TempDir();
        var (model, vocab) = TestModels.BuildTinyBert(dir.Path);
        using var cls = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = model, VocabPath = vocab, Pooling = EmbeddingPooling.Cls, CacheSize = 0 });
        var a = await cls.EmbedAsync("hello");
        var b = await cls.EmbedAsync("zebra kitchen");
        Assert.Equal(a, b); // both are the [CLS] vector
    }

    [Fact]
    public async Task Should_ConcatenateUnitMeanAndMax_When_PoolingIsMeanMax()
    {
        using var dir = new TempDir();
        var files = await TestModels.BuildSyntheticAsync(dir.Path);
        using var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = files.ModelPath, VocabPath = files.VocabPath, Pooling = EmbeddingPooling.MeanMax });
        Assert.Equal(32, generator.Dimensions);
        var v = await generator.EmbedAsync("turn on the kitchen light");
        Assert.Equal(1f, MathF.Sqrt(v.Sum(x => x * x)), 3);
        Assert.Equal(MathF.Sqrt(0.5f), MathF.Sqrt(v.Take(16).Sum(x => x * x)), 3);
    }

    [Fact]
    public void Should_RejectModelWithUnknownInputs_When_Loading()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "odd.onnx");
        new Onnx.OnnxGraphBuilder("odd")
            .Input("input_ids", Onnx.OnnxDataType.Int64, "batch", "sequence")
            .Input("pixel_values", Onnx.OnnxDataType.Float, "batch", 3)
            .Output("out", Onnx.OnnxDataType.Float, "batch", 3)
            .Node("Identity", ["pixel_values"], ["out"])
            .Save(path);
        var (_, vocab) = TestModels.BuildTinyBert(dir.Path);
        var ex = Assert.Throws<NotSupportedException>(() => new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = path, VocabPath = vocab }));
        Assert.Contains("pixel_values", ex.Message);
    }

    [Fact]
    public async Task Should_RegisterGeneratorAndTrainer_When_AddIntentRecognitionIsCalled()
    {
        using var dir = new TempDir();
        var files = await TestModels.BuildSyntheticAsync(dir.Path);
        var services = new ServiceCollection()
            .AddIntentRecognition(o => o.Embedding = new OnnxEmbeddingOptions { ModelPath = files.ModelPath, VocabPath = files.VocabPath });
        using var provider = new MiniProvider(services);
        var generator = provider.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>();
        Assert.IsType<OnnxEmbeddingGenerator>(generator);
        var trainer = provider.GetRequiredService<IntentTrainer>();
        var classifier = await trainer.TrainAsync([
            new("turn on the light", "lights_on"), new("switch the lamp on", "lights_on"), new("lights on please", "lights_on"),
            new("what is my balance", "balance"), new("how much money is in my account", "balance"), new("check my savings", "balance"),
        ]);
        Assert.Equal("lights_on", classifier.Classify("turn the bedroom lamp on").TopIntent);
    }
}

/// <summary>Just enough of a container to resolve singletons (the test project has only the DI abstractions).</summary>
internal sealed class MiniProvider(IServiceCollection services) : IServiceProvider, IDisposable
{
    private readonly Dictionary<Type, object> _instances = [];

    public object? GetService(Type serviceType)
    {
        if (serviceType == typeof(IServiceProvider)) return this;
        if (_instances.TryGetValue(serviceType, out var existing)) return existing;
        var d = services.LastOrDefault(s => s.ServiceType == serviceType);
        if (d is null) return null;
        var instance = d.ImplementationInstance
            ?? d.ImplementationFactory?.Invoke(this)
            ?? ActivatorUtilities.CreateInstance(this, d.ImplementationType!);
        _instances[serviceType] = instance;
        return instance;
    }

    public void Dispose()
    {
        foreach (var d in _instances.Values.OfType<IDisposable>().Distinct()) d.Dispose();
    }
}
