using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Server.Mapping;

/// <summary>
/// Checks the JSON shape of a definition model before it reaches the engine: where a property is present and not null it must
/// have the right JSON kind (ids and types are strings, versions are integers, activities and connections are arrays of objects…).
/// Missing and null values are fine; <see cref="DefinitionNormalizer"/> fills them.
/// </summary>
public static class ModelShapeValidator
{
    /// <summary>The problems found, each as "path: what is wrong"; empty when the shape is right.</summary>
    public static IReadOnlyList<string> Validate(JsonObject model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var errors = new List<string>();
        foreach (var key in (string[])["id", "definitionId", "name", "description", "toolVersion"]) String(model, key, "model", errors);
        foreach (var key in (string[])["variables", "inputs", "outputs", "outcomes"]) Kind(model[key], JsonValueKind.Array, $"model.{key}", errors);
        foreach (var key in (string[])["options", "customProperties"]) Kind(model[key], JsonValueKind.Object, $"model.{key}", errors);
        foreach (var key in (string[])["isPublished", "isLatest", "isReadonly", "isSystem"]) Boolean(model, key, "model", errors);
        if (model["variables"] is JsonArray variables)
        {
            for (var i = 0; i < variables.Count; i++)
            {
                var path = $"model.variables[{i}]";
                if (!Kind(variables[i], JsonValueKind.Object, path, errors, allowNull: false)) continue;
                var v = (JsonObject)variables[i]!;
                foreach (var key in (string[])["id", "name", "typeName", "storageDriverTypeName"]) String(v, key, path, errors);
            }
        }
        if (Kind(model["root"], JsonValueKind.Object, "model.root", errors) && model["root"] is JsonObject root)
            Activity(root, "model.root", errors);
        return errors;
    }

    private static void Activity(JsonObject a, string path, List<string> errors)
    {
        foreach (var key in (string[])["id", "nodeId", "type", "name"]) String(a, key, path, errors);
        Integer(a, "version", path, errors);
        Kind(a["metadata"], JsonValueKind.Object, $"{path}.metadata", errors);
        Kind(a["customProperties"], JsonValueKind.Object, $"{path}.customProperties", errors);
        if (Kind(a["activities"], JsonValueKind.Array, $"{path}.activities", errors) && a["activities"] is JsonArray children)
        {
            for (var i = 0; i < children.Count; i++)
            {
                var childPath = $"{path}.activities[{i}]";
                if (Kind(children[i], JsonValueKind.Object, childPath, errors, allowNull: false)) Activity((JsonObject)children[i]!, childPath, errors);
            }
        }
        if (Kind(a["connections"], JsonValueKind.Array, $"{path}.connections", errors) && a["connections"] is JsonArray connections)
        {
            for (var i = 0; i < connections.Count; i++)
            {
                var cPath = $"{path}.connections[{i}]";
                if (!Kind(connections[i], JsonValueKind.Object, cPath, errors, allowNull: false)) continue;
                var c = (JsonObject)connections[i]!;
                foreach (var end in (string[])["source", "target"])
                {
                    if (Kind(c[end], JsonValueKind.Object, $"{cPath}.{end}", errors) && c[end] is JsonObject e)
                    {
                        String(e, "activity", $"{cPath}.{end}", errors);
                        String(e, "port", $"{cPath}.{end}", errors);
                    }
                }
            }
        }
        // Wrapped inputs: {"typeName": …, "expression": {"type": "Literal", "value": …}}.
        foreach (var (key, value) in a)
        {
            if (value is not JsonObject o || o["expression"] is not { } expression) continue;
            if (Kind(expression, JsonValueKind.Object, $"{path}.{key}.expression", errors) && expression is JsonObject e)
                String(e, "type", $"{path}.{key}.expression", errors);
            String(o, "typeName", $"{path}.{key}", errors);
        }
    }

    private static bool Kind(JsonNode? node, JsonValueKind kind, string path, List<string> errors, bool allowNull = true)
    {
        if (node is null) return allowNull || Fail(errors, $"{path}: must not be null.");
        var actual = node.GetValueKind();
        return actual == kind || Fail(errors, $"{path}: must be {Article(kind)}, not {Article(actual)}.");
    }

    private static void String(JsonObject o, string key, string path, List<string> errors) =>
        Kind(o[key], JsonValueKind.String, $"{path}.{key}", errors);

    private static void Boolean(JsonObject o, string key, string path, List<string> errors)
    {
        if (o[key] is { } n && n.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
            errors.Add($"{path}.{key}: must be true or false.");
    }

    private static void Integer(JsonObject o, string key, string path, List<string> errors)
    {
        if (o[key] is { } n && !(n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<int>(out _)))
            errors.Add($"{path}.{key}: must be a whole number.");
    }

    private static bool Fail(List<string> errors, string message)
    {
        errors.Add(message);
        return false;
    }

    private static string Article(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
