using System.Text.Json;

namespace Platform.Activities;

/// <summary>
/// An expression as stored in Elsa flowchart JSON: <c>{"type":"Literal","value":"…"}</c>.
/// Types the engine understands: <c>Literal</c>, <c>Object</c> (JSON), <c>JavaScript</c>, <c>Liquid</c>, <c>Variable</c>.
/// </summary>
public sealed record Expression(string Type, object? Value)
{
    /// <summary>A literal value.</summary>
    public static Expression Literal(object? value) => new(ExpressionTypes.Literal, value);

    /// <summary>A JavaScript expression evaluated by Jint.</summary>
    public static Expression JavaScript(string script) => new(ExpressionTypes.JavaScript, script);

    /// <summary>A Liquid template rendered by Fluid.</summary>
    public static Expression Liquid(string template) => new(ExpressionTypes.Liquid, template);

    /// <summary>A reference to a workflow variable by name.</summary>
    public static Expression Variable(string name) => new(ExpressionTypes.Variable, name);

    /// <summary>The value as text (JSON elements are unwrapped).</summary>
    public string? ValueAsString() => Value switch
    {
        null => null,
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
        JsonElement { ValueKind: JsonValueKind.Null or JsonValueKind.Undefined } => null,
        JsonElement e => e.GetRawText(),
        _ => Convert.ToString(Value, System.Globalization.CultureInfo.InvariantCulture),
    };
}

/// <summary>The expression type names.</summary>
public static class ExpressionTypes
{
    /// <summary>A literal value.</summary>
    public const string Literal = "Literal";
    /// <summary>A JSON object or array.</summary>
    public const string Object = "Object";
    /// <summary>JavaScript (Jint).</summary>
    public const string JavaScript = "JavaScript";
    /// <summary>Liquid (Fluid).</summary>
    public const string Liquid = "Liquid";
    /// <summary>A workflow variable.</summary>
    public const string Variable = "Variable";
}
