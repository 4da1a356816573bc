using Platform.Intents.Text;

namespace Platform.Intents.Classification;

/// <summary>One example utterance of an intent. Intent <see cref="IntentNames.OutOfScope"/> marks a "not this" example.</summary>
/// <param name="Text">The utterance.</param>
/// <param name="Intent">The intent name.</param>
public sealed record IntentExample(string Text, string Intent);

/// <summary>An intent and its score.</summary>
/// <param name="Intent">The intent name.</param>
/// <param name="Confidence">The score: a probability for logistic regression, a cosine similarity otherwise.</param>
public sealed record IntentPrediction(string Intent, double Confidence);

/// <summary>What <see cref="IntentClassifier.Classify"/> found.</summary>
/// <param name="Intent">The intent, or <see cref="IntentNames.OutOfScope"/>.</param>
/// <param name="Confidence">The best in-scope intent's score.</param>
/// <param name="IsOutOfScope">True when the best score is below the threshold or the best class is a "not this" class.</param>
/// <param name="TopIntent">The best in-scope intent even when the result is out of scope.</param>
/// <param name="Alternatives">The top three in-scope intents, best first.</param>
public sealed record IntentResult(string Intent, double Confidence, bool IsOutOfScope, string TopIntent, IReadOnlyList<IntentPrediction> Alternatives);

/// <summary>Intent names with a meaning.</summary>
public static class IntentNames
{
    /// <summary>The out-of-scope intent.</summary>
    public const string OutOfScope = "oos";

    /// <summary>True for <c>oos</c> and <c>out_of_scope</c> (any case), the names that mark out-of-scope examples.</summary>
    public static bool IsOutOfScope(string intent) =>
        string.Equals(intent, OutOfScope, StringComparison.OrdinalIgnoreCase)
        || string.Equals(intent, "out_of_scope", StringComparison.OrdinalIgnoreCase)
        || string.Equals(intent, "out-of-scope", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The classification method.</summary>
public enum IntentClassifierMethod
{
    /// <summary>Multinomial logistic (softmax) regression on n-grams and the sentence embedding. The default.</summary>
    LogisticRegression,
    /// <summary>Cosine similarity to each intent's mean vector.</summary>
    NearestCentroid,
    /// <summary>Per intent, the mean cosine similarity of the k nearest examples.</summary>
    NearestNeighbors,
}

/// <summary>The score compared with the out-of-scope threshold.</summary>
public enum OutOfScopeScore
{
    /// <summary>The model's score of the best intent (the probability, for logistic regression).</summary>
    ModelScore,
    /// <summary>The cosine similarity to the nearest example of the best intent.</summary>
    NearestExample,
    /// <summary>The product of the two: unsure between intents or far from every example both lower it. The default.</summary>
    Combined,
}

/// <summary>Options of <see cref="IntentClassifier"/>.</summary>
public sealed record IntentClassifierOptions
{
    /// <summary>The method. Default logistic regression.</summary>
    public IntentClassifierMethod Method { get; init; } = IntentClassifierMethod.LogisticRegression;

    /// <summary>The score compared with the threshold. Default <see cref="OutOfScopeScore.Combined"/>.</summary>
    public OutOfScopeScore OutOfScopeScore { get; init; } = OutOfScopeScore.Combined;

    /// <summary>A fixed out-of-scope threshold on the confidence; null calibrates it from the examples.</summary>
    public double? Threshold { get; init; }

    /// <summary>The n-gram features.</summary>
    public NgramOptions Ngrams { get; init; } = new();

    /// <summary>Unseen n-grams count in each block's norm, so a text with many unknown words scores lower. Default true.</summary>
    public bool CountUnknownFeatures { get; init; } = true;

    /// <summary>Weight of the word n-gram block (each block is L2-normalised first). Default 1.</summary>
    public float WordWeight { get; init; } = 1f;

    /// <summary>Weight of the character n-gram block. Default 1.</summary>
    public float CharWeight { get; init; } = 1f;

    /// <summary>Weight of the sentence-embedding block; 0 ignores the embedding. Default 1.</summary>
    public float EmbeddingWeight { get; init; } = 1f;

    /// <summary>Logistic regression: passes over the examples. Default 15.</summary>
    public int Epochs { get; init; } = 15;

    /// <summary>Logistic regression: initial learning rate. Default 0.5.</summary>
    public float LearningRate { get; init; } = 0.5f;

    /// <summary>Logistic regression: L2 penalty per update. Default 1e-4.</summary>
    public float L2 { get; init; } = 1e-4f;

    /// <summary>Nearest neighbours: how many examples per intent are averaged. Default 3.</summary>
    public int Neighbors { get; init; } = 3;

    /// <summary>Calibration: the folds of the cross-validation that calibrates the threshold. Default 5.</summary>
    public int CalibrationFolds { get; init; } = 5;

    /// <summary>Calibration: the share of intents held out as pseudo-out-of-scope in each fold. Default 0.25.</summary>
    public double CalibrationHoldoutShare { get; init; } = 0.25;

    /// <summary>Calibration: the weight of out-of-scope recall against in-scope accuracy when choosing the threshold. Default 1.</summary>
    public double OutOfScopeWeight { get; init; } = 1.0;

    /// <summary>How the out-of-scope threshold is calibrated when it is not fixed. Default <see cref="OutOfScopeRule.Auto"/>.</summary>
    public OutOfScopeRule OutOfScopeRule { get; init; } = OutOfScopeRule.Auto;

    /// <summary>Calibration with held-out intents: the threshold may cost at most this share of held-out in-scope accuracy
    /// (against no threshold), so in-scope accuracy cannot collapse. Default 1 (no cap: not yet measured on the development
    /// sets; on small sets each held-out example is several percent, so a tight cap turns the threshold off).</summary>
    public double MaxInScopeLoss { get; init; } = 1;

    /// <summary>Calibration: at most this many examples per intent take part (bounds the cost on large sets). Default 40.</summary>
    public int CalibrationMaxPerIntent { get; init; } = 40;

    /// <summary>How many calibration folds train at once. Default: up to 2, never more than the cores.</summary>
    public int TrainingParallelism { get; init; } = Math.Min(2, Environment.ProcessorCount);

    /// <summary>Seed of the shuffles, so training is repeatable.</summary>
    public int Seed { get; init; } = 42;
}

/// <summary>How <see cref="IntentClassifier"/> decides "out of scope" when no threshold is given.</summary>
public enum OutOfScopeRule
{
    /// <summary><see cref="NotThisExamples"/> when the examples include "not this" lines, else <see cref="HeldOutIntents"/>.</summary>
    Auto,
    /// <summary>Cross-validation in which a share of the intents is held out as pseudo-out-of-scope (the "not this" lines
    /// count as out of scope too); the loss of in-scope accuracy is capped by <see cref="IntentClassifierOptions.MaxInScopeLoss"/>.</summary>
    HeldOutIntents,
    /// <summary>Cross-validation without held-out intents: only the held-out "not this" lines play out of scope.</summary>
    NotThisExamples,
    /// <summary>No threshold (0): only the trained "not this" class makes a result out of scope.</summary>
    NotThisClass,
}
