using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Activities.AI;
using Platform.Engine.Knowledge;
using Platform.Knowledge;

namespace Platform.Server.Extensions;

/// <summary>
/// Knowledge bases (docs/ai.md, "Knowledge base"): the store (the platform database when persistence is registered, else
/// memory), <c>Platform:Knowledge</c> options, the local intent encoder as the chunk encoder, and
/// <see cref="Platform.Activities.IKnowledgeSearch"/> for the Retrieve activity.
/// </summary>
public static class KnowledgeHostExtensions
{
    /// <summary>Registers the knowledge bases. Call after <c>AddPlatformPersistence</c> and <c>AddPlatformAi</c>.</summary>
    /// <exception cref="InvalidOperationException">The configuration is not valid; the message says how to fix it.</exception>
    public static IServiceCollection AddPlatformKnowledge(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var options = new KnowledgeOptions();
        configuration.GetSection(KnowledgeOptions.SectionName).Bind(options);
        if (options.MaxUploadBytes <= 0)
            throw new InvalidOperationException($"{KnowledgeOptions.SectionName}:MaxUploadBytes is {options.MaxUploadBytes}: set a positive number of bytes (default 10485760).");
        if (options.ChunkSize is < 100 or > 10_000)
            throw new InvalidOperationException($"{KnowledgeOptions.SectionName}:ChunkSize is {options.ChunkSize}: use 100-10000 characters (default 800).");
        if (options.VectorWeight is < 0 or > 1)
            throw new InvalidOperationException($"{KnowledgeOptions.SectionName}:VectorWeight is {options.VectorWeight}: use 0-1 (default 0.6).");
        services.TryAddSingleton(options);
        services.TryAddSingleton<IKnowledgeStore, InMemoryKnowledgeStore>();
        services.TryAddSingleton<IKnowledgeEncoder, IntentKnowledgeEncoder>();
        services.TryAddSingleton<KnowledgeService>();
        services.TryAddSingleton<Platform.Activities.IKnowledgeSearch>(sp => sp.GetRequiredService<KnowledgeService>());
        return services;
    }
}

/// <summary>The knowledge bases' encoder: the intent recognition encoder (MiniLM by default, <c>Platform:AI:Embeddings</c>), loaded on first use.</summary>
public sealed class IntentKnowledgeEncoder(IntentEmbeddings embeddings) : IKnowledgeEncoder
{
    /// <inheritdoc />
    public Task<IEmbeddingGenerator<string, Embedding<float>>?> GetAsync(CancellationToken cancellationToken) => embeddings.WaitAsync(cancellationToken);
}
