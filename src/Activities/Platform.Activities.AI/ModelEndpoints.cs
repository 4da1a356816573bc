using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenAI;
using Polly;
using Polly.Fallback;
using Polly.Retry;
using Polly.Timeout;

namespace Platform.Activities.AI;

/// <summary>
/// One named model endpoint (<c>Platform:AI:Models:{name}</c>): an OpenAI-compatible server (OpenAI, Ollama, llama.cpp
/// server, vLLM, LM Studio), its model, timeout, retries and a fallback model.
/// </summary>
public sealed class ModelEndpointOptions
{
    /// <summary>The API base URL, e.g. <c>http://localhost:11434/v1</c>; a URL without a path gets <c>/v1</c>.</summary>
    public string? Endpoint { get; set; }

    /// <summary>The model the server knows, e.g. <c>llama3.1:8b</c> or <c>gpt-4o-mini</c>.</summary>
    public string? Model { get; set; }

    /// <summary>The API key (optional for local servers).</summary>
    public string? ApiKey { get; set; }

    /// <summary><c>chat</c> (default) or <c>embedding</c>.</summary>
    public string Kind { get; set; } = ModelKinds.Chat;

    /// <summary>How long one attempt may take (default 60 s).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a failed attempt (network error, timeout, HTTP 408/429/5xx) is retried (default 2; 0 = none).</summary>
    public int Retries { get; set; } = 2;

    /// <summary>The wait before the first retry, doubled for each further one (default 0.5 s).</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The name of another model asked when this one still fails after its retries (optional).</summary>
    public string? Fallback { get; set; }

    /// <summary>The sampling temperature; null leaves the server's default.</summary>
    public double? Temperature { get; set; }

    /// <summary>True when an endpoint and a model are set.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(Endpoint) && !string.IsNullOrWhiteSpace(Model);
}

/// <summary>The kinds of model endpoints.</summary>
public static class ModelKinds
{
    /// <summary>A chat completion model.</summary>
    public const string Chat = "chat";

    /// <summary>An embedding model.</summary>
    public const string Embedding = "embedding";
}

/// <summary>What <see cref="ModelCatalog.CompleteAsync"/> got back.</summary>
/// <param name="Response">The model's response.</param>
/// <param name="ModelName">The configured name of the model that answered (the fallback's when the primary failed).</param>
/// <param name="Failures">The failed attempts before the answer (one sentence each), oldest first.</param>
public sealed record ModelCallResult(ChatResponse Response, string ModelName, IReadOnlyList<string> Failures);

/// <summary>
/// The named model endpoints (<c>Platform:AI:Models:{name}</c>, plus <c>Platform:AI:ChatCompletion</c> as the model
/// named <c>default</c> unless <c>Models:default</c> exists). Calls go through Microsoft.Extensions.AI's OpenAI client
/// with a Polly pipeline per model: a timeout per attempt, retries of transient failures, then the fallback model.
/// </summary>
public sealed class ModelCatalog
{
    /// <summary>The configuration section of the named models.</summary>
    public const string SectionName = "Platform:AI:Models";

    /// <summary>The name of the model used when an activity names none.</summary>
    public const string DefaultName = "default";

    private readonly Dictionary<string, ModelEndpointOptions> _models;
    private readonly ConcurrentDictionary<string, IChatClient> _clients = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger;

    /// <summary>Creates the catalog.</summary>
    /// <exception cref="InvalidOperationException">An endpoint is not an absolute http(s) URL, a kind is unknown, or a fallback names no model or forms a cycle.</exception>
    public ModelCatalog(IReadOnlyDictionary<string, ModelEndpointOptions> models, ILogger<ModelCatalog>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(models);
        _models = new Dictionary<string, ModelEndpointOptions>(models, StringComparer.OrdinalIgnoreCase);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        foreach (var (name, m) in _models)
        {
            if (!string.IsNullOrWhiteSpace(m.Endpoint))
            {
                try { ChatModelClient.EndpointUri(m.Endpoint); }
                catch (ArgumentException e) { throw new InvalidOperationException($"{SectionName}:{name}:Endpoint: {e.Message}", e); }
            }
            if (m.Kind is not (ModelKinds.Chat or ModelKinds.Embedding))
                throw new InvalidOperationException($"{SectionName}:{name}:Kind is '{m.Kind}': use chat or embedding.");
            if (m.Retries is < 0 or > 10) throw new InvalidOperationException($"{SectionName}:{name}:Retries is {m.Retries}: use 0 to 10.");
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { name };
            for (var next = m.Fallback; !string.IsNullOrWhiteSpace(next); next = _models[next].Fallback)
            {
                if (!_models.ContainsKey(next))
                    throw new InvalidOperationException($"{SectionName}:{name}:Fallback is '{next}', which is not a configured model. Configured: {string.Join(", ", _models.Keys)}.");
                if (!seen.Add(next))
                    throw new InvalidOperationException($"{SectionName}:{name}:Fallback forms a cycle ({string.Join(" -> ", seen)} -> {next}); end the chain with a model without Fallback.");
            }
        }
    }

