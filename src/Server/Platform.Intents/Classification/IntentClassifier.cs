using System.Diagnostics;
using Microsoft.Extensions.AI;
using Platform.Intents.Embeddings;

namespace Platform.Intents.Classification;

/// <summary>
/// An intent classifier trained from example utterances. Features: word and character n-grams (language-independent,
/// so Chinese works) plus, when an embedding generator is given, the sentence embedding. The out-of-scope threshold is
/// calibrated from the examples by cross-validation in which some intents are held out as pseudo out-of-scope, unless
/// <see cref="IntentClassifierOptions.Threshold"/> fixes it. Thread-safe after training.
/// </summary>
public sealed class IntentClassifier
{
    private readonly FeatureSpace _space;
    private readonly ScoringModel _model;
    private readonly string[] _classes;
    private readonly bool[] _isOos;
    private readonly EmbeddingSource _embeddings;

    private IntentClassifier(FeatureSpace space, ScoringModel model, string[] classes, EmbeddingSource embeddings,
        IntentClassifierOptions options, double threshold, bool thresholdCalibrated, TimeSpan trainingTime)
    {
        _space = space;
        _model = model;
        _classes = classes;
        _isOos = classes.Select(IntentNames.IsOutOfScope).ToArray();
        _embeddings = embeddings;
        Options = options;
        Threshold = threshold;
        IsThresholdCalibrated = thresholdCalibrated;
        TrainingTime = trainingTime;
    }

    /// <summary>The options it was trained with.</summary>
    public IntentClassifierOptions Options { get; }

    /// <summary>The in-scope intents.</summary>
    public IReadOnlyList<string> Intents => _classes.Where(c => !IntentNames.IsOutOfScope(c)).ToArray();

    /// <summary>Below this confidence a result is out of scope.</summary>
    public double Threshold { get; }

    /// <summary>True when <see cref="Threshold"/> was calibrated from the examples rather than given.</summary>
    public bool IsThresholdCalibrated { get; }

    /// <summary>How long training took, calibration included (embedding the examples excluded).</summary>
    public TimeSpan TrainingTime { get; }

    /// <summary>How many distinct n-gram features the model knows.</summary>
    public int FeatureCount => _space.SparseCount;

    /// <summary>
    /// Trains a classifier. Examples whose intent is <c>oos</c>/<c>out_of_scope</c> are "not this" examples: they train
    /// an extra class that is reported as out of scope.
    /// </summary>
    /// <param name="examples">At least one in-scope example.</param>
    /// <param name="embeddingGenerator">Sentence embeddings; null uses n-grams only.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <param name="cancellationToken">Cancels training.</param>
    public static async Task<IntentClassifier> TrainAsync(IEnumerable<IntentExample> examples,
        IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator = null, IntentClassifierOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new IntentClassifierOptions();
        var list = examples.Where(e => !string.IsNullOrWhiteSpace(e.Text) && !string.IsNullOrWhiteSpace(e.Intent))
            .Select(e => IntentNames.IsOutOfScope(e.Intent) ? e with { Intent = IntentNames.OutOfScope } : e).ToList();
        if (!list.Any(e => e.Intent != IntentNames.OutOfScope)) throw new ArgumentException("At least one in-scope example is needed.", nameof(examples));
        var source = new EmbeddingSource(options.EmbeddingWeight > 0 ? embeddingGenerator : null);
        var embedded = await source.EmbedManyAsync(list.Select(e => e.Text).ToList(), cancellationToken).ConfigureAwait(false);
        return Train(list, embedded, source, options, cancellationToken);
    }

    internal static IntentClassifier Train(List<IntentExample> list, float[][]? embedded, EmbeddingSource source,
        IntentClassifierOptions options, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var fitted = Fit(list, embedded, options, ct);
        double threshold;
        var calibrated = false;
        if (options.Threshold is { } fixedThreshold)
        {
            threshold = fixedThreshold;
        }
        else
        {
            threshold = Calibrate(list, embedded, options, ct);
            calibrated = true;
        }
        return new IntentClassifier(fitted.Space, fitted.Model, fitted.Classes, source, options, threshold, calibrated, sw.Elapsed);
    }

    /// <summary>Classifies an utterance (embedding on the calling thread).</summary>
    public IntentResult Classify(string text) => Decide(Score(text, _embeddings.Embed(text)));

    /// <summary>Classifies an utterance; concurrent calls share embedding-model runs.</summary>
    public async ValueTask<IntentResult> ClassifyAsync(string text, CancellationToken cancellationToken = default)
    {
        var embedding = await _embeddings.EmbedAsync(text, cancellationToken).ConfigureAwait(false);
        return Decide(Score(text, embedding));
    }

    /// <summary>Returns the same model with another out-of-scope threshold.</summary>
    public IntentClassifier WithThreshold(double threshold) =>
        new(_space, _model, _classes, _embeddings, Options with { Threshold = threshold }, threshold, false, TrainingTime);

