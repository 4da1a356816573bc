using System.Collections;
using System.Collections.Concurrent;
using DotLiquid;
using Platform.Activities;

namespace Platform.Engine.Expressions;

/// <summary>
/// Liquid templates, parsed once and cached. The model exposes <c>Variables</c>, <c>Input</c>, <c>Output</c> (by activity id),
/// <c>WorkflowInstanceId</c>, <c>CorrelationId</c> and <c>Conversation.History</c> (lower-case aliases too): the last
/// <see cref="ConversationHistory.DefaultCount"/> earlier turns of the workflow's conversation, oldest first, as
/// <c>{ role, text, at }</c>, read only for templates that contain the word "conversation".
/// </summary>
/// <remarks>
/// Uses DotLiquid: Fluid.Core 2.41.1, the only Fluid on this package feed, depends on Parlot 1.5.9, which the feed lacks, and
/// fails at run time with the Parlot it substitutes.
/// </remarks>
/// <para>
/// Rendering is bounded (issue 16, M2): a <c>for</c> loop stops after <see cref="MaxIterations"/> iterations, a render after
/// <see cref="Timeout"/>, and the output at <see cref="MaxOutputLength"/> characters; each limit is a non-retryable
/// expression fault that names it, so a template like <c>{% for i in (1..100000000) %}</c> fails at once instead of running
/// for minutes and filling the memory.
/// </para>
public sealed class LiquidEvaluator : IExpressionEvaluator
{
    /// <summary>The most iterations of one <c>for</c> loop.</summary>
    public const int MaxIterations = 100_000;

    /// <summary>The longest a render may take.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    /// <summary>The longest output of one render, in characters (1,000,000).</summary>
    public const int MaxOutputLength = 1_000_000;

    private const int MaxCachedTemplates = 10_000;
    private readonly ConcurrentDictionary<string, Template> _cache = new(StringComparer.Ordinal);

    public string Type => ExpressionTypes.Liquid;

    public async ValueTask<object?> EvaluateAsync(Expression expression, ExpressionContext context, CancellationToken ct)
    {
        var source = expression.ValueAsString();
        if (string.IsNullOrEmpty(source)) return source;
        var model = new Dictionary<string, object?>
        {
            ["Variables"] = context.Variables.ToDictionary(p => p.Key, p => p.Value),
            ["Input"] = context.Input.ToDictionary(p => p.Key, p => p.Value),
            ["Output"] = context.ActivityOutputs.ToDictionary(p => p.Key, p => (object?)p.Value),
            ["WorkflowInstanceId"] = context.WorkflowInstanceId,
            ["CorrelationId"] = context.CorrelationId,
        };
        // Read only for templates that mention it, so other templates cost no query.
        if (source.Contains("conversation", StringComparison.OrdinalIgnoreCase))
        {
            var history = ConversationHistory.ToValues(await ConversationHistory.LoadAsync(context, ct), ConversationHistory.DefaultCount);
            model["Conversation"] = new Dictionary<string, object?> { ["history"] = history, ["History"] = history };
        }
        foreach (var (k, v) in model.ToList()) model[char.ToLowerInvariant(k[0]) + k[1..]] = v;
        return await RenderAsync(source, model);
    }

    /// <summary>Renders a template against a model of plain values (dictionaries, lists, primitives).</summary>
    public ValueTask<string> RenderAsync(string source, IReadOnlyDictionary<string, object?> model)
    {
        var template = _cache.GetOrAdd(source, Parse);
        var hash = new Hash();
        foreach (var (k, v) in model) hash[k] = ToLiquid(v);
        // A parsed template keeps per-render error state, so renders of one template are serialised (they take microseconds).
        lock (template)
        {
            using var writer = new BoundedStringWriter(MaxOutputLength);
            try
            {
                template.Render(writer, new RenderParameters(System.Globalization.CultureInfo.InvariantCulture)
                {
                    LocalVariables = hash, ErrorsOutputMode = ErrorsOutputMode.Rethrow,
                    MaxIterations = MaxIterations, Timeout = (int)Timeout.TotalMilliseconds,
                });
            }
            catch (Exception e) when (Limit(e) is { } limit)
            {
                throw new ActivityFaultException(FaultCodes.Expression, $"The Liquid template was stopped: {limit}", nonRetryable: true, e);
            }
            return ValueTask.FromResult(writer.ToString());
        }
    }

    private static string? Limit(Exception e) => e switch
    {
        BoundedStringWriter.OutputLimitException => $"its output passed {MaxOutputLength:N0} characters. Render less (filter or limit the list first).",
        DotLiquid.Exceptions.MaximumIterationsExceededException => $"a for loop passed {MaxIterations:N0} iterations. Use limit: on the loop, or a smaller range.",
        TimeoutException => $"rendering took longer than {Timeout.TotalSeconds:0.#} s. Make the template do less work.",
        _ when e.InnerException is { } inner => Limit(inner),
        _ => null,
    };

    /// <summary>A string writer that refuses to grow past a number of characters.</summary>
    private sealed class BoundedStringWriter(int max) : StringWriter(System.Globalization.CultureInfo.InvariantCulture)
    {
        public sealed class OutputLimitException() : Exception("The output limit was reached.");

        private void Check(int adding)
        {
            if (GetStringBuilder().Length + adding > max) throw new OutputLimitException();
        }

        public override void Write(char value) { Check(1); base.Write(value); }
        public override void Write(char[] buffer, int index, int count) { Check(count); base.Write(buffer, index, count); }
        public override void Write(string? value) { Check(value?.Length ?? 0); base.Write(value); }
        public override void Write(ReadOnlySpan<char> buffer) { Check(buffer.Length); base.Write(buffer); }
    }

    private Template Parse(string source)
    {
        if (_cache.Count >= MaxCachedTemplates) _cache.Clear();
        try { return Template.Parse(source); }
        catch (DotLiquid.Exceptions.LiquidException e)
        {
            throw new ActivityFaultException(FaultCodes.Expression, $"The Liquid template does not parse: {e.Message}", nonRetryable: true, e);
        }
    }

    private static object? ToLiquid(object? value) => ValueConverter.Normalize(value) switch
    {
        IDictionary<string, object?> d => ToHash(d),
        string s => s,
        IEnumerable list => list.Cast<object?>().Select(ToLiquid).ToList(),
        var v => v,
    };

    private static Hash ToHash(IDictionary<string, object?> d)
    {
        var h = new Hash();
        foreach (var (k, v) in d) h[k] = ToLiquid(v);
        return h;
    }
}
