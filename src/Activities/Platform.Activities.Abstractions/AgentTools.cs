using System.Text.Json;

namespace Platform.Activities;

/// <summary>
/// A capability an AI agent may call (function calling). Packs register their tools as singletons of this interface (or
/// offer them through an <see cref="IAgentToolSource"/>); the AI Agent activity offers the ones the designer picked.
/// </summary>
public interface IAgentTool
{
    /// <summary>The function name the model sees: letters, digits, <c>_</c> and <c>-</c> only, at most 64 characters
    /// (OpenAI's rule), e.g. <c>query_database</c>.</summary>
    string Name { get; }

    /// <summary>What the tool does and when to use it, for the model.</summary>
    string Description { get; }

    /// <summary>The JSON schema of the arguments (an object schema with <c>properties</c> and <c>required</c>).</summary>
    JsonElement ParametersSchema { get; }

    /// <summary>Runs the tool. Problems the model can fix (unknown device, bad SQL) are returned as an error result, not thrown.</summary>
    /// <param name="arguments">The arguments the model sent (a JSON object; may miss required properties).</param>
    /// <param name="context">The context of the agent activity (services, workflow, actor).</param>
    Task<AgentToolResult> InvokeAsync(JsonElement arguments, ActivityExecutionContext context);
}

/// <summary>Offers tools that change at run time (for example published workflows marked "usable as a tool").</summary>
public interface IAgentToolSource
{
    /// <summary>The tools available now.</summary>
    Task<IReadOnlyList<IAgentTool>> GetToolsAsync(CancellationToken cancellationToken);
}

/// <summary>What a tool call gave back.</summary>
/// <param name="Content">The result for the model, usually JSON text.</param>
public sealed record AgentToolResult(string Content)
{
    /// <summary>True when the call failed; <see cref="Content"/> says why, so the model may try otherwise.</summary>
    public bool IsError { get; init; }

    /// <summary>
    /// Set when the action needs the user's confirmation first (e.g. unlocking a door): a sentence describing the pending
    /// action. The agent stops and ends with outcome <c>NeedsConfirmation</c> so the workflow can ask the user.
    /// </summary>
    public string? ConfirmationRequired { get; init; }

    /// <summary>Details of the pending action (tool, arguments, device…) when <see cref="ConfirmationRequired"/> is set.</summary>
    public IReadOnlyDictionary<string, object?>? PendingAction { get; init; }

    /// <summary>A result whose content is <paramref name="value"/> serialised as JSON.</summary>
    public static AgentToolResult Json(object? value) => new(JsonSerializer.Serialize(value));

    /// <summary>An error result: <c>{"error": message}</c>.</summary>
    public static AgentToolResult Error(string message) =>
        new(JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = message })) { IsError = true };
}

// IKnowledgeSearch and KnowledgeHit (the retrieve tool) are in Knowledge.cs.
/// <summary>Helpers to write tool argument schemas.</summary>
public static class AgentToolSchema
{
    /// <summary>An object schema with string/number/boolean properties: each entry is (name, JSON type, description, required).</summary>
    public static JsonElement Object(params (string Name, string Type, string Description, bool Required)[] properties)
    {
        var props = properties.ToDictionary(p => p.Name, p => (object)new Dictionary<string, object> { ["type"] = p.Type, ["description"] = p.Description });
        var schema = new Dictionary<string, object>
        {
            ["type"] = "object",
            ["properties"] = props,
            ["required"] = properties.Where(p => p.Required).Select(p => p.Name).ToArray(),
        };
        return JsonSerializer.SerializeToElement(schema);
    }

    /// <summary>The string property <paramref name="name"/> of <paramref name="arguments"/>, or null.</summary>
    public static string? String(JsonElement arguments, string name) =>
        arguments.ValueKind == JsonValueKind.Object && arguments.TryGetProperty(name, out var v)
            ? v.ValueKind switch { JsonValueKind.String => v.GetString(), JsonValueKind.Null or JsonValueKind.Undefined => null, _ => v.GetRawText() }
            : null;

    /// <summary>The property <paramref name="name"/> as a plain value (string, number, bool), or null.</summary>
    public static object? Value(JsonElement arguments, string name)
    {
        if (arguments.ValueKind != JsonValueKind.Object || !arguments.TryGetProperty(name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => v.TryGetInt64(out var l) ? l : v.GetDouble(),
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            _ => v.GetRawText(),
        };
    }
}
