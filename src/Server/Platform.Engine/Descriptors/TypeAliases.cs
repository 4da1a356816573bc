using System.Collections;

namespace Platform.Engine.Descriptors;

/// <summary>Elsa's short type names (String, Int32, …) for CLR types.</summary>
public static class TypeAliases
{
    private static readonly Dictionary<Type, string> Aliases = new()
    {
        [typeof(string)] = "String", [typeof(bool)] = "Boolean", [typeof(int)] = "Int32", [typeof(long)] = "Int64",
        [typeof(double)] = "Double", [typeof(float)] = "Single", [typeof(decimal)] = "Decimal", [typeof(object)] = "Object",
        [typeof(TimeSpan)] = "TimeSpan", [typeof(DateTime)] = "DateTime", [typeof(DateTimeOffset)] = "DateTimeOffset",
        [typeof(Guid)] = "Guid", [typeof(Uri)] = "Uri", [typeof(string[])] = "StringList", [typeof(byte[])] = "ByteArray",
        [typeof(System.Text.Json.Nodes.JsonNode)] = "JsonNode", [typeof(System.Text.Json.Nodes.JsonObject)] = "JsonObject",
    };

    private static readonly Dictionary<string, Type> ByAlias = Aliases.ToDictionary(p => p.Value, p => p.Key, StringComparer.OrdinalIgnoreCase);

    /// <summary>The alias of a type; unknown types get their name (nullable and collections are unwrapped sensibly).</summary>
    public static string GetAlias(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (Aliases.TryGetValue(t, out var alias)) return alias;
        if (typeof(IDictionary).IsAssignableFrom(t) || (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IDictionary<,>)))
            return "ObjectMap";
        if (t != typeof(string) && typeof(IEnumerable).IsAssignableFrom(t)) return "ObjectList";
        return t.Name;
    }

    /// <summary>The CLR type of an alias, or <see cref="object"/>.</summary>
    public static Type Resolve(string? alias) =>
        alias is not null && ByAlias.TryGetValue(alias, out var t) ? t
        : alias is "ObjectMap" ? typeof(Dictionary<string, object?>)
        : alias is "ObjectList" ? typeof(List<object?>)
        : typeof(object);

    /// <summary>Variable types offered in the Studio.</summary>
    public static IEnumerable<(string Alias, string Category)> VariableTypes =>
    [
        ("String", "Primitives"), ("Boolean", "Primitives"), ("Int32", "Primitives"), ("Int64", "Primitives"), ("Double", "Primitives"),
        ("Decimal", "Primitives"), ("Object", "Primitives"), ("TimeSpan", "Primitives"), ("DateTimeOffset", "Primitives"),
        ("Guid", "Primitives"), ("StringList", "Lists"), ("ObjectList", "Lists"), ("ObjectMap", "Dynamic"), ("JsonObject", "Dynamic"),
    ];
}