    /// <summary>The configured names, sorted.</summary>
    public IReadOnlyList<string> Names => _models.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>The names of the chat models, sorted.</summary>
    public IReadOnlyList<string> ChatNames => _models.Where(m => m.Value.Kind == ModelKinds.Chat).Select(m => m.Key).Order(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>The model of that name, or null.</summary>
    public ModelEndpointOptions? Find(string name) => _models.GetValueOrDefault(name);

    /// <summary>What to do when no model of that name is configured.</summary>
    public string NotConfiguredMessage(string name) => _models.Count == 0
        ? $"No chat model is configured. Set {SectionName}:{DefaultName}:Endpoint (e.g. http://localhost:11434/v1) and :Model, or {ChatCompletionOptions.SectionName}:Endpoint and :Model."
        : $"The model '{name}' is not configured. Configured models: {string.Join(", ", Names)}; add {SectionName}:{name}:Endpoint and :Model or pick one of those.";

    /// <summary>
    /// Asks the chat model <paramref name="name"/> (empty: <c>default</c>): each attempt within the model's timeout, transient
    /// failures retried, then its fallback (recursively).
    /// </summary>
    /// <exception cref="InvalidOperationException">No such model.</exception>
    public async Task<ModelCallResult> CompleteAsync(string? name, IList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        name = string.IsNullOrWhiteSpace(name) ? DefaultName : name.Trim();
        if (Find(name) is not { IsConfigured: true }) throw new InvalidOperationException(NotConfiguredMessage(name));
        var failures = new List<string>();
        var (response, used) = await CallAsync(name, messages, options, failures, cancellationToken).ConfigureAwait(false);
        return new ModelCallResult(response, used, failures);
    }

    private Task<(ChatResponse, string)> CallAsync(string name, IList<ChatMessage> messages, ChatOptions? options, List<string> failures, CancellationToken ct) =>
        ExecuteAsync(name, (client, token) => new ValueTask<ChatResponse>(client.GetResponseAsync(messages, options, token)), failures, ct);

    /// <summary>
    /// Runs <paramref name="attempt"/> against the model <paramref name="name"/> through its pipeline: each attempt within the
    /// model's timeout, transient failures retried, then the fallback model (recursively). Returns the result and the name of
    /// the model that gave it.
    /// </summary>
    private async Task<(T, string)> ExecuteAsync<T>(string name, Func<IChatClient, CancellationToken, ValueTask<T>> attempt, List<string> failures, CancellationToken ct)
    {
        var model = _models[name];
        string? answeredBy = null;
        var builder = new ResiliencePipelineBuilder<T>();
        if (!string.IsNullOrWhiteSpace(model.Fallback) && Find(model.Fallback) is { IsConfigured: true })
        {
            var fallback = model.Fallback.Trim();
            builder.AddFallback(new FallbackStrategyOptions<T>
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsModelFailure(e, ct)),
                FallbackAction = async args =>
                {
                    var (result, used) = await ExecuteAsync(fallback, attempt, failures, args.Context.CancellationToken).ConfigureAwait(false);
                    answeredBy = used;
                    return Outcome.FromResult(result);
                },
                OnFallback = args =>
                {
                    _logger.LogWarning(args.Outcome.Exception, "Model {Model} failed; asking its fallback {Fallback}", name, fallback);
                    return default;
                },
            });
        }
        if (model.Retries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<T>
            {
                MaxRetryAttempts = model.Retries, Delay = model.RetryDelay > TimeSpan.Zero ? model.RetryDelay : TimeSpan.FromMilliseconds(1),
                BackoffType = DelayBackoffType.Exponential, UseJitter = false,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e, ct)),
                OnRetry = args =>
                {
                    _logger.LogWarning(args.Outcome.Exception, "Model {Model} failed (attempt {Attempt}); retrying", name, args.AttemptNumber + 1);
                    return default;
                },
            });
        }
        builder.AddTimeout(model.Timeout > TimeSpan.Zero ? model.Timeout : TimeSpan.FromSeconds(60));
        var pipeline = builder.Build();
        var client = ClientOf(name, model);
        var result = await pipeline.ExecuteAsync(async token =>
        {
            try
            {
                return await attempt(client, token).ConfigureAwait(false);
            }
            catch (Exception e) when (IsModelFailure(e, ct))
            {
                lock (failures) failures.Add($"{name}: {Describe(e)}");
                throw;
            }
        }, ct).ConfigureAwait(false);
        return (result, answeredBy ?? name);
    }

    /// <summary>
    /// Asks the chat model <paramref name="name"/> (empty: <c>default</c>) for a streamed answer (<c>"stream": true</c>). The
    /// model's retries, per-attempt timeout and fallback apply until the first piece of the answer (text or a tool call)
    /// arrives, so a fallback before the first token is invisible to the user; a failure after it ends the stream with a
    /// <see cref="ModelStreamException"/>. Dispose the result.
    /// </summary>
    /// <exception cref="InvalidOperationException">No such model.</exception>
    public async Task<ModelStream> StreamAsync(string? name, IList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        name = string.IsNullOrWhiteSpace(name) ? DefaultName : name.Trim();
        if (Find(name) is not { IsConfigured: true }) throw new InvalidOperationException(NotConfiguredMessage(name));
        var failures = new List<string>();
        var (opened, used) = await ExecuteAsync(name, (client, token) => OpenStreamAsync(client, messages, options, token, cancellationToken), failures, cancellationToken)
            .ConfigureAwait(false);
        return new ModelStream(opened.Enumerator, opened.Buffered, opened.Ended, opened.Source, used, failures);
    }

    private sealed record OpenedStream(IAsyncEnumerator<ChatResponseUpdate> Enumerator, List<ChatResponseUpdate> Buffered, bool Ended, CancellationTokenSource Source);

    /// <summary>One attempt: sends the request and reads up to the first update with text or a tool call. The attempt's token
    /// (the pipeline's timeout) only bounds that wait; the rest of the stream runs on the caller's token.</summary>
    private static async ValueTask<OpenedStream> OpenStreamAsync(IChatClient client, IList<ChatMessage> messages, ChatOptions? options,
        CancellationToken attemptToken, CancellationToken callerToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
        IAsyncEnumerator<ChatResponseUpdate>? enumerator = null;
        try
        {
            var buffered = new List<ChatResponseUpdate>();
            var ended = false;
            using (attemptToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), source))
            {
                enumerator = client.GetStreamingResponseAsync(messages, options, source.Token).GetAsyncEnumerator(source.Token);
                while (true)
                {
                    if (!await enumerator.MoveNextAsync().ConfigureAwait(false)) { ended = true; break; }
                    buffered.Add(enumerator.Current);
                    if (enumerator.Current.Contents.Any(c => c is TextContent { Text.Length: > 0 } or FunctionCallContent)) break;
                }
            }
            attemptToken.ThrowIfCancellationRequested();
            return new OpenedStream(enumerator, buffered, ended, source);
        }
        catch
        {
            if (enumerator is not null) await enumerator.DisposeAsync().ConfigureAwait(false);
            source.Dispose();
            throw;
        }
    }

    private IChatClient ClientOf(string name, ModelEndpointOptions model) => _clients.GetOrAdd(name, _ =>
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = ChatModelClient.EndpointUri(model.Endpoint!),
            NetworkTimeout = model.Timeout > TimeSpan.Zero ? model.Timeout + TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(61),
            RetryPolicy = new ClientRetryPolicy(0), // Polly retries
        };
        var key = string.IsNullOrWhiteSpace(model.ApiKey) ? "no-key" : model.ApiKey.Trim();
        return new OpenAI.Chat.ChatClient(model.Model!.Trim(), new ApiKeyCredential(key), options).AsIChatClient();
    });

    /// <summary>True for failures worth retrying: network errors, timeouts, HTTP 408, 409, 429 and 5xx.</summary>
    public static bool IsTransient(Exception e, CancellationToken callerToken) => !callerToken.IsCancellationRequested && e switch
    {
        ModelStreamException => false,
        HttpRequestException or TimeoutRejectedException or TaskCanceledException or TimeoutException or IOException => true,
        ClientResultException c => c.Status is 0 or 408 or 409 or 429 or >= 500,
        _ => false,
    };

    /// <summary>True for any failure of the model call (not a cancellation by the caller): these go to the fallback model.</summary>
    public static bool IsModelFailure(Exception e, CancellationToken callerToken) => !callerToken.IsCancellationRequested
        && e is HttpRequestException or TimeoutRejectedException or TaskCanceledException or TimeoutException or ClientResultException or System.Text.Json.JsonException or InvalidOperationException or IOException;

    /// <summary>One sentence about a failed call.</summary>
    public static string Describe(Exception e) => e switch
    {
        ModelStreamException s => $"the answer broke off after {s.Received} characters ({Describe(s.InnerException!)})",
        ClientResultException { Status: > 0 } c => $"HTTP {c.Status}: {FirstLine(c.Message)}",
        TimeoutRejectedException t => $"no answer within {t.Timeout.TotalSeconds:0.###} s (Timeout)",
        HttpRequestException h => $"cannot reach the server ({FirstLine(h.Message)})",
        ClientResultException c => $"cannot reach the server ({FirstLine(c.InnerException?.Message ?? c.Message)})",
        _ => FirstLine(e.Message),
    };

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();
}

