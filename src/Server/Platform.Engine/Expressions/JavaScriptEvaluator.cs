using System.Collections.Concurrent;
using System.Dynamic;
using Jint;
using Jint.Native;
using Platform.Activities;

namespace Platform.Engine.Expressions;

/// <summary>
/// JavaScript via Jint. Scripts are parsed once and cached (prepared scripts are immutable and thread-safe); each evaluation
/// gets a fresh, sandboxed engine (no CLR access, statement/time/memory limits).
/// Globals: <c>variables</c> (read/write object), <c>getVariable(name)</c>, <c>setVariable(name, value)</c>, <c>input</c>,
/// <c>getInput(name)</c>, <c>getOutput(activityId, name)</c>, <c>setOutput(name, value)</c> (workflow output),
/// <c>workflowInstanceId</c>, <c>correlationId</c>, <c>definitionId</c>, <c>getConversationHistory(n = 10)</c> (the last n ≤ 50
/// earlier turns of the workflow's conversation, oldest first, as <c>{ role, text, at }</c>; read once per burst, and only
/// for scripts that contain the function's name).
/// </summary>
public sealed class JavaScriptEvaluator : IExpressionEvaluator
{
    private const int MaxCachedScripts = 10_000;
    private readonly ConcurrentDictionary<string, Script> _cache = new(StringComparer.Ordinal);

    /// <summary>A prepared script and which of the globals its text names (only those are set up for a run).</summary>
    private sealed record Script(Prepared<Acornima.Ast.Script> Prepared, Globals Uses);

    [Flags]
    private enum Globals
    {
        None = 0, Variables = 1, GetVariable = 2, Input = 4, GetInput = 8, GetOutput = 16, SetOutput = 32, Ids = 64, History = 128,
        All = Variables | GetVariable | Input | GetInput | GetOutput | SetOutput | Ids | History,
    }

    public string Type => ExpressionTypes.JavaScript;

    /// <summary>How many distinct scripts are cached (for diagnostics and tests).</summary>
    public int CachedScriptCount => _cache.Count;

    public ValueTask<object?> EvaluateAsync(Expression expression, ExpressionContext context, CancellationToken ct)
    {
        var source = expression.ValueAsString();
        if (string.IsNullOrWhiteSpace(source)) return ValueTask.FromResult<object?>(null);
        // The conversation history is read before the (synchronous) script runs, and only by scripts that name the function.
        if (source.Contains(ConversationHistoryFunction, StringComparison.Ordinal))
        {
            var loading = ConversationHistory.LoadAsync(context, ct);
            if (!loading.IsCompletedSuccessfully) return EvaluateAfterAsync(loading, source, context, ct);
            return ValueTask.FromResult(Evaluate(source, context, loading.Result, ct));
        }
        return ValueTask.FromResult(Evaluate(source, context, null, ct));
    }

    /// <summary>The name of the conversation history function.</summary>
    public const string ConversationHistoryFunction = "getConversationHistory";

    private async ValueTask<object?> EvaluateAfterAsync(ValueTask<IReadOnlyList<ConversationTurn>> loading, string source, ExpressionContext context, CancellationToken ct) =>
        Evaluate(source, context, await loading.ConfigureAwait(false), ct);

    private object? Evaluate(string source, ExpressionContext context, IReadOnlyList<ConversationTurn>? history, CancellationToken ct)
    {
        var script = _cache.GetOrAdd(source, Prepare);
        var uses = script.Uses;
        var engine = new Jint.Engine(o => o
            .TimeoutInterval(TimeSpan.FromSeconds(2))
            .MaxStatements(200_000)
            .LimitRecursion(256)
            .LimitMemory(64_000_000)
            .CancellationToken(ct));

