using Platform.Activities;
using Platform.Engine.Descriptors;
using Platform.Server.Apis.Models;

namespace Platform.Server.Mapping;

/// <summary>Maps the engine's activity descriptors to Elsa's descriptor shape.</summary>
public static class ActivityDescriptorMapper
{
    private static readonly IReadOnlyDictionary<string, object?> Empty = new Dictionary<string, object?>();

    /// <summary>Maps one descriptor. <paramref name="extraPorts"/> adds ports (used for placeholders, whose ports come from stored connections).</summary>
    public static ActivityDescriptorModel Map(ActivityDescriptor d, IEnumerable<string>? extraPorts = null)
    {
        ArgumentNullException.ThrowIfNull(d);
        var ports = d.Outcomes.Concat(extraPorts ?? []).Distinct(StringComparer.Ordinal)
            .Select(o => new PortModel(o, o, "Flow", true)).ToList();
        return new ActivityDescriptorModel(
            d.TypeName, d.Namespace, NodeNameBase(d), d.Version, d.Category, d.DisplayName, d.Description ?? d.DisplayName,
            d.Inputs.OrderBy(i => i.Order).Select(MapInput).ToList(),
            d.Outputs.Select(MapOutput).ToList(),
            d.Kind, ports, d.CustomProperties, Empty,
            d.IsContainer, d.IsBrowsable, d.IsStart, d.IsTerminal);
    }

    /// <summary>
    /// The Studio names a new node after the descriptor's name plus a number ("SendReply1"). A name that is not PascalCase
    /// (the per-set Recognize Intent types are named after the set id, e.g. "assistant") becomes the display name in
    /// PascalCase, so the node reads "RecognizeIntentHomeAssistant1" instead of "assistant1".
    /// </summary>
    private static string NodeNameBase(ActivityDescriptor d)
    {
        if (d.Name.Length > 0 && char.IsUpper(d.Name[0]) && d.Name.All(char.IsLetterOrDigit)) return d.Name;
        var words = d.DisplayName.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => new string(w.Where(char.IsLetterOrDigit).ToArray())).Where(w => w.Length > 0);
        var name = string.Concat(words.Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
        return name.Length > 0 && char.IsLetter(name[0]) ? name : d.Name;
    }

    private static InputDescriptorModel MapInput(InputDescriptor i)
    {
        // A drop-down whose choices are computed (e.g. the knowledge bases) keeps an empty list when there are none yet.
        var options = i.Options is { Count: > 0 } || (i.Options is not null && i.UIHint is UIHints.DropDown or UIHints.CheckList) ? i.Options
            : (Nullable.GetUnderlyingType(i.ClrType) ?? i.ClrType) is { IsEnum: true } e ? Enum.GetNames(e) : null;
        // A descriptor built by hand (not by ActivityRegistry.Describe) may still carry a hint the Studio lacks: use the type's editor.
        var uiHint = UIHints.IsSupported(i.UIHint) ? i.UIHint : ActivityRegistry.DefaultUIHint(i.ClrType, options);
        if (options is not null && uiHint is UIHints.SingleLine) uiHint = UIHints.DropDown;
        IReadOnlyDictionary<string, object?>? specs = uiHint == UIHints.DropDown && options is not null
            ? new Dictionary<string, object?>
            {
                ["dropdown"] = new Dictionary<string, object?>
                {
                    ["selectList"] = new SelectList(options.Select(o => new SelectListItem(o, o)).ToList(), false),
                },
            }
            : uiHint == UIHints.CheckList && options is not null
                ? new Dictionary<string, object?>
                {
                    // The Studio's checklist reads {checkList: {items: [{text, value, isChecked}], isFlagsEnum}}; checked values are saved as a JSON array.
                    ["checklist"] = new Dictionary<string, object?>
                    {
                        ["checkList"] = new Dictionary<string, object?>
                        {
                            ["items"] = options.Select(o => new Dictionary<string, object?> { ["text"] = o, ["value"] = o, ["isChecked"] = false }).ToList(),
                            ["isFlagsEnum"] = false,
                        },
                    },
                }
                : null;
        return new InputDescriptorModel(
            i.Name, i.TypeName, i.DisplayName, i.Description ?? "", i.Order, IsBrowsable: true, IsSynthetic: false, i.IsWrapped,
            uiHint, i.Category, i.DefaultValue, i.DefaultSyntax, IsReadOnly: false, i.IsSensitive, StorageDriverType: null, specs);
    }

    private static OutputDescriptorModel MapOutput(OutputDescriptor o) =>
        new(o.Name, o.TypeName, o.DisplayName, o.Description ?? "", 0, IsBrowsable: true, IsSynthetic: false);
}
