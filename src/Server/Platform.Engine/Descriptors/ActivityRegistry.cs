using System.Collections.Concurrent;
using System.Reflection;
using System.Text.RegularExpressions;
using Platform.Activities;

namespace Platform.Engine.Descriptors;

/// <summary>
/// All known activity types. Packs register their activities at start-up; providers (such as intent sets) may register and
/// remove descriptors at run time, which raises <see cref="Changed"/>.
/// </summary>
public sealed partial class ActivityRegistry
{
    /// <summary>The type name of the flowchart container.</summary>
    public const string FlowchartTypeName = "Elsa.Flowchart";

    /// <summary>
    /// Type names that workflows saved earlier may still use, mapped to the type that replaced them. <see cref="Find"/> resolves
    /// them, so old workflows load, validate, publish and run; the Studio receives the new name (see <see cref="CurrentTypeName"/>).
    /// <c>Elsa.SendHttpRequest</c> became <c>Platform.SendHttpRequest</c> because Elsa Studio draws its own node (three embedded
    /// drop slots that never run) for that type name.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> FormerTypeNames = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["Elsa.SendHttpRequest"] = "Platform.SendHttpRequest",
    };

    /// <summary>The current type name for <paramref name="typeName"/>: itself, or its replacement when it is a former name.</summary>
    public static string CurrentTypeName(string typeName) => FormerTypeNames.GetValueOrDefault(typeName) ?? typeName;

    private readonly ConcurrentDictionary<string, ActivityDescriptor> _descriptors = new(StringComparer.Ordinal);

    public ActivityRegistry()
    {
        Register(new ActivityDescriptor
        {
            TypeName = FlowchartTypeName, Namespace = "Elsa", Name = "Flowchart", Category = "Flow", DisplayName = "Flowchart",
            Description = "A flowchart of activities connected by their outcomes.", IsContainer = true, IsBrowsable = false, Outcomes = [],
        });
    }

    /// <summary>Raised after a descriptor is added, replaced or removed.</summary>
    public event Action<string>? Changed;

    public IReadOnlyCollection<ActivityDescriptor> All => (IReadOnlyCollection<ActivityDescriptor>)_descriptors.Values;

    /// <summary>The descriptor of <paramref name="typeName"/>, also when it is a former name (<see cref="FormerTypeNames"/>).</summary>
    public ActivityDescriptor? Find(string typeName) =>
        _descriptors.GetValueOrDefault(typeName) ?? (FormerTypeNames.TryGetValue(typeName, out var current) ? _descriptors.GetValueOrDefault(current) : null);

    public void Register(ActivityDescriptor descriptor)
    {
        _descriptors[descriptor.TypeName] = descriptor;
        Changed?.Invoke(descriptor.TypeName);
    }

    public bool Remove(string typeName)
    {
        var removed = _descriptors.TryRemove(typeName, out _);
        if (removed) Changed?.Invoke(typeName);
        return removed;
    }

    /// <summary>Registers every concrete activity class with <see cref="ActivityAttribute"/> in an assembly.</summary>
    public int RegisterAssembly(Assembly assembly)
    {
        var descriptors = DescribeAssembly(assembly);
        foreach (var d in descriptors) Register(d);
        return descriptors.Count;
    }

    /// <summary>
    /// Describes every concrete, public activity class with <see cref="ActivityAttribute"/> and a parameterless constructor in
    /// an assembly, without registering them (packs loaded at run time check them first, then <see cref="Register"/> and later
    /// <see cref="Remove"/> them).
    /// </summary>
    public static IReadOnlyList<ActivityDescriptor> DescribeAssembly(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var list = new List<ActivityDescriptor>();
        foreach (var type in assembly.GetExportedTypes())
        {
            if (type.IsAbstract || !typeof(Activity).IsAssignableFrom(type) || type.GetCustomAttribute<ActivityAttribute>() is null) continue;
            if (type.GetConstructor(Type.EmptyTypes) is null) continue;
            list.Add(Describe(type));
        }
        return list;
    }

    /// <summary>Builds a descriptor from a class by reflection.</summary>
    public static ActivityDescriptor Describe(Type type)
    {
        var attr = type.GetCustomAttribute<ActivityAttribute>()
            ?? throw new ArgumentException($"{type.FullName} has no [Activity] attribute; add [Activity(\"Namespace\", \"Category\", \"Description\")].", nameof(type));
        var name = attr.TypeName ?? type.Name;
        var sample = (Activity)Activator.CreateInstance(type)!;
        var inputs = new List<InputDescriptor>();
        var outputs = new List<OutputDescriptor>();
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            var pt = p.PropertyType;
            if (pt.IsGenericType && pt.GetGenericTypeDefinition() == typeof(Input<>))
            {
                var ia = p.GetCustomAttribute<InputAttribute>();
                var valueType = pt.GetGenericArguments()[0];
                var def = ia?.DefaultValue ?? LiteralDefault(p.GetValue(sample) as Input);
                inputs.Add(new InputDescriptor
                {
                    Name = p.Name, TypeName = TypeAliases.GetAlias(valueType), ClrType = valueType,
                    DisplayName = ia?.DisplayName ?? SplitWords(p.Name), Description = ia?.Description, Order = ia?.Order ?? 0,
                    UIHint = CheckedUIHint(type, p.Name, ia?.UIHint) ?? DefaultUIHint(valueType, ia?.Options), Options = ia?.Options, DefaultValue = def,
                    DefaultSyntax = ia?.DefaultSyntax ?? ExpressionTypes.Literal, Category = ia?.Category, IsSensitive = ia?.IsSensitive ?? false,
                });
            }
            else if (p.GetCustomAttribute<InputAttribute>() is { } plain && p.CanWrite)
            {
                // A plain property marked [Input] (e.g. the switch's cases): edited as a value, never as an expression.
                inputs.Add(new InputDescriptor
                {
                    Name = p.Name, TypeName = TypeAliases.GetAlias(pt), ClrType = pt, IsWrapped = false,
                    DisplayName = plain.DisplayName ?? SplitWords(p.Name), Description = plain.Description, Order = plain.Order,
                    UIHint = CheckedUIHint(type, p.Name, plain.UIHint) ?? DefaultUIHint(pt, plain.Options), Options = plain.Options,
                    DefaultValue = plain.DefaultValue, Category = plain.Category, IsSensitive = plain.IsSensitive,
                });
            }
            else if (pt.IsGenericType && pt.GetGenericTypeDefinition() == typeof(Output<>))
            {
                var oa = p.GetCustomAttribute<OutputAttribute>();
                var valueType = pt.GetGenericArguments()[0];
                outputs.Add(new OutputDescriptor
                {
                    Name = p.Name, TypeName = TypeAliases.GetAlias(valueType), ClrType = valueType,
                    DisplayName = oa?.DisplayName ?? SplitWords(p.Name), Description = oa?.Description,
                });
            }
        }
        return new ActivityDescriptor
        {
            TypeName = $"{attr.Namespace}.{name}", Namespace = attr.Namespace, Name = name, Version = attr.Version, Category = attr.Category,
            DisplayName = attr.DisplayName ?? SplitWords(name), Description = attr.Description, Kind = attr.Kind,
            Inputs = inputs, Outputs = outputs, Outcomes = sample.GetOutcomes(), IsBrowsable = attr.IsBrowsable,
            IsStart = typeof(IStartActivity).IsAssignableFrom(type), IsTerminal = typeof(ITerminalActivity).IsAssignableFrom(type),
            ClrType = type, Factory = () => (Activity)Activator.CreateInstance(type)!,
        };
    }

    /// <summary>A descriptor for a type that is not installed, so the Studio still draws the node.</summary>
    public static ActivityDescriptor Placeholder(string typeName, int version = 1)
    {
        var dot = typeName.LastIndexOf('.');
        var name = dot >= 0 ? typeName[(dot + 1)..] : typeName;
        return new ActivityDescriptor
        {
            TypeName = typeName, Namespace = dot >= 0 ? typeName[..dot] : "", Name = name, Version = version, Category = "Not installed",
            DisplayName = SplitWords(name) + " (not installed)", IsBrowsable = false, IsPlaceholder = true,
            Description = $"The activity type '{typeName}' is not installed on this server. Install its pack or replace the activity.",
        };
    }

    private static object? LiteralDefault(Input? input) =>
        input?.Expression is { Type: ExpressionTypes.Literal, Value: var v } && v is not null && !(v is string s && s.Length == 0) ? v : null;

    /// <summary>
    /// The editor for an input without an explicit UI hint: a checkbox for booleans, a dropdown for enums and options, chips for
    /// lists of text, the JSON editor for dictionaries and other structured values, a text area for <c>object</c>, and a one-line
    /// box for text, numbers, time spans and dates (the Studio has no number or time span editor).
    /// </summary>
    public static string DefaultUIHint(Type type, IReadOnlyCollection<string>? options = null)
    {
        ArgumentNullException.ThrowIfNull(type);
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (options is { Count: > 0 } || t.IsEnum) return UIHints.DropDown;
        if (t == typeof(bool)) return UIHints.Checkbox;
        if (t == typeof(object)) return UIHints.MultiLine;
        if (t.IsPrimitive || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan) || t == typeof(DateTime)
            || t == typeof(DateTimeOffset) || t == typeof(Guid) || t == typeof(Uri)) return UIHints.SingleLine;
        var element = t.IsArray ? t.GetElementType()
            : t.GetInterfaces().Append(t).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
        var isDictionary = t.GetInterfaces().Append(t).Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return element == typeof(string) && !isDictionary ? UIHints.MultiText : UIHints.JsonEditor;
    }

    /// <summary>The declared hint, or an error naming the supported ones (the Studio shows "Unsupported UI hint" for others).</summary>
    private static string? CheckedUIHint(Type activity, string property, string? uiHint) =>
        string.IsNullOrEmpty(uiHint) || UIHints.IsSupported(uiHint) ? (string.IsNullOrEmpty(uiHint) ? null : uiHint)
        : throw new ArgumentException(
            $"{activity.FullName}.{property} has UIHint \"{uiHint}\", which Elsa Studio does not implement (it would show \"Unsupported UI hint\"). " +
            $"Use one of the Platform.Activities.UIHints constants ({string.Join(", ", UIHints.All.Order(StringComparer.Ordinal))}) or leave it empty for the type's default.",
            nameof(activity));

    /// <summary>"SendHttpRequest" → "Send Http Request".</summary>
    public static string SplitWords(string name) => WordBoundary().Replace(name, " $1").Trim();

    [GeneratedRegex("(?<=[a-z0-9])([A-Z])")]
    private static partial Regex WordBoundary();
}

