using Platform.Activities;
using Platform.Engine.Contracts;

namespace Platform.Engine.Expressions;

/// <summary>
/// Evaluates a small JavaScript and a small Liquid expression once at start: Jint's first engine builds static tables
/// (its time-zone list alone takes ~170 ms on Linux) and the parsers are compiled, which the first message would otherwise wait for.
/// </summary>
public sealed class ExpressionWarmUp(ExpressionEvaluator evaluator) : IStartupWarmUp
{
    /// <inheritdoc />
    public string Name => "expressions (JavaScript, Liquid)";

    /// <inheritdoc />
    public async Task WarmUpAsync(CancellationToken ct)
    {
        var context = new ExpressionContext
        {
            Variables = new Dictionary<string, object?> { ["n"] = 1 },
            Input = new Dictionary<string, object?>(),
            ActivityOutputs = new Dictionary<string, Dictionary<string, object?>> { ["received"] = new() { ["Text"] = "up" } },
        };
        await evaluator.EvaluateAsync(new Expression(ExpressionTypes.JavaScript, "'warm ' + getOutput('received', 'Text') + variables.n"),
            typeof(string), context, ct).ConfigureAwait(false);
        if (evaluator.Types.Contains(ExpressionTypes.Liquid, StringComparer.OrdinalIgnoreCase))
            await evaluator.EvaluateAsync(new Expression(ExpressionTypes.Liquid, "warm {{ 1 | plus: 1 }}"), typeof(string), context, ct).ConfigureAwait(false);
    }
}
