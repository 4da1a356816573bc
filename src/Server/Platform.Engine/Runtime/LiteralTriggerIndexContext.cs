using Platform.Activities;
using Platform.Engine.Expressions;

namespace Platform.Engine.Runtime;

/// <summary>Reads trigger inputs as literals (at publication, and when a trigger filter decides on an event).</summary>
internal sealed class LiteralTriggerIndexContext(string definitionId) : TriggerIndexContext
{
    public override string DefinitionId => definitionId;
    public override T? Get<T>(Input<T> input) where T : default
    {
        if (input is null || input.Expression.Type is not (ExpressionTypes.Literal or ExpressionTypes.Object)) return default;
        try { return ValueConverter.Convert<T>(input.Expression.Value); }
        catch (Exception e) when (e is FormatException or InvalidCastException or System.Text.Json.JsonException) { return default; }
    }
}
