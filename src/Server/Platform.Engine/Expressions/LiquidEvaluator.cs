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
public sealed class LiquidEvaluator : IExpressionEvaluator
{
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
            var result = template.Render(new RenderParameters(System.Globalization.CultureInfo.InvariantCulture)
            {
                LocalVariables = hash, ErrorsOutputMode = ErrorsOutputMode.Rethrow,
            });
            return ValueTask.FromResult(result);
        }
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