/// <summary>
/// A streamed answer of <see cref="ModelCatalog.StreamAsync"/>: the updates as the server sends them. A failure while reading
/// (the connection drops, no chunk within the timeout) throws <see cref="ModelStreamException"/>.
/// </summary>
public sealed class ModelStream : IAsyncDisposable
{
    private readonly IAsyncEnumerator<ChatResponseUpdate> _enumerator;
    private readonly List<ChatResponseUpdate> _buffered;
    private readonly bool _ended;
    private readonly CancellationTokenSource _source;

    internal ModelStream(IAsyncEnumerator<ChatResponseUpdate> enumerator, List<ChatResponseUpdate> buffered, bool ended, CancellationTokenSource source,
        string modelName, IReadOnlyList<string> failures)
    {
        _enumerator = enumerator;
        _buffered = buffered;
        _ended = ended;
        _source = source;
        ModelName = modelName;
        Failures = failures;
    }

    /// <summary>The configured name of the model that answers (the fallback's when the primary failed before its first token).</summary>
    public string ModelName { get; }

    /// <summary>The failed attempts before the stream started, oldest first.</summary>
    public IReadOnlyList<string> Failures { get; }

    /// <summary>The updates, in order; read once.</summary>
    /// <exception cref="ModelStreamException">The stream failed after it started.</exception>
    public async IAsyncEnumerable<ChatResponseUpdate> ReadAsync()
    {
        var received = 0;
        foreach (var update in _buffered)
        {
            received += update.Text.Length;
            yield return update;
        }
        if (_ended) yield break;
        while (true)
        {
            ChatResponseUpdate update;
            try
            {
                if (!await _enumerator.MoveNextAsync().ConfigureAwait(false)) yield break;
                update = _enumerator.Current;
            }
            catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && _source.IsCancellationRequested))
            {
                throw new ModelStreamException(ModelName, received, e);
            }
            received += update.Text.Length;
            yield return update;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try { await _enumerator.DisposeAsync().ConfigureAwait(false); }
        catch (Exception e) when (e is not OutOfMemoryException) { } // a broken connection may fail again while closing
        _source.Dispose();
    }
}

