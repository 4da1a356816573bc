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
    private readonly Fitted _fitted;
    private readonly string[] _classes;
    private readonly EmbeddingSource _embeddings;

    private IntentClassifier(Fitted fitted, EmbeddingSource embeddings,
        IntentClassifierOptions options, double threshold, bool thresholdCalibrated, TimeSpan trainingTime)
    {
        _fitted = fitted;
        _classes = fitted.Classes;
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
    public int FeatureCount => _fitted.Space.SparseCount;

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
        return new IntentClassifier(fitted, source, options, threshold, calibrated, sw.Elapsed);
    }

    /// <summary>Classifies an utterance (embedding on the calling thread); only its first
    /// <see cref="IntentTextLimits.MaxRecognizedLength"/> characters count.</summary>
    public IntentResult Classify(string text)
    {
        text = IntentTextLimits.Bound(text ?? "");
        return Decide(Evaluate(_fitted, text, _embeddings.Embed(text), Options));
    }

    /// <summary>Classifies an utterance; concurrent calls share embedding-model runs. Only its first
    /// <see cref="IntentTextLimits.MaxRecognizedLength"/> characters count.</summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async ValueTask<IntentResult> ClassifyAsync(string text, CancellationToken cancellationToken = default)
    {
        text = IntentTextLimits.Bound(text ?? "");
        var embedding = await _embeddings.EmbedAsync(text, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return Decide(Evaluate(_fitted, text, embedding, Options));
    }

    /// <summary>
    /// Classifies several utterances with one embedding-model run for all of them (for example the halves of a message cut
    /// in two); the results are in the order of <paramref name="texts"/> and equal those of <see cref="ClassifyAsync"/>.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async ValueTask<IReadOnlyList<IntentResult>> ClassifyManyAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0) return [];
        var bounded = texts.Select(t => IntentTextLimits.Bound(t ?? "")).ToList();
        var embeddings = await _embeddings.EmbedManyAsync(bounded, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        var results = new IntentResult[bounded.Count];
        for (var i = 0; i < bounded.Count; i++) results[i] = Decide(Evaluate(_fitted, bounded[i], embeddings?[i], Options));
        return results;
    }

    /// <summary>For diagnostics: the best in-scope intent, its model score and its nearest-example similarity.</summary>
    internal (string Intent, float ModelScore, float Similarity, bool PredictedOos, float ModelScore2, float Similarity2) Diagnose(string text)
    {
        var e = Evaluate(_fitted, text, _embeddings.Embed(text), Options);
        var top = e.Top[0];
        var second = e.Top.Length > 1 ? e.Top[1] : default;
        return (_classes[top.Class], top.ModelScore, top.Similarity, e.PredictedOosClass, second.ModelScore, second.Similarity);
    }

    /// <summary>Returns the same model with another out-of-scope threshold.</summary>
    public IntentClassifier WithThreshold(double threshold) =>
        new(_fitted, _embeddings, Options with { Threshold = threshold }, threshold, false, TrainingTime);

    private IntentResult Decide(Evaluation e)
    {
        var alternatives = e.Top.Select(t => new IntentPrediction(_classes[t.Class], t.Confidence)).ToArray();
        var top = alternatives[0];
        var oos = e.PredictedOosClass || top.Confidence < Threshold;
        return new IntentResult(oos ? IntentNames.OutOfScope : top.Intent, top.Confidence, oos, top.Intent, alternatives);
    }

    private sealed record Fitted(FeatureSpace Space, ScoringModel Model, string[] Classes, bool[] IsOos, ExampleMatrix[] UnitExamples);

    private readonly record struct Candidate(int Class, float ModelScore, float Similarity, float Confidence);

    private sealed record Evaluation(Candidate[] Top, bool PredictedOosClass);

    /// <summary>Scores a text: the top three in-scope intents with model score, nearest-example similarity and the
    /// confidence compared with the threshold, and whether a "not this" class won.</summary>
    private static Evaluation Evaluate(Fitted f, string text, float[]? embedding, IntentClassifierOptions options)
    {
        var x = f.Space.Transform(text, embedding);
        var unit = Normalize(x);
        var scores = new float[f.Classes.Length];
        f.Model.Score(f.Model.IsProbabilistic ? x : unit, scores);
        var best = 0;
        for (var c = 1; c < scores.Length; c++) if (scores[c] > scores[best]) best = c;
        Span<int> top = stackalloc int[3];
        var count = 0;
        for (var c = 0; c < scores.Length; c++)
        {
            if (f.IsOos[c]) continue;
            var p = Math.Min(count, 3);
            while (p > 0 && scores[top[p - 1]] < scores[c])
            {
                if (p < 3) top[p] = top[p - 1];
                p--;
            }
            if (p < 3)
            {
                top[p] = c;
                if (count < 3) count++;
            }
        }
        var result = new Candidate[count];
        for (var i = 0; i < count; i++)
        {
            var c = top[i];
            var sim = f.UnitExamples[c].NearestSimilarity(unit, f.Space.SparseCount);
            var conf = options.OutOfScopeScore switch
            {
                OutOfScopeScore.ModelScore => scores[c],
                OutOfScopeScore.NearestExample => sim,
                _ => scores[c] * sim,
            };
            result[i] = new Candidate(c, scores[c], sim, conf);
        }
        return new Evaluation(result, f.IsOos[best]);
    }

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
        var units = xs.Select(Normalize).ToArray();
        ScoringModel model = method switch
        {
            IntentClassifierMethod.LogisticRegression => LinearModel.TrainSoftmax(xs, ys, classes.Length, space.SparseCount, dims, options, ct),
            IntentClassifierMethod.NearestCentroid => LinearModel.TrainCentroids(units, ys, classes.Length, space.SparseCount, dims),
            _ => new NeighborModel(units, ys, classes.Length, space.SparseCount, dims, options.Neighbors),
        };
        var byClass = Enumerable.Range(0, classes.Length).Select(c => new ExampleMatrix(Enumerable.Range(0, units.Length).Where(i => ys[i] == c).Select(i => units[i]).ToList(), dims, space.IsCharFeature)).ToArray();
        return new Fitted(space, model, classes, classes.Select(c => c == IntentNames.OutOfScope).ToArray(), byClass);
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
    private static double Calibrate(List<IntentExample> all, float[][]? allEmbedded, IntentClassifierOptions options, CancellationToken ct)
    {
        var rng = new Random(options.Seed);
        // Large sets: calibrate on at most CalibrationMaxPerIntent examples per intent, which bounds the cost.
        var keep = Enumerable.Range(0, all.Count).GroupBy(i => all[i].Intent).SelectMany(g =>
        {
            var idx = g.ToArray();
            rng.Shuffle(idx);
            return idx.Take(options.CalibrationMaxPerIntent);
        }).Order().ToArray();
        var list = keep.Select(i => all[i]).ToList();
        var embedded = allEmbedded is null ? null : keep.Select(i => allEmbedded[i]).ToArray();
        var inScope = list.Select(e => e.Intent).Where(i => i != IntentNames.OutOfScope).Distinct().OrderBy(i => i, StringComparer.Ordinal).ToArray();
        var minPerIntent = inScope.Min(i => list.Count(e => e.Intent == i));
        if (minPerIntent < 2) return 0;
        var folds = Math.Clamp(Math.Min(options.CalibrationFolds, minPerIntent), 2, 10);
        // Stratified fold assignment.
        var fold = new int[list.Count];
        foreach (var group in Enumerable.Range(0, list.Count).GroupBy(i => list[i].Intent))
        {
            var idx = group.ToArray();
            rng.Shuffle(idx);
            for (var j = 0; j < idx.Length; j++) fold[idx[j]] = j % folds;
        }
        var hasNotThis = list.Any(e => e.Intent == IntentNames.OutOfScope);
        var rule = options.OutOfScopeRule == OutOfScopeRule.Auto
            ? hasNotThis ? OutOfScopeRule.NotThisExamples : OutOfScopeRule.HeldOutIntents
            : options.OutOfScopeRule;
        if (rule == OutOfScopeRule.NotThisClass) return 0;
        if (rule == OutOfScopeRule.NotThisExamples && !hasNotThis) rule = OutOfScopeRule.HeldOutIntents;
        var holdCount = rule == OutOfScopeRule.HeldOutIntents && inScope.Length >= 3 ? Math.Max(1, (int)Math.Round(inScope.Length * options.CalibrationHoldoutShare)) : 0;
        holdCount = Math.Min(holdCount, inScope.Length - 2);
        var shuffledIntents = inScope.ToArray();
        rng.Shuffle(shuffledIntents);
        var inScores = new List<(float Score, bool Correct)>[folds];
        var oosScores = new List<(float Score, bool PredictedOos)>[folds];
        Parallel.For(0, folds, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.TrainingParallelism), CancellationToken = ct }, f =>
        {
            inScores[f] = [];
            oosScores[f] = [];
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
            if (!train.Any(e => e.Intent != IntentNames.OutOfScope)) return;
            var fitted = Fit(train, trainEmb?.ToArray(), options, ct);
            foreach (var i in test)
            {
                var e = Evaluate(fitted, list[i].Text, embedded?[i], options);
                var score = e.Top[0].Confidence;
                if (list[i].Intent == IntentNames.OutOfScope || held.Contains(list[i].Intent))
                {
                    oosScores[f].Add((score, e.PredictedOosClass));
                }
                else
                {
                    inScores[f].Add((score, !e.PredictedOosClass && fitted.Classes[e.Top[0].Class] == list[i].Intent));
                }
            }
        });
        return ChooseThreshold(inScores.Where(l => l is not null).SelectMany(l => l).ToList(),
            oosScores.Where(l => l is not null).SelectMany(l => l).ToList(), options.OutOfScopeWeight,
            rule == OutOfScopeRule.HeldOutIntents ? options.MaxInScopeLoss : 1);
    }

    internal static double ChooseThreshold(List<(float Score, bool Correct)> inScores, List<(float Score, bool PredictedOos)> oosScores, double oosWeight,
        double maxInScopeLoss = 1)
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
            if ((double)lostCorrect / inScores.Count > maxInScopeLoss + 1e-12) break; // higher thresholds lose even more
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
