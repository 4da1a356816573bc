using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Platform.Engine.Descriptors;

namespace Platform.Server.Mapping;

/// <summary>
/// Brings a definition model into the shape the Studio needs: every activity (the root flowchart included) has an id and a
/// <c>nodeId</c> (<c>Workflow1:&lt;rootId&gt;:&lt;childId&gt;</c>), and options, variables, inputs, outputs, outcomes,
/// metadata and customProperties are objects or arrays, never null.
/// </summary>
public static class DefinitionNormalizer
{
    /// <summary>The node id prefix the Studio uses for the workflow itself.</summary>
    public const string WorkflowNodePrefix = "Workflow1";

    /// <summary>Properties that hold a nested activity (containers).</summary>
    private static readonly string[] NestedActivityProperties = ["body", "root", "then", "else"];

    /// <summary>Properties that hold a list of nested activities.</summary>
    private static readonly string[] NestedActivityLists = ["activities", "branches"];

    /// <summary>Normalises a model in place and returns it.</summary>
    public static JsonObject NormalizeModel(JsonObject model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Remove("links");
        if (model["root"] is not JsonObject root)
        {
            root = new JsonObject { ["id"] = NewId(), ["type"] = ActivityRegistry.FlowchartTypeName, ["version"] = 1, ["name"] = "Flowchart1" };
            model["root"] = root;
        }
        NormalizeRoot(root);
        model["options"] = NormalizeOptions(model["options"] as JsonObject);
        foreach (var key in (string[])["variables", "inputs", "outputs", "outcomes"])
            if (model[key] is not JsonArray) model[key] = new JsonArray();
        if (model["customProperties"] is not JsonObject) model["customProperties"] = new JsonObject();
        if (model["isReadonly"] is null) model["isReadonly"] = false;
        if (model["isSystem"] is null) model["isSystem"] = false;
        return model;
    }

    /// <summary>Assigns ids and node ids to the root and its descendants and fills missing containers.</summary>
    public static JsonObject NormalizeRoot(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (root["type"] is null) root["type"] = ActivityRegistry.FlowchartTypeName;
        AssignNodeIds(root, null);
        return root;
    }

    /// <summary>
    /// Gives nodes saved under a former type name (<see cref="ActivityRegistry.FormerTypeNames"/>) the current one, so the
    /// Studio draws them as the current type and saving from the Studio converts them. The engine reads either name.
    /// </summary>
    public static JsonObject RenameFormerTypes(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (var a in Activities(root).ToList())
            if (a["type"] is JsonValue t && t.TryGetValue<string>(out var type) && ActivityRegistry.CurrentTypeName(type) is var current && current != type)
                a["type"] = current;
        return root;
    }

    /// <summary>Fills the workflow options with Elsa's defaults where they are missing.</summary>
    public static JsonObject NormalizeOptions(JsonObject? options)
    {
        options ??= new JsonObject();
        void Default(string key, JsonNode? value)
        {
            if (!options.ContainsKey(key)) options[key] = value;
        }
        Default("activationStrategyType", "Elsa.Workflows.ActivationStrategies.AllowAlways");
        Default("usableAsActivity", false);
        Default("autoUpdateConsumingWorkflows", false);
        Default("activityCategory", "Workflows");
        Default("incidentStrategyType", null);
        Default("commitStrategyName", null);
        return options;
    }

    /// <summary>Every activity under (and including) <paramref name="root"/>.</summary>
    public static IEnumerable<JsonObject> Activities(JsonObject root)
    {
        ArgumentNullException.ThrowIfNull(root);
        yield return root;
        foreach (var child in Children(root))
        foreach (var a in Activities(child))
            yield return a;
    }

    /// <summary>The connections of every flowchart under (and including) <paramref name="root"/>.</summary>
    public static IEnumerable<(JsonObject Flowchart, JsonObject Connection)> Connections(JsonObject root)
    {
        foreach (var a in Activities(root))
        {
            if (a["connections"] is not JsonArray connections) continue;
            foreach (var c in connections.OfType<JsonObject>()) yield return (a, c);
        }
    }

    /// <summary>A new activity id (16 hex digits, like Elsa's).</summary>
    public static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    private static void AssignNodeIds(JsonObject activity, string? parentNodeId) =>
        Platform.Engine.Runtime.WorkflowDefinitionService.AssignNodeIds(activity, parentNodeId);

    private static IEnumerable<JsonObject> Children(JsonObject activity)
    {
        foreach (var list in NestedActivityLists)
            if (activity[list] is JsonArray items)
                foreach (var item in items.OfType<JsonObject>())
                    if (IsActivity(item)) yield return item;
        foreach (var prop in NestedActivityProperties)
            if (activity[prop] is JsonObject nested && IsActivity(nested))
                yield return nested;
    }

    private static bool IsActivity(JsonObject node) => node["type"] is JsonValue t && t.TryGetValue<string>(out var s) && !string.IsNullOrEmpty(s);
}
