using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Activities.AI;
using Platform.Engine.Descriptors;
using Platform.Intents.Embeddings;
using Platform.Intents.Evaluation;

namespace Platform.Server.Extensions;

/// <summary>
/// The AI pack's services: intent sets (in the platform database when <c>AddPlatformPersistence</c> came first, importing
/// <c>{dataDirectory}/intent-sets.json</c> once; else in that file), the embedding model (built in the
/// background on first use), trained-model cache, one activity type per intent set, and the chat model of AskModel.
/// </summary>
public static class AiHostExtensions
{
    /// <summary>The configuration section of the embeddings: <c>Enabled</c>, <c>Model</c> (minilm, arctic-xs, glove or a path),
    /// <c>DefaultSetEmbeddings</c> (transformer, fast), <c>WordVectorsPath</c>, <c>ModelPath</c>,
    /// <c>VocabPath</c>, <c>Pooling</c> (Mean, Cls, MeanMax), <c>LowerCase</c>, <c>TextPrefix</c>, <c>WarmUp</c>.</summary>
    public const string EmbeddingsSection = "Platform:AI:Embeddings";

    /// <summary>
    /// Registers intent recognition and AskModel. Add <c>AddActivitiesFrom&lt;AiPack&gt;()</c> to the engine as well.
    /// Nothing is built at start unless intent sets exist (then the embedding model is loaded in the background).
    /// </summary>
    /// <exception cref="InvalidOperationException">The configuration is not valid; the message says how to fix it.</exception>
    public static IServiceCollection AddPlatformAi(this IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        var embeddings = configuration.GetSection(EmbeddingsSection);
        var embeddingOptions = new IntentEmbeddingOptions
        {
            Enabled = embeddings.GetValue("Enabled", true),
            DataDirectory = dataDirectory,
            WordVectorsPath = NullIfEmpty(embeddings["WordVectorsPath"]),
        };
        // Model: minilm | arctic-xs | glove, or the path of an ONNX encoder (like ModelPath).
        var model = NullIfEmpty(embeddings["Model"]);
        var modelIsPath = model is not null && (model.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || model.Contains('/') || model.Contains('\\'));
        if (model is not null && !modelIsPath && model.Trim().ToLowerInvariant() is not ("minilm" or "arctic-xs" or "glove"))
        {
            throw new InvalidOperationException($"{EmbeddingsSection}:Model is '{model}': use minilm, arctic-xs, glove, or the path of an ONNX encoder (with VocabPath).");
        }
        if (!modelIsPath) embeddingOptions.ModelName = model;
        var defaultSetEmbeddings = NullIfEmpty(embeddings["DefaultSetEmbeddings"]) ?? IntentSetEmbeddings.Transformer;
        if (!IntentSetEmbeddings.IsValid(defaultSetEmbeddings))
        {
            throw new InvalidOperationException($"{EmbeddingsSection}:DefaultSetEmbeddings is '{defaultSetEmbeddings}': use transformer or fast.");
        }
        embeddingOptions.DefaultSetEmbeddings = defaultSetEmbeddings;
        if ((modelIsPath ? model : NullIfEmpty(embeddings["ModelPath"])) is { } modelPath)
        {
            embeddingOptions.Model = new OnnxEmbeddingOptions
            {
                ModelPath = modelPath,
                VocabPath = NullIfEmpty(embeddings["VocabPath"]),
                Pooling = embeddings.GetValue("Pooling", EmbeddingPooling.Mean),
                LowerCase = embeddings.GetValue("LowerCase", true),
                TextPrefix = NullIfEmpty(embeddings["TextPrefix"]),
            };
        }
        services.TryAddSingleton(embeddingOptions);
        var file = Path.Combine(dataDirectory, "intent-sets.json");
        if (services.HasConfigurationDocuments() && !services.Any(d => d.ServiceType == typeof(IIntentSetStore)))
        {
            // Shared by all nodes through the platform database; the node's old file is imported once.
            var interval = ConfigurationDocumentsHostExtensions.RefreshInterval(configuration);
            services.AddSingleton<IIntentSetStore>(sp => new DocumentIntentSetStore(sp.GetRequiredService<Platform.Activities.IConfigurationDocuments>(), interval,
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<DocumentIntentSetStore>()));
            services.AddConfigurationFileImport(DocumentIntentSetStore.Kind, file, async (sp, ct) =>
            {
                var store = sp.GetRequiredService<IIntentSetStore>();
                var sets = await new JsonFileIntentSetStore(file).ListAsync(ct);
                foreach (var set in sets) await store.SaveAsync(set, ct);
                return sets.Select(s => s.Id).ToList();
            });
        }
        services.TryAddSingleton<IIntentSetStore>(_ => new JsonFileIntentSetStore(file));
        services.TryAddSingleton<IntentEmbeddings>();
        services.TryAddSingleton<IntentSetModels>();
        services.TryAddSingleton(sp => new IntentActivityTypes(sp.GetRequiredService<ActivityRegistry>(), sp.GetRequiredService<IIntentSetStore>(),
            sp.GetRequiredService<IntentEmbeddings>(), embeddings.GetValue("WarmUp", true), sp.GetRequiredService<ILogger<IntentActivityTypes>>()));
        services.AddHostedService(sp => sp.GetRequiredService<IntentActivityTypes>());

        var chat = new ChatCompletionOptions();
        configuration.GetSection(ChatCompletionOptions.SectionName).Bind(chat);
        if (!string.IsNullOrWhiteSpace(chat.Endpoint))
        {
            try
            {
                ChatModelClient.EndpointUri(chat.Endpoint);
            }
            catch (ArgumentException e)
            {
                throw new InvalidOperationException(e.Message, e);
            }
        }
        services.TryAddSingleton(chat);
        services.TryAddSingleton(sp => new ChatModelClient(sp.GetRequiredService<ChatCompletionOptions>(), sp.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>
    /// Runs a command-line command instead of the web host: <c>eval-intents --data FILE.jsonl …</c> runs the intent
    /// evaluation (see docs/ai.md) and sets the exit code. Returns false when <paramref name="args"/> is not a command.
    /// </summary>
    public static async Task<bool> TryRunCommandAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || !string.Equals(args[0], "eval-intents", StringComparison.OrdinalIgnoreCase)) return false;
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        Environment.ExitCode = await IntentEvaluation.RunAsync(args, Console.Out, cts.Token);
        return true;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}

/// <summary>
/// Keeps one activity type per intent set in the <see cref="ActivityRegistry"/>: <c>Platform.RecognizeIntent.{id}</c>, with
/// the set's intents plus <c>OutOfScope</c> as ports, re-registered when a set is saved and removed when it is deleted.
/// At start it also loads the embedding model in the background when intent sets exist.
/// </summary>
public sealed class IntentActivityTypes : IHostedService
{
    private readonly ActivityRegistry _registry;
    private readonly IIntentSetStore _store;
    private readonly IntentEmbeddings _embeddings;
    private readonly bool _warmUp;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> _outcomes = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _subscribed;

    /// <summary>Creates the synchroniser.</summary>
    public IntentActivityTypes(ActivityRegistry registry, IIntentSetStore store, IntentEmbeddings embeddings, bool warmUp, ILogger<IntentActivityTypes> logger)
    {
        _registry = registry;
        _store = store;
        _embeddings = embeddings;
        _warmUp = warmUp;
        _logger = logger;
    }

    /// <summary>The descriptor of the generic type, whose ports follow its (literal) IntentSet input.</summary>
    public static string GenericTypeName => "Platform.RecognizeIntent";

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var sets = await SyncAsync(cancellationToken);
        if (sets > 0 && _warmUp) _embeddings.Start();
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Registers the types of all stored sets and follows later changes; returns the number of sets.</summary>
    public async Task<int> SyncAsync(CancellationToken cancellationToken = default)
    {
        if (!_subscribed)
        {
            _subscribed = true;
            _store.Changed += id => _ = Task.Run(() => RefreshAsync(id));
            if (_registry.Find(GenericTypeName) is { } generic)
                _registry.Register(generic with { Factory = () => new RecognizeIntent { OutcomeResolver = _outcomes.GetValueOrDefault } });
        }
        var sets = await _store.ListAsync(cancellationToken);
        foreach (var set in sets) Register(set);
        return sets.Count;
    }

    /// <summary>Registers or removes the type of one set from the store's current content.</summary>
    public async Task RefreshAsync(string id)
    {
        await _gate.WaitAsync();
        try
        {
            if (await _store.FindAsync(id) is { } set) Register(set);
            else
            {
                _outcomes.TryRemove(id, out _);
                foreach (var d in _registry.All.Where(d => string.Equals(d.TypeName, IntentSetRules.TypeNameOf(id), StringComparison.OrdinalIgnoreCase)).ToList())
                    _registry.Remove(d.TypeName);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogError(e, "The activity type of intent set {Id} could not be updated", id);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The descriptor of a set's type.</summary>
    public static ActivityDescriptor Describe(IntentSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var generic = ActivityRegistry.Describe(typeof(RecognizeIntent));
        var outcomes = TrainedIntentSet.OutcomesOf(set);
        var id = set.Id;
        return generic with
        {
            TypeName = IntentSetRules.TypeNameOf(id),
            Namespace = "Platform.RecognizeIntent",
            Name = id,
            DisplayName = $"Recognize Intent: {set.DisplayName}",
            Description = $"Recognises the intents of the set '{set.DisplayName}' ({string.Join(", ", set.Intents.Select(i => i.Name))}); " +
                "one port per intent, plus OutOfScope" + (outcomes.Contains(IntentSetRules.MissingSlotOutcome) ? " and MissingSlot (a required entity is missing: ask the Question, wait for the answer, come back here)" : "") +
                ". Edit the set on the Intents page.",
            Inputs = generic.Inputs.Where(i => i.Name != nameof(RecognizeIntent.IntentSet)).ToList(),
            Outcomes = outcomes,
            IsBrowsable = true,
            CustomProperties = new Dictionary<string, object?> { ["intentSet"] = id },
            Factory = () => new RecognizeIntent { PinnedIntentSet = id, PinnedOutcomes = outcomes },
        };
    }

    private void Register(IntentSet set)
    {
        var descriptor = Describe(set);
        _outcomes[set.Id] = descriptor.Outcomes;
        // A set re-created with another case of its id: drop the old type name.
        foreach (var old in _registry.All.Where(d => d.TypeName != descriptor.TypeName
                     && string.Equals(d.TypeName, descriptor.TypeName, StringComparison.OrdinalIgnoreCase)).ToList())
            _registry.Remove(old.TypeName);
        var current = _registry.Find(descriptor.TypeName);
        if (current is not null && current.Outcomes.SequenceEqual(descriptor.Outcomes) && current.DisplayName == descriptor.DisplayName
            && current.Description == descriptor.Description) return;
        _registry.Register(descriptor);
    }
}
