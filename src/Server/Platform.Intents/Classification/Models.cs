using System.Numerics;

namespace Platform.Intents.Classification;

/// <summary>A trained scorer: one score per class.</summary>
internal abstract class ScoringModel
{
    protected ScoringModel(int classes) => Classes = classes;

    public int Classes { get; }

    /// <summary>True when <see cref="Score"/> gives probabilities (they sum to 1).</summary>
    public abstract bool IsProbabilistic { get; }

    public abstract void Score(FeatureVector x, Span<float> scores);

    protected static void Axpy(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && y.Length >= Vector<float>.Count)
        {
            var va = new Vector<float>(a);
            for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                var vy = new Vector<float>(y[i..]);
                (vy + va * new Vector<float>(x[i..])).CopyTo(y[i..]);
            }
        }
        for (; i < y.Length; i++) y[i] += a * x[i];
    }
}

/// <summary>A linear model: W is laid out feature-major ([feature][class]) so a sparse row update is contiguous.</summary>
internal sealed class LinearModel : ScoringModel
{
    private readonly float[] _weights;
    private readonly float[] _bias;
    private readonly int _sparse;
    private readonly int _dense;
    private readonly bool _softmax;

    private LinearModel(int classes, int sparse, int dense, bool softmax) : base(classes)
    {
        _sparse = sparse;
        _dense = dense;
        _softmax = softmax;
        _weights = new float[(sparse + dense) * classes];
        _bias = new float[classes];
    }

    public override bool IsProbabilistic => _softmax;

    public override void Score(FeatureVector x, Span<float> scores)
    {
        Logits(x, scores);
        if (_softmax) Softmax(scores);
    }

    private void Logits(FeatureVector x, Span<float> logits)
    {
        var k = Classes;
        _bias.CopyTo(logits);
        var w = _weights.AsSpan();
        for (var i = 0; i < x.Indices.Length; i++) Axpy(logits, x.Values[i], w.Slice(x.Indices[i] * k, k));
        if (x.Dense is { } d)
        {
            for (var j = 0; j < Math.Min(d.Length, _dense); j++) Axpy(logits, d[j], w.Slice((_sparse + j) * k, k));
        }
    }

    private static void Softmax(Span<float> v)
    {
        var max = float.NegativeInfinity;
        foreach (var x in v) max = Math.Max(max, x);
        float sum = 0;
        for (var i = 0; i < v.Length; i++)
        {
            v[i] = MathF.Exp(v[i] - max);
            sum += v[i];
        }
        for (var i = 0; i < v.Length; i++) v[i] /= sum;
    }

    /// <summary>Softmax regression by SGD with a 1/(1+epoch) learning-rate decay and L2 on the touched rows.</summary>
    public static LinearModel TrainSoftmax(IReadOnlyList<FeatureVector> xs, IReadOnlyList<int> ys, int classes, int sparse, int dense,
        IntentClassifierOptions options, CancellationToken ct)
    {
        var m = new LinearModel(classes, sparse, dense, softmax: true);
        var k = classes;
        var order = Enumerable.Range(0, xs.Count).ToArray();
        var rng = new Random(options.Seed);
        var g = new float[k];
        var w = m._weights.AsSpan();
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            rng.Shuffle(order);
            var lr = options.LearningRate / (1f + epoch);
            var decay = 1f - lr * options.L2;
            foreach (var n in order)
            {
                var x = xs[n];
                m.Logits(x, g);
                Softmax(g);
                g[ys[n]] -= 1f;
                for (var i = 0; i < x.Indices.Length; i++)
                {
                    ScaleAxpy(w.Slice(x.Indices[i] * k, k), decay, -lr * x.Values[i], g);
                }
                if (x.Dense is { } d)
                {
                    for (var j = 0; j < Math.Min(d.Length, dense); j++)
                    {
                        ScaleAxpy(w.Slice((sparse + j) * k, k), decay, -lr * d[j], g);
                    }
                }
                Axpy(m._bias, -lr, g);
            }
        }
        return m;
    }

    /// <summary>Nearest centroid: each class's mean unit vector, re-normalised; the score is the cosine.</summary>
    public static LinearModel TrainCentroids(IReadOnlyList<FeatureVector> unitXs, IReadOnlyList<int> ys, int classes, int sparse, int dense)
    {
        var m = new LinearModel(classes, sparse, dense, softmax: false);
        var k = classes;
        for (var n = 0; n < unitXs.Count; n++)
        {
            var x = unitXs[n];
            for (var i = 0; i < x.Indices.Length; i++) m._weights[x.Indices[i] * k + ys[n]] += x.Values[i];
            if (x.Dense is { } d)
                for (var j = 0; j < Math.Min(d.Length, dense); j++) m._weights[(sparse + j) * k + ys[n]] += d[j];
        }
        var norms = new double[k];
        for (var f = 0; f < sparse + dense; f++)
            for (var c = 0; c < k; c++) norms[c] += m._weights[f * k + c] * (double)m._weights[f * k + c];
        for (var f = 0; f < sparse + dense; f++)
            for (var c = 0; c < k; c++)
                if (norms[c] > 0) m._weights[f * k + c] = (float)(m._weights[f * k + c] / Math.Sqrt(norms[c]));
        return m;
    }

    /// <summary>y = y·decay + a·x in one pass.</summary>
    private static void ScaleAxpy(Span<float> y, float decay, float a, ReadOnlySpan<float> x)
    {
        var i = 0;
        if (Vector.IsHardwareAccelerated && y.Length >= Vector<float>.Count)
        {
            var vd = new Vector<float>(decay);
            var va = new Vector<float>(a);
            for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                (new Vector<float>(y[i..]) * vd + va * new Vector<float>(x[i..])).CopyTo(y[i..]);
            }
        }
        for (; i < y.Length; i++) y[i] = y[i] * decay + a * x[i];
    }
}

