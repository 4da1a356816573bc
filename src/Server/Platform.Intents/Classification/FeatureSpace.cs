using Platform.Intents.Text;

namespace Platform.Intents.Classification;

/// <summary>An utterance as model input: sparse n-gram features plus the dense sentence embedding.</summary>
internal sealed class FeatureVector(int[] indices, float[] values, float[]? dense)
{
    public int[] Indices { get; } = indices;
    public float[] Values { get; } = values;
    public float[]? Dense { get; } = dense;

    public float SquaredNorm()
    {
        float s = 0;
        foreach (var v in Values) s += v * v;
        if (Dense is not null) foreach (var v in Dense) s += v * v;
        return s;
    }

    /// <summary>Dot product; both vectors have sorted indices.</summary>
    public float Dot(FeatureVector other)
    {
        float s = 0;
        int i = 0, j = 0;
        var a = Indices;
        var b = other.Indices;
        while (i < a.Length && j < b.Length)
        {
            if (a[i] == b[j]) s += Values[i++] * other.Values[j++];
            else if (a[i] < b[j]) i++;
            else j++;
        }
        if (Dense is not null && other.Dense is not null)
        {
            var n = Math.Min(Dense.Length, other.Dense.Length);
            for (var k = 0; k < n; k++) s += Dense[k] * other.Dense[k];
        }
        return s;
    }

    public FeatureVector Scaled(float factor)
    {
        var values = new float[Values.Length];
        for (var i = 0; i < values.Length; i++) values[i] = Values[i] * factor;
        float[]? dense = null;
        if (Dense is not null)
        {
            dense = new float[Dense.Length];
            for (var i = 0; i < dense.Length; i++) dense[i] = Dense[i] * factor;
        }
        return new FeatureVector(Indices, values, dense);
    }
}

/// <summary>
/// The n-gram vocabulary seen in training with inverse document frequencies. Features never seen in training would get
/// zero weight in any of the models, so indexing only the seen ones equals hashing without collisions.
/// </summary>
internal sealed class FeatureSpace
{
    private readonly Dictionary<ulong, int> _index;
    private readonly float[] _idf;
    private readonly IntentClassifierOptions _options;
    private readonly double _unknownIdf;

    private FeatureSpace(Dictionary<ulong, int> index, float[] idf, IntentClassifierOptions options, int denseDimensions, int documents)
    {
        _index = index;
        _idf = idf;
        _unknownIdf = Math.Log(documents + 1.0) + 1.0;
        _options = options;
        DenseDimensions = denseDimensions;
    }

    public int SparseCount => _idf.Length;

    /// <summary>Per feature index: true for character n-grams.</summary>
    public bool[] IsCharFeature { get; private init; } = [];

    public int DenseDimensions { get; }

    public static FeatureSpace Fit(IReadOnlyList<string> texts, IntentClassifierOptions options, int denseDimensions)
    {
        var df = new Dictionary<ulong, int>();
        var keys = new List<ulong>();
        var charKeys = new HashSet<ulong>();
        var chars = new List<ulong>();
        foreach (var text in texts)
        {
            keys.Clear();
            chars.Clear();
            Extract(text, options, keys, chars);
            foreach (var c in chars) charKeys.Add(c);
            keys.AddRange(chars);
            keys.Sort();
            for (var i = 0; i < keys.Count; i++)
            {
                if (i > 0 && keys[i] == keys[i - 1]) continue;
                df[keys[i]] = df.GetValueOrDefault(keys[i]) + 1;
            }
        }
        var index = new Dictionary<ulong, int>(df.Count);
        var idf = new float[df.Count];
        var isChar = new bool[df.Count];
        var n = texts.Count;
        foreach (var (key, count) in df)
        {
            idf[index.Count] = (float)(Math.Log((n + 1.0) / (count + 1.0)) + 1.0);
            isChar[index.Count] = charKeys.Contains(key);
            index[key] = index.Count;
        }
        return new FeatureSpace(index, idf, options, denseDimensions, n) { IsCharFeature = isChar };
    }

    public FeatureVector Transform(string text, float[]? embedding)
    {
        var words = new List<ulong>(32);
        var chars = new List<ulong>(128);
        Extract(text, _options, words, chars);
        var indices = new List<int>(words.Count + chars.Count);
        var values = new List<float>(words.Count + chars.Count);
        AddGroup(words, _options.WordWeight, indices, values);
        AddGroup(chars, _options.CharWeight, indices, values);
        float[]? dense = null;
        if (DenseDimensions > 0 && _options.EmbeddingWeight > 0 && embedding is not null)
        {
            dense = new float[DenseDimensions];
            var w = _options.EmbeddingWeight;
            for (var i = 0; i < Math.Min(DenseDimensions, embedding.Length); i++) dense[i] = embedding[i] * w;
        }
        var idx = indices.ToArray();
        var val = values.ToArray();
        Array.Sort(idx, val);
        return new FeatureVector(idx, val, dense);
    }

    private void AddGroup(List<ulong> keys, float weight, List<int> indices, List<float> values)
    {
        if (weight <= 0 || keys.Count == 0) return;
        keys.Sort();
        var start = indices.Count;
        double sum = 0;
        for (var i = 0; i < keys.Count;)
        {
            var j = i;
            while (j < keys.Count && keys[j] == keys[i]) j++;
            if (_index.TryGetValue(keys[i], out var idx))
            {
                var v = (float)((1 + Math.Log(j - i)) * _idf[idx]);
                indices.Add(idx);
                values.Add(v);
                sum += v * v;
            }
            else if (_options.CountUnknownFeatures)
            {
                // Unseen n-grams have no weights, but they are evidence that the text is unlike the examples:
                // they count in the norm (as the rarest features), so the known part of the vector shrinks.
                var v = (1 + Math.Log(j - i)) * _unknownIdf;
                sum += v * v;
            }
            i = j;
        }
        if (sum <= 0) return;
        var scale = (float)(weight / Math.Sqrt(sum));
        for (var i = start; i < values.Count; i++) values[i] *= scale;
    }

    private static void Extract(string text, IntentClassifierOptions options, List<ulong> words, List<ulong> chars)
    {
        var tokens = TextFeatures.Tokenize(text);
        if (options.WordWeight > 0) TextFeatures.WordFeatures(tokens, options.Ngrams, words);
        if (options.CharWeight > 0) TextFeatures.CharFeatures(tokens, options.Ngrams, chars);
    }
}