    private float[] Score(string text, float[]? embedding)
    {
        var x = _space.Transform(text, embedding);
        if (!_model.IsProbabilistic) x = Normalize(x);
        var scores = new float[_classes.Length];
        _model.Score(x, scores);
        return scores;
    }

    private IntentResult Decide(float[] scores)
    {
        var order = Enumerable.Range(0, scores.Length).OrderByDescending(i => scores[i]).ToArray();
        var alternatives = new List<IntentPrediction>(3);
        foreach (var i in order)
        {
            if (_isOos[i]) continue;
            alternatives.Add(new IntentPrediction(_classes[i], scores[i]));
            if (alternatives.Count == 3) break;
        }
        var top = alternatives[0];
        var oos = _isOos[order[0]] || top.Confidence < Threshold;
        return new IntentResult(oos ? IntentNames.OutOfScope : top.Intent, top.Confidence, oos, top.Intent, alternatives);
    }

    private sealed record Fitted(FeatureSpace Space, ScoringModel Model, string[] Classes);

    private static Fitted Fit(List<IntentExample> list, float[][]? embedded, IntentClassifierOptions options, CancellationToken ct)
    {
        var classes = list.Select(e => e.Intent).Distinct().OrderBy(c => c, StringComparer.Ordinal).ToArray();
        var classIndex = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i);
        var dims = embedded?.FirstOrDefault()?.Length ?? 0;
        var space = FeatureSpace.Fit(list.Select(e => e.Text).ToList(), options, dims);
        var xs = new FeatureVector[list.Count];
        for (var i = 0; i < list.Count; i++) xs[i] = space.Transform(list[i].Text, embedded?[i]);
        var ys = list.Select(e => classIndex[e.Intent]).ToArray();
        var method = classes.Length < 2 ? IntentClassifierMethod.NearestCentroid : options.Method;
        ScoringModel model = method switch
        {
            IntentClassifierMethod.LogisticRegression => LinearModel.TrainSoftmax(xs, ys, classes.Length, space.SparseCount, dims, options, ct),
            IntentClassifierMethod.NearestCentroid => LinearModel.TrainCentroids(xs.Select(Normalize).ToArray(), ys, classes.Length, space.SparseCount, dims),
            _ => new NeighborModel(xs.Select(Normalize).ToArray(), ys, classes.Length, space.SparseCount, dims, options.Neighbors),
        };
        return new Fitted(space, model, classes);
    }

    private static FeatureVector Normalize(FeatureVector x)
    {
        var n = x.SquaredNorm();
        return n > 0 ? x.Scaled(1f / MathF.Sqrt(n)) : x;
    }

    /// <summary>
    /// Cross-validation on the examples: in each fold a share of the intents is held out entirely, so their held-out
    /// examples play unseen out-of-scope utterances; "not this" examples count as out of scope too. The threshold
    /// maximises in-scope accuracy + w·out-of-scope recall over the held-out predictions.
    /// </summary>
    private static double Calibrate(List<IntentExample> list, float[][]? embedded, IntentClassifierOptions options, CancellationToken ct)
    {
        var rng = new Random(options.Seed);
        var inScope = list.Select(e => e.Intent).Where(i => i != IntentNames.OutOfScope).Distinct().OrderBy(i => i, StringComparer.Ordinal).ToArray();
        var minPerIntent = inScope.Min(i => list.Count(e => e.Intent == i));
        var folds = Math.Clamp(Math.Min(options.CalibrationFolds, minPerIntent), 2, 10);
        if (minPerIntent < 2) return 0;
        // Stratified fold assignment.
        var fold = new int[list.Count];
        foreach (var group in Enumerable.Range(0, list.Count).GroupBy(i => list[i].Intent))
        {
            var idx = group.ToArray();
            rng.Shuffle(idx);
            for (var j = 0; j < idx.Length; j++) fold[idx[j]] = j % folds;
        }
        var holdCount = inScope.Length >= 3 ? Math.Max(1, (int)Math.Round(inScope.Length * options.CalibrationHoldoutShare)) : 0;
        holdCount = Math.Min(holdCount, inScope.Length - 2);
        var shuffledIntents = inScope.ToArray();
        rng.Shuffle(shuffledIntents);
        var inScores = new List<(float Score, bool Correct)>();
        var oosScores = new List<(float Score, bool PredictedOos)>();
        for (var f = 0; f < folds; f++)
        {
            var held = new HashSet<string>(holdCount > 0
                ? Enumerable.Range(0, holdCount).Select(j => shuffledIntents[(f * holdCount + j) % shuffledIntents.Length])
                : []);
            var train = new List<IntentExample>();
            var trainEmb = embedded is null ? null : new List<float[]>();
            var test = new List<int>();
            for (var i = 0; i < list.Count; i++)
            {
                if (fold[i] == f) test.Add(i);
                else if (!held.Contains(list[i].Intent))
                {
                    train.Add(list[i]);
                    trainEmb?.Add(embedded![i]);
                }
            }
            if (train.Select(e => e.Intent).Distinct().Count(i => i != IntentNames.OutOfScope) < 1) continue;
            var fitted = Fit(train, trainEmb?.ToArray(), options, ct);
            var isOos = fitted.Classes.Select(c => c == IntentNames.OutOfScope).ToArray();
            var scores = new float[fitted.Classes.Length];
            foreach (var i in test)
            {
                var x = fitted.Space.Transform(list[i].Text, embedded?[i]);
                if (!fitted.Model.IsProbabilistic) x = Normalize(x);
                fitted.Model.Score(x, scores);
                var best = 0;
                var bestIn = -1;
                for (var c = 0; c < scores.Length; c++)
                {
                    if (scores[c] > scores[best]) best = c;
                    if (!isOos[c] && (bestIn < 0 || scores[c] > scores[bestIn])) bestIn = c;
                }
                var score = bestIn < 0 ? 0 : scores[bestIn];
                var predictedOos = isOos[best];
                if (list[i].Intent == IntentNames.OutOfScope || held.Contains(list[i].Intent))
                {
                    oosScores.Add((score, predictedOos));
                }
                else
                {
                    inScores.Add((score, !predictedOos && fitted.Classes[bestIn] == list[i].Intent));
                }
            }
        }
        return ChooseThreshold(inScores, oosScores, options.OutOfScopeWeight);
    }

    internal static double ChooseThreshold(List<(float Score, bool Correct)> inScores, List<(float Score, bool PredictedOos)> oosScores, double oosWeight)
    {
        if (inScores.Count == 0) return 0;
        if (oosScores.Count == 0)
        {
            // No out-of-scope evidence: accept all but the lowest 2% of correct in-scope scores.
            var correct = inScores.Where(s => s.Correct).Select(s => s.Score).OrderBy(s => s).ToList();
            return correct.Count == 0 ? 0 : correct[(int)(correct.Count * 0.02)] * 0.95;
        }
        var candidates = inScores.Select(s => s.Score).Concat(oosScores.Select(s => s.Score)).Distinct().OrderBy(s => s).ToList();
        candidates.Insert(0, 0f);
        var inSorted = inScores.OrderBy(s => s.Score).ToList();
        var oosSorted = oosScores.OrderBy(s => s.Score).ToList();
        var totalCorrect = inScores.Count(s => s.Correct);
        var oosAlways = oosScores.Count(s => s.PredictedOos);
        double best = double.NegativeInfinity;
        double bestT = 0;
        int ip = 0, op = 0, lostCorrect = 0, gainedOos = 0;
        for (var c = 0; c < candidates.Count; c++)
        {
            var t = candidates[c];
            // Everything with score < t is rejected.
            while (ip < inSorted.Count && inSorted[ip].Score < t) { if (inSorted[ip].Correct) lostCorrect++; ip++; }
            while (op < oosSorted.Count && oosSorted[op].Score < t) { if (!oosSorted[op].PredictedOos) gainedOos++; op++; }
            var acc = (double)(totalCorrect - lostCorrect) / inScores.Count;
            var recall = (double)(oosAlways + gainedOos) / oosScores.Count;
            var j = acc + oosWeight * recall;
            if (j > best + 1e-12)
            {
                best = j;
                // Midway to the previous candidate, so the threshold is not pinned on one training score.
                bestT = c == 0 ? t : (t + candidates[c - 1]) / 2.0;
            }
        }
        return bestT;
    }
}