/// <summary>A streamed answer failed after it started (mid-answer): no retry or fallback is possible any more.</summary>
public sealed class ModelStreamException : IOException
{
    /// <summary>Creates the exception.</summary>
    public ModelStreamException(string modelName, int received, Exception inner)
        : base($"The model '{modelName}' stopped mid-answer after {received} characters: {inner?.Message}", inner)
    {
        ModelName = modelName;
        Received = received;
    }

    /// <summary>The configured name of the model whose stream failed.</summary>
    public string ModelName { get; }

    /// <summary>How many characters of text had arrived.</summary>
    public int Received { get; }
}

/// <summary>Token usage metrics of the AI activities (exported by the host as <c>platform_ai_tokens_total</c>).</summary>
public static class AiTelemetry
{
    private static readonly System.Diagnostics.Metrics.Meter Meter = new("platform");

    private static readonly System.Diagnostics.Metrics.Counter<long> Tokens = Meter.CreateCounter<long>("ai_tokens_total",
        description: "Tokens used by AI activities, by workflow definition, model (configured name) and kind (input, output).");

    /// <summary>Adds the usage of one model call.</summary>
    public static void RecordUsage(string workflow, string model, UsageDetails? usage)
    {
        if (usage is null) return;
        if (usage.InputTokenCount is { } input and > 0) Add(workflow, model, "input", input);
        if (usage.OutputTokenCount is { } output and > 0) Add(workflow, model, "output", output);
    }

    private static void Add(string workflow, string model, string kind, long value) => Tokens.Add(value,
        new KeyValuePair<string, object?>("workflow", workflow), new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("kind", kind));

    internal static long Elapsed(long start) => (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
}
