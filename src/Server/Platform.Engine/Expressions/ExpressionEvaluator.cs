using Platform.Activities;

namespace Platform.Engine.Expressions;

/// <summary>What an expression can see.</summary>
public sealed class ExpressionContext
{
    public required IDictionary<string, object?> Variables { get; init; }
    public required IReadOnlyDictionary<string, object?> Input { get; init; }
    public required IDictionary<string, Dictionary<string, object?>> ActivityOutputs { get; init; }
    public IDictionary<string, object?> Output { get; init; } = new Dictionary<string, object?>();
    public string? WorkflowInstanceId { get; init; }
    public string? DefinitionId { get; init; }
    public string? CorrelationId { get; init; }
    /// <summary>Variable ids to names, for Variable expressions that reference a variable by id.</summary>
    public IReadOnlyDictionary<string, string>? VariableIdToName { get; init; }
    /// <summary>The engine's services, for optional features such as <see cref="IConversationMemory"/>; null in bare evaluations.</summary>
    public IServiceProvider? Services { get; init; }
    /// <summary>The instance properties (the conversation key and the latest message id of a workflow started by a message).</summary>
    public IDictionary<string, object?>? Properties { get; init; }
    /// <summary>The turns read by <see cref="ConversationHistory.LoadAsync"/> in this burst, for its conversation and current message.</summary>
    internal (string Key, string? Current, IReadOnlyList<ConversationTurn> Turns)? ConversationHistoryCache { get; set; }
}

/// <summary>Evaluates one expression type.</summary>
public interface IExpressionEvaluator
{
    string Type { get; }
    ValueTask<object?> EvaluateAsync(Expression expression, ExpressionContext context, CancellationToken ct);
}

/// <summary>Dispatches to the evaluator of the expression's type and converts the result.</summary>
public sealed class ExpressionEvaluator
{
    private readonly Dictionary<string, IExpressionEvaluator> _evaluators;

    public ExpressionEvaluator(IEnumerable<IExpressionEvaluator> evaluators) =>
        _evaluators = evaluators.GroupBy(e => e.Type, StringComparer.OrdinalIgnoreCase).ToDictionary(g => g.Key, g => g.Last(), StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<string> Types => _evaluators.Keys;

    public async ValueTask<object?> EvaluateAsync(Expression expression, Type targetType, ExpressionContext context, CancellationToken ct)
    {
        if (!_evaluators.TryGetValue(expression.Type, out var evaluator))
            throw new ActivityFaultException(FaultCodes.Expression,
                $"Expression type '{expression.Type}' is not supported. Use one of: {string.Join(", ", _evaluators.Keys)}.", nonRetryable: true);
        object? raw;
        try { raw = await evaluator.EvaluateAsync(expression, context, ct); }
        catch (ActivityFaultException) { throw; }
        catch (OperationCanceledException) { throw; }
        catch (Exception e)
        {
            throw new ActivityFaultException(FaultCodes.Expression, $"The {expression.Type} expression failed: {e.Message}", nonRetryable: true, e);
        }
        try { return ValueConverter.Convert(raw, targetType); }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or System.Text.Json.JsonException or ArgumentException)
        {
            throw new ActivityFaultException(FaultCodes.InputConversion,
                $"The value '{Truncate(raw)}' cannot be converted to {Descriptors.TypeAliases.GetAlias(targetType)}: {e.Message}", nonRetryable: true, e);
        }
    }

    private static string Truncate(object? v)
    {
        var s = v?.ToString() ?? "null";
        return s.Length > 80 ? s[..80] + "…" : s;
    }
}

/// <summary>Literal values (text from the designer).</summary>
public sealed class LiteralEvaluator : IExpressionEvaluator
{
    public string Type => ExpressionTypes.Literal;
    public ValueTask<object?> EvaluateAsync(Expression expression, ExpressionContext context, CancellationToken ct) =>
        ValueTask.FromResult(ValueConverter.Normalize(expression.Value));
}

/// <summary>JSON objects and arrays, given as JSON text or as JSON.</summary>
public sealed class ObjectEvaluator : IExpressionEvaluator
{
    public string Type => ExpressionTypes.Object;
    public ValueTask<object?> EvaluateAsync(Expression expression, ExpressionContext context, CancellationToken ct)
    {
        var v = ValueConverter.Normalize(expression.Value);
        if (v is string s && s.TrimStart() is ['{' or '[', ..])
            v = ValueConverter.FromElement(System.Text.Json.JsonDocument.Parse(s).RootElement.Clone());
        return ValueTask.FromResult(v);
    }
}

/// <summary>A workflow variable, referenced by name, by id, or as <c>{id, name}</c>.</summary>
public sealed class VariableEvaluator : IExpressionEvaluator
{
    public string Type => ExpressionTypes.Variable;
    public ValueTask<object?> EvaluateAsync(Expression expression, ExpressionContext context, CancellationToken ct)
    {
        var v = ValueConverter.Normalize(expression.Value);
        string? name = v switch
        {
            string s => s,
            IDictionary<string, object?> d => (d.TryGetValue("name", out var n) ? n as string : null)
                ?? (d.TryGetValue("id", out var id) && id is string ids && context.VariableIdToName?.TryGetValue(ids, out var byId) == true ? byId : null),
            _ => null,
        };
        if (name is not null && !context.Variables.ContainsKey(name) && context.VariableIdToName?.TryGetValue(name, out var mapped) == true) name = mapped;
        return ValueTask.FromResult(name is not null && context.Variables.TryGetValue(name, out var value) ? value : null);
    }
}
