using System.Text.Json.Nodes;

namespace Platform.Server.Tests.Infrastructure;

/// <summary>Definition models as the Studio saves them; every call makes a new, uniquely named workflow.</summary>
public static class Workflows
{
    /// <summary>A unique name, so tests never see each other's data.</summary>
    public static string UniqueName(string prefix) => $"{prefix} {Guid.NewGuid():N}";

    /// <summary>An Elsa wrapped input: <c>{typeName, expression: {type, value}}</c>.</summary>
    public static JsonObject Literal(string typeName, object? value) => new()
    {
        ["typeName"] = typeName,
        ["expression"] = new JsonObject { ["type"] = "Literal", ["value"] = JsonValue.Create(value) },
    };

    /// <summary>An activity node.</summary>
    public static JsonObject Activity(string id, string type, params (string Key, JsonNode? Value)[] properties)
    {
        var a = new JsonObject { ["id"] = id, ["type"] = type, ["version"] = 1, ["name"] = id };
        foreach (var (key, value) in properties) a[key] = value;
        return a;
    }

    /// <summary>A connection from <paramref name="source"/>'s port to <paramref name="target"/>.</summary>
    public static JsonObject Connect(string source, string target, string port = "Done") => new()
    {
        ["source"] = new JsonObject { ["activity"] = source, ["port"] = port },
        ["target"] = new JsonObject { ["activity"] = target, ["port"] = "In" },
        ["vertices"] = new JsonArray(),
    };

    /// <summary>A model whose activities run in the given order.</summary>
    public static JsonObject Sequence(string name, JsonArray? variables, params JsonObject[] activities)
    {
        var connections = new JsonArray();
        for (var i = 1; i < activities.Length; i++)
            connections.Add(Connect(activities[i - 1]["id"]!.GetValue<string>(), activities[i]["id"]!.GetValue<string>()));
        return new JsonObject
        {
            ["name"] = name,
            ["variables"] = variables ?? new JsonArray(),
            ["root"] = new JsonObject
            {
                ["id"] = "flow1", ["type"] = "Elsa.Flowchart", ["version"] = 1,
                ["activities"] = new JsonArray(activities.Select(a => (JsonNode)a).ToArray()),
                ["connections"] = connections,
            },
        };
    }

    /// <summary>Start → WriteLine("hello") → SetVariable(greeting = "hi there") → End.</summary>
    public static JsonObject HelloWorld(string name) => Sequence(name,
        new JsonArray(new JsonObject { ["id"] = "var-greeting", ["name"] = "greeting", ["typeName"] = "String", ["value"] = "" }),
        Activity("start1", "Elsa.Start"),
        Activity("write1", "Elsa.WriteLine", ("text", Literal("String", "hello"))),
        Activity("set1", "Elsa.SetVariable",
            ("variable", new JsonObject { ["id"] = "var-greeting", ["name"] = "greeting", ["typeName"] = "String" }),
            ("value", Literal("Object", "hi there"))),
        Activity("end1", "Elsa.End"));

    /// <summary>Start → Delay(1 hour) → WriteLine: suspends on the delay.</summary>
    public static JsonObject WaitAnHour(string name) => Sequence(name, null,
        Activity("start1", "Elsa.Start"),
        Activity("delay1", "Elsa.Delay", ("timeSpan", Literal("TimeSpan", "01:00:00"))),
        Activity("write1", "Elsa.WriteLine", ("text", Literal("String", "later"))));

    /// <summary>Start → an activity type no pack provides.</summary>
    public static JsonObject WithUnknownActivity(string name, string type) => Sequence(name, null,
        Activity("start1", "Elsa.Start"),
        Activity("ghost1", type, ("prompt", Literal("String", "boo"))));
}