/// <summary>Embeds texts through the fast path of <see cref="OnnxEmbeddingGenerator"/> or any generator.</summary>
internal sealed class EmbeddingSource(IEmbeddingGenerator<string, Embedding<float>>? generator)
{
    public bool Enabled => generator is not null;

    public float[]? Embed(string text) => generator switch
    {
        null => null,
        OnnxEmbeddingGenerator onnx => onnx.Embed(text),
        _ => generator.GenerateAsync([text]).GetAwaiter().GetResult()[0].Vector.ToArray(),
    };

    public async ValueTask<float[]?> EmbedAsync(string text, CancellationToken ct) => generator switch
    {
        null => null,
        OnnxEmbeddingGenerator onnx => await onnx.EmbedAsync(text, ct).ConfigureAwait(false),
        _ => (await generator.GenerateAsync([text], cancellationToken: ct).ConfigureAwait(false))[0].Vector.ToArray(),
    };

    public async Task<float[][]?> EmbedManyAsync(IReadOnlyList<string> texts, CancellationToken ct)
    {
        if (generator is null) return null;
        if (generator is OnnxEmbeddingGenerator onnx) return await onnx.EmbedAsync(texts, ct).ConfigureAwait(false);
        var result = new float[texts.Count][];
        for (var start = 0; start < texts.Count; start += 256)
        {
            var chunk = texts.Skip(start).Take(256).ToList();
            var e = await generator.GenerateAsync(chunk, cancellationToken: ct).ConfigureAwait(false);
            for (var i = 0; i < chunk.Count; i++) result[start + i] = e[i].Vector.ToArray();
        }
        return result;
    }
}
