using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Tokenizers;

namespace Platform.Intents.Embeddings;

/// <summary>
/// Sentence embeddings from a local ONNX model: the default GloVe model built by
/// <see cref="Models.ModelBuilder"/> or a BERT-style encoder (all-MiniLM-L6-v2, bge-small, e5) with its
/// <c>vocab.txt</c>. One <see cref="InferenceSession"/>; <c>attention_mask</c> and <c>token_type_ids</c> are fed when
/// the model declares them; concurrent requests are batched into one run; recent texts are cached.
/// </summary>
public sealed class OnnxEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private static readonly string[] PreferredOutputs = ["last_hidden_state", "token_embeddings", "sentence_embedding"];
    private readonly OnnxEmbeddingOptions _options;
    private readonly InferenceSession _session;
    private readonly Tokenizer _tokenizer;
    private readonly string _idsName;
    private readonly string? _maskName;
    private readonly string? _typeName;
    private readonly bool _int32Inputs;
    private readonly string _outputName;
    private readonly int _padId;
    private readonly LruCache<string, float[]> _cache;
    private readonly ConcurrentQueue<Pending> _queue = new();
    private readonly EmbeddingGeneratorMetadata _metadata;
    private int _running;
    private int _dimensions;
    private volatile bool _disposed;

    /// <summary>Loads the model and tokenizer and, unless turned off, runs the model once.</summary>
    public OnnxEmbeddingGenerator(OnnxEmbeddingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        if (!File.Exists(options.ModelPath)) throw new FileNotFoundException($"ONNX model '{options.ModelPath}' not found.", options.ModelPath);
        _tokenizer = options.Tokenizer ?? CreateBertTokenizer(options);
        using var sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = Math.Max(1, options.IntraOpThreads),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        _session = new InferenceSession(options.ModelPath, sessionOptions);
        var inputs = _session.InputMetadata;
        _idsName = inputs.Keys.FirstOrDefault(k => k == "input_ids") ?? inputs.Keys.First();
        _maskName = inputs.Keys.FirstOrDefault(k => k == "attention_mask");
        _typeName = inputs.Keys.FirstOrDefault(k => k == "token_type_ids");
        var unknown = inputs.Keys.Except(new[] { _idsName, _maskName, _typeName }.OfType<string>()).ToList();
        if (unknown.Count > 0)
        {
            throw new NotSupportedException($"The model has inputs this generator cannot feed: {string.Join(", ", unknown)}. " +
                "Supported: input_ids, attention_mask, token_type_ids.");
        }
        _int32Inputs = inputs[_idsName].ElementDataType == TensorElementType.Int32;
        var outputs = _session.OutputMetadata;
        _outputName = options.OutputName ?? PreferredOutputs.FirstOrDefault(outputs.ContainsKey) ?? outputs.Keys.First();
        if (!outputs.TryGetValue(_outputName, out var outMeta)) throw new ArgumentException($"The model has no output '{_outputName}'.");
        _dimensions = outMeta.Dimensions.Length > 0 && outMeta.Dimensions[^1] > 0 ? outMeta.Dimensions[^1] : 0;
        _padId = _tokenizer is BertTokenizer bert ? bert.PaddingTokenId : 0;
        _cache = new LruCache<string, float[]>(options.CacheSize, StringComparer.Ordinal);
        var modelId = options.ModelId ?? new DirectoryInfo(Path.GetDirectoryName(Path.GetFullPath(options.ModelPath))!).Name;
        if (options.WarmUp)
        {
            _dimensions = Run([Tokenize("warm up")])[0].Length;
        }
        _metadata = new EmbeddingGeneratorMetadata("onnxruntime", new Uri(Path.GetFullPath(options.ModelPath)), modelId, _dimensions > 0 ? _dimensions : null);
    }

    /// <summary>The vector size (0 until the first run when the model does not declare it).</summary>
    public int Dimensions => _dimensions;

    /// <summary>The tokenizer in use.</summary>
    public Tokenizer Tokenizer => _tokenizer;

    /// <summary>How many texts the cache holds.</summary>
    public int CachedCount => _cache.Count;

    /// <summary>How many model runs were made (for tests and diagnostics).</summary>
    public long RunCount => Interlocked.Read(ref _runCount);

    private long _runCount;

    /// <inheritdoc />
    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        var texts = values as IReadOnlyList<string> ?? values.ToList();
        var vectors = await EmbedAsync(texts, cancellationToken).ConfigureAwait(false);
        var result = new GeneratedEmbeddings<Embedding<float>>(vectors.Length);
        var now = DateTimeOffset.UtcNow;
        foreach (var v in vectors)
        {
            result.Add(new Embedding<float>(v) { ModelId = _metadata.DefaultModelId, CreatedAt = now });
        }
        return result;
    }

    /// <summary>Embeds one text. The returned array is shared with the cache: do not change it.</summary>
    public async ValueTask<float[]> EmbedAsync(string text, CancellationToken cancellationToken = default)
    {
        if (_cache.TryGet(text, out var hit)) return hit;
        var pending = new Pending(text, Tokenize(text));
        _queue.Enqueue(pending);
        Pump();
        return await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Embeds several texts (cached ones are not recomputed). The arrays are shared with the cache.</summary>
    public async Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        var result = new float[texts.Count][];
        List<(int Index, Pending Pending)>? waits = null;
        for (var i = 0; i < texts.Count; i++)
        {
            if (_cache.TryGet(texts[i], out var hit))
            {
                result[i] = hit;
                continue;
            }
            var pending = new Pending(texts[i], Tokenize(texts[i]));
            (waits ??= []).Add((i, pending));
            _queue.Enqueue(pending);
        }
        if (waits is null) return result;
        Pump();
        foreach (var (index, pending) in waits)
        {
            result[index] = await pending.Completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>Embeds one text on the calling thread (no batching with other callers, but the cache is used).</summary>
    public float[] Embed(string text)
    {
        if (_cache.TryGet(text, out var hit)) return hit;
        var v = Run([Tokenize(text)])[0];
        _cache.Set(text, v);
        return v;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return _metadata;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _session.Dispose();
        while (_queue.TryDequeue(out var p)) p.Completion.TrySetException(new ObjectDisposedException(nameof(OnnxEmbeddingGenerator)));
    }

    /// <summary>Runs queued requests while fewer than <see cref="OnnxEmbeddingOptions.MaxConcurrentRuns"/> runs go on.
    /// The caller that gets a run slot also completes other callers' requests (leader-follower batching).</summary>
    /// <remarks>
    /// A slot is taken only when one is free (compare-and-swap), never taken and given back: with increment-then-check, a
    /// leader finishing its run and a new caller could each see the other's count, both back off, and leave a request in
    /// the queue that nobody ran until the next caller came (the eval's last request then waited forever).
    /// </remarks>
    private void Pump()
    {
        var max = Math.Max(1, _options.MaxConcurrentRuns);
        while (!_queue.IsEmpty)
        {
            if (!TryTakeRunSlot(max)) return; // the running leader re-checks the queue after it gives its slot back
            try
            {
                var batch = new List<Pending>(Math.Min(_options.MaxBatchSize, 64));
                while (batch.Count < _options.MaxBatchSize && _queue.TryDequeue(out var p)) batch.Add(p);
                if (batch.Count == 0) continue;
                try
                {
                    ObjectDisposedException.ThrowIf(_disposed, this);
                    var vectors = Run(batch.Select(b => b.Tokens).ToArray());
                    for (var i = 0; i < batch.Count; i++)
                    {
                        _cache.Set(batch[i].Text, vectors[i]);
                        batch[i].Completion.TrySetResult(vectors[i]);
                    }
                }
                catch (Exception ex)
                {
                    foreach (var p in batch) p.Completion.TrySetException(ex);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _running);
            }
        }
    }

    private bool TryTakeRunSlot(int max)
    {
        while (true)
        {
            var running = Volatile.Read(ref _running);
            if (running >= max) return false;
            if (Interlocked.CompareExchange(ref _running, running + 1, running) == running) return true;
        }
    }

    /// <summary>Runs the model on token ids as given (no tokenizer, cache or batching with other callers); pooled vectors.</summary>
    internal float[][] EmbedTokenIds(int[][] tokenized) => Run(tokenized);

    private int[] Tokenize(string text)
    {
        if (_options.TextPrefix is { Length: > 0 } prefix) text = prefix + text;
        var ids = _tokenizer is BertTokenizer bert
            ? bert.EncodeToIds(text, _options.AddSpecialTokens, considerPreTokenization: true, considerNormalization: true)
            : _tokenizer.EncodeToIds(text);
        var max = Math.Max(2, _options.MaxTokens);
        if (ids.Count <= max) return ids as int[] ?? ids.ToArray();
        var cut = new int[max];
        for (var i = 0; i < max - 1; i++) cut[i] = ids[i];
        cut[max - 1] = _options.AddSpecialTokens ? ids[^1] : ids[max - 1]; // keep [SEP]
        return cut;
    }

    private float[][] Run(int[][] tokenized)
    {
        Interlocked.Increment(ref _runCount);
        var batch = tokenized.Length;
        var seq = Math.Max(1, tokenized.Max(t => t.Length));
        var shape = new long[] { batch, seq };
        var names = new List<string>(3) { _idsName };
        var values = new List<OrtValue>(3);
        try
        {
            if (_int32Inputs)
            {
                var ids = new int[batch * seq];
                var mask = new int[batch * seq];
                for (var b = 0; b < batch; b++)
                {
                    var t = tokenized[b];
                    for (var s = 0; s < seq; s++)
                    {
                        ids[b * seq + s] = s < t.Length ? t[s] : _padId;
                        mask[b * seq + s] = s < t.Length ? 1 : 0;
                    }
                }
                values.Add(OrtValue.CreateTensorValueFromMemory(ids, shape));
                if (_maskName is not null) { names.Add(_maskName); values.Add(OrtValue.CreateTensorValueFromMemory(mask, shape)); }
                if (_typeName is not null) { names.Add(_typeName); values.Add(OrtValue.CreateTensorValueFromMemory(new int[batch * seq], shape)); }
            }
            else
            {
                var ids = new long[batch * seq];
                var mask = new long[batch * seq];
                for (var b = 0; b < batch; b++)
                {
                    var t = tokenized[b];
                    for (var s = 0; s < seq; s++)
                    {
                        ids[b * seq + s] = s < t.Length ? t[s] : _padId;
                        mask[b * seq + s] = s < t.Length ? 1 : 0;
                    }
                }
                values.Add(OrtValue.CreateTensorValueFromMemory(ids, shape));
                if (_maskName is not null) { names.Add(_maskName); values.Add(OrtValue.CreateTensorValueFromMemory(mask, shape)); }
                if (_typeName is not null) { names.Add(_typeName); values.Add(OrtValue.CreateTensorValueFromMemory(new long[batch * seq], shape)); }
            }
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, names, values, [_outputName]);
            var output = outputs[0];
            var outShape = output.GetTensorTypeAndShape().Shape;
            var data = output.GetTensorDataAsSpan<float>();
            var result = new float[batch][];
            if (outShape.Length == 2)
            {
                var d = (int)outShape[1];
                for (var b = 0; b < batch; b++) result[b] = Finish(data.Slice(b * d, d).ToArray());
            }
            else if (outShape.Length == 3)
            {
                var outSeq = (int)outShape[1];
                var d = (int)outShape[2];
                for (var b = 0; b < batch; b++)
                {
                    var len = Math.Min(tokenized[b].Length, outSeq);
                    var v = new float[_options.Pooling == EmbeddingPooling.MeanMax ? 2 * d : d];
                    if (_options.Pooling == EmbeddingPooling.Cls || len == 0)
                    {
                        data.Slice(b * outSeq * d, d).CopyTo(v);
                    }
                    else
                    {
                        var mean = v.AsSpan(0, d);
                        var max = _options.Pooling == EmbeddingPooling.MeanMax ? v.AsSpan(d, d) : default;
                        if (!max.IsEmpty) max.Fill(float.NegativeInfinity);
                        for (var s = 0; s < len; s++)
                        {
                            var row = data.Slice((b * outSeq + s) * d, d);
                            for (var j = 0; j < d; j++) mean[j] += row[j];
                            if (!max.IsEmpty) for (var j = 0; j < d; j++) max[j] = Math.Max(max[j], row[j]);
                        }
                        var inv = 1f / len;
                        for (var j = 0; j < d; j++) mean[j] *= inv;
                        if (!max.IsEmpty && _options.Normalize)
                        {
                            // Each half unit length, the whole unit length.
                            NormalizeInPlace(mean, 1 / MathF.Sqrt(2));
                            NormalizeInPlace(max, 1 / MathF.Sqrt(2));
                            result[b] = v;
                            continue;
                        }
                    }
                    result[b] = Finish(v);
                }
            }
            else
            {
                throw new NotSupportedException($"Output '{_outputName}' has rank {outShape.Length}; expected 2 or 3.");
            }
            return result;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    private static void NormalizeInPlace(Span<float> v, float length)
    {
        double sum = 0;
        foreach (var x in v) sum += x * x;
        if (sum <= 0) return;
        var f = (float)(length / Math.Sqrt(sum));
        for (var j = 0; j < v.Length; j++) v[j] *= f;
    }

    private float[] Finish(float[] v)
    {
        if (!_options.Normalize) return v;
        double sum = 0;
        foreach (var x in v) sum += x * x;
        if (sum <= 0) return v;
        var inv = (float)(1 / Math.Sqrt(sum));
        for (var j = 0; j < v.Length; j++) v[j] *= inv;
        return v;
    }

    private static BertTokenizer CreateBertTokenizer(OnnxEmbeddingOptions options)
    {
        var vocab = options.VocabPath ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.ModelPath))!, "vocab.txt");
        if (!File.Exists(vocab)) throw new FileNotFoundException($"Vocabulary '{vocab}' not found; set VocabPath or Tokenizer.", vocab);
        return BertTokenizer.Create(vocab, new BertOptions
        {
            LowerCaseBeforeTokenization = options.LowerCase,
            RemoveNonSpacingMarks = options.LowerCase,
            IndividuallyTokenizeCjk = true,
            ApplyBasicTokenization = true,
        });
    }

    private sealed class Pending(string text, int[] tokens)
    {
        public string Text { get; } = text;
        public int[] Tokens { get; } = tokens;
        public TaskCompletionSource<float[]> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
