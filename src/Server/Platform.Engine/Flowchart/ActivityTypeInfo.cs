using System.Runtime.CompilerServices;
using System.Reflection;
using Platform.Activities;

namespace Platform.Engine.Flowchart;

/// <summary>Cached reflection over an activity class: its input and output properties.</summary>
internal sealed class ActivityTypeInfo
{
    // Weak keys: a pack's types must not be kept alive after its collectible load context is unloaded.
    private static readonly ConditionalWeakTable<Type, ActivityTypeInfo> Cache = new();

    private ActivityTypeInfo(Type type)
    {
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var pt = p.PropertyType;
            if (pt.IsGenericType && pt.GetGenericTypeDefinition() == typeof(Input<>))
                Inputs.Add(new InputProperty(p, pt.GetGenericArguments()[0], true, p.GetCustomAttribute<InputAttribute>()?.IsSensitive ?? false));
            else if (pt.IsGenericType && pt.GetGenericTypeDefinition() == typeof(Output<>))
                Outputs.Add(p);
            else if (p.GetCustomAttribute<InputAttribute>() is { } ia && p.CanWrite)
                Inputs.Add(new InputProperty(p, pt, false, ia.IsSensitive));
        }
    }

    public List<InputProperty> Inputs { get; } = [];
    public List<PropertyInfo> Outputs { get; } = [];

    public static ActivityTypeInfo For(Type type) => Cache.GetValue(type, t => new ActivityTypeInfo(t));

    public string? OutputName(Activity activity, object output)
    {
        foreach (var p in Outputs)
            if (ReferenceEquals(p.GetValue(activity), output)) return p.Name;
        return null;
    }
}

/// <summary>An input property: wrapped (<see cref="Input{T}"/>) or a plain property marked [Input].</summary>
internal sealed record InputProperty(PropertyInfo Property, Type ValueType, bool IsWrapped, bool IsSensitive)
{
    public string JsonName { get; } = char.ToLowerInvariant(Property.Name[0]) + Property.Name[1..];
}
