using System.Numerics.Tensors;

namespace Platform.Intents.Classification;

/// <summary>One intent's unit example vectors in compressed rows (contiguous arrays, so the scan stays in cache).</summary>
internal sealed class ExampleMatrix
{
    private readonly int[] _rowStart;
    private readonly int[] _indices;
    private readonly float[] _values;
    private readonly float[] _dense;
    private readonly int _dims;

    [ThreadStatic]
    private static float[]? t_scatter;

    /// <param name="rows">Unit example vectors.</param>
    /// <param name="dims">The dense size.</param>
    /// <param name="skip">Sparse features left out of the similarity (character n-grams: they cost most and add least).</param>
    public ExampleMatrix(IReadOnlyList<FeatureVector> rows, int dims, bool[]? skip = null)
    {
        if (skip is not null && skip.Length > 0)
        {
            rows = rows.Select(r =>
            {
                var keep = Enumerable.Range(0, r.Indices.Length).Where(i => !skip[r.Indices[i]]).ToArray();
                return new FeatureVector(keep.Select(i => r.Indices[i]).ToArray(), keep.Select(i => r.Values[i]).ToArray(), r.Dense);
            }).ToList();
        }
        _dims = rows.Count > 0 && rows[0].Dense is not null ? dims : 0;
        _rowStart = new int[rows.Count + 1];
        var nnz = rows.Sum(r => r.Indices.Length);
        _indices = new int[nnz];
        _values = new float[nnz];
        _dense = new float[rows.Count * _dims];
        var p = 0;
        for (var r = 0; r < rows.Count; r++)
        {
            _rowStart[r] = p;
            rows[r].Indices.CopyTo(_indices, p);
            rows[r].Values.CopyTo(_values, p);
            p += rows[r].Indices.Length;
            if (_dims > 0 && rows[r].Dense is { } d) d.AsSpan(0, Math.Min(d.Length, _dims)).CopyTo(_dense.AsSpan(r * _dims));
        }
        _rowStart[rows.Count] = p;
    }

    public int Count => _rowStart.Length - 1;

    /// <summary>The largest cosine between a unit vector and these unit examples (0 when there are none). The query is
    /// scattered into a dense buffer once, so each example costs only its own number of features.</summary>
    public float NearestSimilarity(FeatureVector unit, int sparseCount)
    {
        if (Count == 0) return 0;
        var buffer = t_scatter;
        if (buffer is null || buffer.Length < sparseCount) t_scatter = buffer = new float[Math.Max(sparseCount, 1024)];
        for (var i = 0; i < unit.Indices.Length; i++) buffer[unit.Indices[i]] = unit.Values[i];
        var best = float.NegativeInfinity;
        var query = unit.Dense is { } qd && _dims > 0 ? qd.AsSpan(0, _dims) : default;
        for (var r = 0; r < Count; r++)
        {
            float s = 0;
            for (var i = _rowStart[r]; i < _rowStart[r + 1]; i++) s += buffer[_indices[i]] * _values[i];
            if (!query.IsEmpty) s += TensorPrimitives.Dot(query, _dense.AsSpan(r * _dims, _dims));
            if (s > best) best = s;
        }
        for (var i = 0; i < unit.Indices.Length; i++) buffer[unit.Indices[i]] = 0;
        return Math.Max(0, best);
    }
}
