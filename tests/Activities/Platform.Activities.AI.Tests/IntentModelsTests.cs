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