/// <summary>k nearest neighbours on unit vectors: a class's score is the mean cosine of its k most similar examples.</summary>
internal sealed class NeighborModel : ScoringModel
{
    private readonly List<(int Example, float Value)>[] _postings;
    private readonly float[] _dense;
    private readonly int _denseDims;
    private readonly int[] _labels;
    private readonly int _k;

    public NeighborModel(IReadOnlyList<FeatureVector> unitXs, IReadOnlyList<int> ys, int classes, int sparse, int dense, int k) : base(classes)
    {
        _k = Math.Max(1, k);
        _labels = ys.ToArray();
        _denseDims = dense;
        _postings = new List<(int, float)>[sparse];
        _dense = new float[unitXs.Count * dense];
        for (var n = 0; n < unitXs.Count; n++)
        {
            var x = unitXs[n];
            for (var i = 0; i < x.Indices.Length; i++) (_postings[x.Indices[i]] ??= []).Add((n, x.Values[i]));
            if (x.Dense is { } d) d.AsSpan(0, Math.Min(d.Length, dense)).CopyTo(_dense.AsSpan(n * dense));
        }
    }

    public override bool IsProbabilistic => false;

    public override void Score(FeatureVector x, Span<float> scores)
    {
        var n = _labels.Length;
        var sims = new float[n];
        if (x.Dense is { } d && _denseDims > 0)
        {
            var dd = d.AsSpan(0, Math.Min(d.Length, _denseDims));
            for (var e = 0; e < n; e++) sims[e] = Dot(dd, _dense.AsSpan(e * _denseDims, dd.Length));
        }
        for (var i = 0; i < x.Indices.Length; i++)
        {
            var list = _postings[x.Indices[i]];
            if (list is null) continue;
            var v = x.Values[i];
            foreach (var (e, val) in list) sims[e] += v * val;
        }
        // Per class, the mean of the top-k similarities (a small insertion-sorted buffer per class).
        var top = new float[Classes * _k];
        Array.Fill(top, float.NegativeInfinity);
        var counts = new int[Classes];
        for (var e = 0; e < n; e++)
        {
            var c = _labels[e];
            var buf = top.AsSpan(c * _k, _k);
            var s = sims[e];
            counts[c]++;
            if (s <= buf[^1]) continue;
            var p = _k - 1;
            while (p > 0 && buf[p - 1] < s)
            {
                buf[p] = buf[p - 1];
                p--;
            }
            buf[p] = s;
        }
        for (var c = 0; c < Classes; c++)
        {
            var m = Math.Min(_k, counts[c]);
            float sum = 0;
            for (var j = 0; j < m; j++) sum += top[c * _k + j];
            scores[c] = m == 0 ? 0 : sum / m;
        }
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        var acc = Vector<float>.Zero;
        if (Vector.IsHardwareAccelerated)
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count) acc += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        var s = Vector.Sum(acc);
        for (; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }
}
