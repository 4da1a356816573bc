using Microsoft.Extensions.DependencyInjection;
using Platform.Testing;

namespace Platform.Activities.AI.Tests;

public sealed class IntentModelsTests
{
    [Fact]
    public async Task Should_ReadTheSetsBack_When_TheStoreIsReopened()
    {
        // Arrange
        using var dir = new TempDirectory("ai-store");
        var path = dir.File("intent-sets.json");
        await new JsonFileIntentSetStore(path).SaveAsync(Sets.Assistant());

        // Act
        var reopened = await new JsonFileIntentSetStore(path).FindAsync("ASSISTANT");

        // Assert
        Assert.NotNull(reopened);
        Assert.Equal(Sets.Assistant().Intents.Select(i => i.Name), reopened.Intents.Select(i => i.Name));
        Assert.Equal("cooking area", reopened.Entities[0].Values[0].Synonyms[0]);
        Assert.Contains("\"examples\"", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task Should_ReuseTheModel_When_TheVersionIsUnchangedAndRetrain_When_ItChanges()
    {
        // Arrange
        await using var host = new AiHost();
        var models = host.Services.GetRequiredService<IntentSetModels>();
        await host.SaveAsync(Sets.Assistant(version: 1));

        // Act
        var first = await models.GetAsync("assistant");
        var again = await models.GetAsync("assistant");
        await host.SaveAsync(Sets.Assistant(version: 2));
        var retrained = await models.GetAsync("assistant");

        // Assert
        Assert.Same(first, again);
        Assert.NotSame(first, retrained);
        Assert.Equal(2, retrained!.Set.Version);
        Assert.False(retrained.UsesEmbeddings);
        Assert.Null(await models.GetAsync("missing"));
    }

    [Fact]
    public async Task Should_RetrainWithEmbeddings_When_TheModelBecomesReady()
    {
        // Arrange
        using var dir = new TempDirectory("ai-embed");
        await using var host = new AiHost(new Dictionary<string, string?>
        {
            ["Platform:AI:Embeddings:Enabled"] = "true",
            ["Platform:AI:Embeddings:WordVectorsPath"] = WordVectors.Write(dir.Path),
        });
        var models = host.Services.GetRequiredService<IntentSetModels>();
        await host.SaveAsync(Sets.Assistant());

        // Act
        await models.Embeddings.WaitAsync();
        var trained = await models.GetAsync("assistant");
        var result = await trained!.RecognizeAsync("switch the heater off", DateTimeOffset.UtcNow);

        // Assert
        Assert.Equal(IntentEmbeddingState.Ready, models.Embeddings.State);
        Assert.True(trained.UsesEmbeddings);
        Assert.Equal("device_off", result.Intent);
    }

    [Fact]
    public void Should_ListEveryProblem_When_ASetIsInvalid()
    {
        // Arrange
        var set = Sets.Assistant() with
        {
            Intents = [new IntentDefinition { Name = "a", Examples = ["x", "y"] }, new IntentDefinition { Name = "a", Examples = ["x", "y", "z"] }],
            Entities = [new IntentEntityDefinition { Name = "room", Kind = "list" }],
        };

        // Act
        var problems = IntentSetRules.Validate(set);

        // Assert
        Assert.Contains(problems, p => p.Contains("'a' has 2", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("appears twice", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'room' needs values", StringComparison.Ordinal));
    }
}

public sealed class IntentEmbeddingModesTests
{
    /// <summary>A tiny BERT-shaped encoder (input_ids, attention_mask → last_hidden_state = E[ids] · mask), so no test pays for MiniLM.</summary>
    private static (string Model, string Vocab) TinyEncoder(string directory)
    {
        string[] vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "turn", "switch", "on", "off", "the", "light", "heater", "fan", "orders", "today", "how", "many"];
        const int dims = 6;
        var rng = new Random(5);
        var e = new float[vocab.Length * dims];
        for (var i = 0; i < e.Length; i++) e[i] = (float)(rng.NextDouble() * 2 - 1);
        var model = Path.Combine(directory, "tiny.onnx");
        new Platform.Intents.Onnx.OnnxGraphBuilder("tiny_encoder")
            .Initializer("word_embeddings", [vocab.Length, dims], e)
            .Initializer("unsqueeze_axes", [1], new long[] { 2 })
            .Input("input_ids", Platform.Intents.Onnx.OnnxDataType.Int64, "batch", "sequence")
            .Input("attention_mask", Platform.Intents.Onnx.OnnxDataType.Int64, "batch", "sequence")
            .Output("last_hidden_state", Platform.Intents.Onnx.OnnxDataType.Float, "batch", "sequence", dims)
            .Node("Gather", ["word_embeddings", "input_ids"], ["words"], new Dictionary<string, long> { ["axis"] = 0 })
            .Node("Cast", ["attention_mask"], ["mask_float"], new Dictionary<string, long> { ["to"] = (long)Platform.Intents.Onnx.OnnxDataType.Float })
            .Node("Unsqueeze", ["mask_float", "unsqueeze_axes"], ["mask3"])
            .Node("Mul", ["words", "mask3"], ["last_hidden_state"])
            .Save(model);
        var vocabPath = Path.Combine(directory, "vocab.txt");
        File.WriteAllLines(vocabPath, vocab);
        return (model, vocabPath);
    }

    [Fact]
    public async Task Should_TrainOnTheDistilledTable_When_ASetAsksForFastMode()
    {
        // Arrange
        using var dir = new TempDirectory("ai-fast");
        var (model, vocab) = TinyEncoder(dir.Path);
        await using var host = new AiHost(new Dictionary<string, string?>
        {
            ["Platform:AI:Embeddings:Enabled"] = "true",
            ["Platform:AI:Embeddings:Model"] = model,
            ["Platform:AI:Embeddings:VocabPath"] = vocab,
        });
        var models = host.Services.GetRequiredService<IntentSetModels>();
        await host.SaveAsync(Sets.Assistant() with { Embeddings = IntentSetEmbeddings.Fast });
        await host.SaveAsync(Sets.Assistant() with { Id = "assistant2" });

        // Act
        await models.Embeddings.WaitAsync();
        var fast = await models.Embeddings.WaitFastAsync();
        var fastSet = await models.GetAsync("assistant");
        var transformerSet = await models.GetAsync("assistant2");

        // Assert
        Assert.True(models.Embeddings.HasFastMode);
        Assert.NotSame(models.Embeddings.Current, fast);
        Assert.Same(fast, models.Embeddings.CurrentFor(IntentSetEmbeddings.Fast));
        Assert.True(fastSet!.UsesEmbeddings);
        Assert.True(transformerSet!.UsesEmbeddings);
        Assert.Single(Directory.GetDirectories(dir.Path, "fast-*")); // distilled next to the encoder, once
        var result = await fastSet.RecognizeAsync("switch the heater off", DateTimeOffset.UtcNow);
        Assert.Equal("device_off", result.Intent);
    }

    [Fact]
    public void Should_RejectAnUnknownMode_When_ASetIsValidated()
    {
        // Act
        var problems = IntentSetRules.Validate(Sets.Assistant() with { Embeddings = "turbo" });

        // Assert
        Assert.Contains(problems, p => p.Contains("'turbo' is unknown", StringComparison.Ordinal));
    }
}
