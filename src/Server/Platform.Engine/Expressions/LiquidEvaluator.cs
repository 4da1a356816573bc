using System.Collections.Concurrent;
using Fluid;
using Platform.Activities;

namespace Platform.Engine.Expressions;

/// <summary>
/// Liquid templates via Fluid, parsed once and cached. The model exposes <c>Variables</c>, <c>Input</c>, <c>Output</c>
/// (by activity id), <c>WorkflowInstanceId</c> and <c>CorrelationId</c> (lower-case aliases too).
/// </summary>
public sealed class LiquidEvaluator : IExpressionEvaluator
{
    private const int MaxCachedTemplates = 10_000;
    private static readonly FluidParser Parser = new();
    private readonly ConcurrentDictionary<string, IFluidTemplate> _cache = new(StringComparer.Ordinal);
    private readonly TemplateOptions _options;

    public LiquidEvaluator()
    {
        _options = new TemplateOptions();
        _options.MemberAccessStrategy.IgnoreCasing = true;
    }

    public string Type => ExpressionTypes.Liquid;

    public async ValueTask<object?> EvaluateAsync(Expression expression, ExpressionContext context, CancellationToken ct)
    {
        var source = expression.ValueAsString();
        if (string.IsNullOrEmpty(source)) return source;
        var template = _cache.GetOrAdd(source, Parse);
        var tc = new TemplateContext(_options);
        var variables = context.Variables.ToDictionary(p => p.Key, p => ValueConverter.Normalize(p.Value));
        var input = context.Input.ToDictionary(p => p.Key, p => ValueConverter.Normalize(p.Value));
        var outputs = context.ActivityOutputs.ToDictionary(p => p.Key, p => (object?)p.Value);
        foreach (var (name, value) in new (string, object?)[]
                 {
                     ("Variables", variables), ("Input", input), ("Output", outputs),
                     ("WorkflowInstanceId", context.WorkflowInstanceId), ("CorrelationId", context.CorrelationId),
                 })
        {
            tc.SetValue(name, value);
            tc.SetValue(char.ToLowerInvariant(name[0]) + name[1..], value);
        }
        return await template.RenderAsync(tc);
    }

    /// <summary>Renders a template against an arbitrary model (used by formatting activities).</summary>
    public ValueTask<string> RenderAsync(string source, IReadOnlyDictionary<string, object?> model)
    {
        var template = _cache.GetOrAdd(source, Parse);
        var tc = new TemplateContext(_options);
        foreach (var (k, v) in model) tc.SetValue(k, ValueConverter.Normalize(v));
        return template.RenderAsync(tc);
    }

    private IFluidTemplate Parse(string source)
    {
        if (_cache.Count >= MaxCachedTemplates) _cache.Clear();
        if (!Parser.TryParse(source, out var template, out var error))
            throw new ActivityFaultException(FaultCodes.Expression, $"The Liquid template does not parse: {error}", nonRetryable: true);
        return template;
    }
}