        // Converting the run's variables and input (an HTTP request's headers and body) into JS objects is most of the cost
        // of a simple condition, so only the globals that the script's text names are set up.
        var vars = (uses & Globals.Variables) != 0 ? new JsObject(engine) : null;
        if (vars is not null)
        {
            foreach (var (k, v) in context.Variables) vars.Set(k, JsValue.FromObject(engine, ToJs(v)));
            engine.SetValue("variables", vars);
            engine.SetValue("setVariable", new Action<string, JsValue>((n, v) => { vars.Set(n, v); }));
        }
        if ((uses & Globals.GetVariable) != 0)
            engine.SetValue("getVariable", new Func<string, object?>(n => context.Variables.TryGetValue(n, out var v) ? ToJs(v) : null));
        if ((uses & Globals.Input) != 0)
            engine.SetValue("input", JsValue.FromObject(engine, ToJs(context.Input.ToDictionary(p => p.Key, p => p.Value))));
        if ((uses & Globals.GetInput) != 0)
            engine.SetValue("getInput", new Func<string, object?>(n => context.Input.TryGetValue(n, out var v) ? ToJs(v) : null));
        if ((uses & Globals.GetOutput) != 0)
            engine.SetValue("getOutput", new Func<string, string, object?>((a, n) =>
                context.ActivityOutputs.TryGetValue(a, out var o) && o.TryGetValue(n, out var v) ? ToJs(v) : null));
        if ((uses & Globals.SetOutput) != 0)
            engine.SetValue("setOutput", new Action<string, JsValue>((n, v) => context.Output[n] = FromJs(v)));
        if ((uses & Globals.Ids) != 0)
        {
            engine.SetValue("workflowInstanceId", context.WorkflowInstanceId);
            engine.SetValue("correlationId", context.CorrelationId);
            engine.SetValue("definitionId", context.DefinitionId);
        }
        if ((uses & Globals.History) != 0)
            engine.SetValue(ConversationHistoryFunction, new Func<JsValue, object?>(n =>
            {
                // A script that reaches the function without naming it (rare) reads the history here, synchronously.
                history ??= ConversationHistory.LoadAsync(context, ct).AsTask().GetAwaiter().GetResult();
                var count = n is not null && n.IsNumber() && !double.IsNaN(n.AsNumber()) ? (int)Math.Clamp(n.AsNumber(), 0, ConversationHistory.MaxCount) : ConversationHistory.DefaultCount;
                return ToJs(ConversationHistory.ToValues(history, count));
            }));

        var result = engine.Evaluate(script.Prepared);

        if (vars is not null)
            foreach (var p in vars.GetOwnProperties())
            {
                var name = p.Key.AsString();
                var value = FromJs(p.Value.Value);
                if (!context.Variables.TryGetValue(name, out var old) || !Equals(old, value)) context.Variables[name] = value;
            }
        return FromJs(result);
    }

    private Script Prepare(string source)
    {
        if (_cache.Count >= MaxCachedScripts) _cache.Clear();
        return new Script(Jint.Engine.PrepareScript(source), UsedGlobals(source));
    }

    /// <summary>
    /// The globals whose names appear in the script's text (a superset of those it can reach). Text that can reach globals
    /// without naming them (<c>eval</c>, <c>Function</c>, <c>this</c>, <c>globalThis</c>) gets them all.
    /// </summary>
    private static Globals UsedGlobals(string source)
    {
        bool Has(string name) => source.Contains(name, StringComparison.Ordinal);
        if (Has("eval") || Has("Function") || Has("this") || Has("globalThis")) return Globals.All;
        var uses = Globals.None;
        if (Has("variables") || Has("setVariable")) uses |= Globals.Variables;
        if (Has("getVariable")) uses |= Globals.GetVariable;
        if (Has("input")) uses |= Globals.Input;
        if (Has("getInput")) uses |= Globals.GetInput;
        if (Has("getOutput")) uses |= Globals.GetOutput;
        if (Has("setOutput")) uses |= Globals.SetOutput;
        if (Has("workflowInstanceId") || Has("correlationId") || Has("definitionId")) uses |= Globals.Ids;
        if (Has(ConversationHistoryFunction)) uses |= Globals.History;
        return uses;
    }

    private static object? ToJs(object? v) => ValueConverter.Normalize(v) switch
    {
        Dictionary<string, object?> d => ToExpando(d),
        List<object?> l => l.Select(ToJs).ToArray(),
        var x => x,
    };

    private static ExpandoObject ToExpando(Dictionary<string, object?> d)
    {
        var e = new ExpandoObject();
        IDictionary<string, object?> map = e;
        foreach (var (k, v) in d) map[k] = ToJs(v);
        return e;
    }

    /// <summary>Converts a JS value into plain CLR values (Dictionary, List, string, double, bool).</summary>
    public static object? FromJs(JsValue v)
    {
        if (v.IsNull() || v.IsUndefined()) return null;
        return FromClr(v.ToObject());
    }

    private static object? FromClr(object? o) => o switch
    {
        null => null,
        string or bool => o,
        double d => d % 1 == 0 && Math.Abs(d) < 9e15 ? (long)d : d,
        int i => (long)i,
        IDictionary<string, object?> map => map.ToDictionary(p => p.Key, p => FromClr(p.Value)),
        object?[] arr => arr.Select(FromClr).ToList(),
        System.Collections.IList list => list.Cast<object?>().Select(FromClr).ToList(),
        _ => o,
    };
}
