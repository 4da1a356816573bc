using Microsoft.ML.Tokenizers;

namespace Platform.Intents.Embeddings;

/// <summary>How token vectors become one sentence vector.</summary>
public enum EmbeddingPooling
{
    /// <summary>The mean of the token vectors, masked by <c>attention_mask</c> (sentence-transformers, e5, the default model).</summary>
    Mean,
    /// <summary>The first token's vector ([CLS]; bge).</summary>
    Cls,
    /// <summary>The masked mean and the element-wise maximum, each L2-normalised, concatenated (twice the dimensions).</summary>
    MeanMax,
}

/// <summary>Options of <see cref="OnnxEmbeddingGenerator"/>.</summary>
public sealed class OnnxEmbeddingOptions
{
    /// <summary>The ONNX model file.</summary>
    public string ModelPath { get; set; } = "";

    /// <summary>A BERT WordPiece <c>vocab.txt</c>; used when <see cref="Tokenizer"/> is not set.</summary>
    public string? VocabPath { get; set; }

    /// <summary>A ready tokenizer (any Microsoft.ML.Tokenizers tokenizer); wins over <see cref="VocabPath"/>.</summary>
    public Tokenizer? Tokenizer { get; set; }

    /// <summary>Lower-case (and strip accents) before WordPiece: true for uncased models. Default true.</summary>
    public bool LowerCase { get; set; } = true;

    /// <summary>Add [CLS] … [SEP] around each text. Default true.</summary>
    public bool AddSpecialTokens { get; set; } = true;

    /// <summary>The pooling. Default <see cref="EmbeddingPooling.Mean"/>.</summary>
    public EmbeddingPooling Pooling { get; set; } = EmbeddingPooling.Mean;

    /// <summary>L2-normalise the sentence vector. Default true.</summary>
    public bool Normalize { get; set; } = true;

    /// <summary>A prefix put before every text, for example <c>query: </c> for e5 models.</summary>
    public string? TextPrefix { get; set; }

    /// <summary>The model output to pool; default: <c>last_hidden_state</c>, <c>token_embeddings</c>,
    /// <c>sentence_embedding</c> or else the first output. A rank-2 output is used as is (already pooled).</summary>
    public string? OutputName { get; set; }

    /// <summary>Texts are cut to this many tokens (special tokens included). Default 128.</summary>
    public int MaxTokens { get; set; } = 128;

    /// <summary>ONNX Runtime intra-op threads. Default 1 (the default model is a table lookup; give a BERT model more).</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>The largest batch of texts sent to the model in one run. Default 64.</summary>
    public int MaxBatchSize { get; set; } = 64;

    /// <summary>How many model runs may go on at once; concurrent requests beyond that are batched. Default 1.</summary>
    public int MaxConcurrentRuns { get; set; } = 1;

    /// <summary>How many recent texts' vectors are cached (LRU); 0 turns the cache off. Default 4096.</summary>
    public int CacheSize { get; set; } = 4096;

    /// <summary>Run the model once when created, so the first real request is not slow. Default true.</summary>
    public bool WarmUp { get; set; } = true;

    /// <summary>The model id reported in metadata; default: the model file's directory name.</summary>
    public string? ModelId { get; set; }
}
