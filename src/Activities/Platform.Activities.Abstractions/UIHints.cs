namespace Platform.Activities;

/// <summary>
/// The editor names (UI hints) the genuine Elsa Studio 3.8.2 implements, for <see cref="InputAttribute.UIHint"/>.
/// The Studio shows "Unsupported UI hint" for any other name, so the platform refuses activities that use one.
/// Leave <see cref="InputAttribute.UIHint"/> empty to get the editor that suits the input's type (see the remarks).
/// </summary>
/// <remarks>
/// Defaults by type: <c>bool</c> → <see cref="Checkbox"/>; an enum or an input with <see cref="InputAttribute.Options"/> →
/// <see cref="DropDown"/>; a list or array of strings → <see cref="MultiText"/>; a dictionary or another structured type →
/// <see cref="JsonEditor"/>; <c>object</c> → <see cref="MultiLine"/>; text, numbers, time spans and dates →
/// <see cref="SingleLine"/> (the Studio has no number or time span editor; the engine converts the text, e.g. <c>42</c>,
/// <c>00:00:05</c>, <c>5s</c>). Every editor can also switch the input to a JavaScript or Liquid expression.
/// </remarks>
public static class UIHints
{
    /// <summary>A one-line text box (text, numbers, time spans, dates).</summary>
    public const string SingleLine = "singleline";

    /// <summary>A multi-line text area (long text, Markdown, templates).</summary>
    public const string MultiLine = "multiline";

    /// <summary>A list of text values entered as chips (a <c>string[]</c> or <c>List&lt;string&gt;</c>); saved as a JSON array.</summary>
    public const string MultiText = "multitext";

    /// <summary>A checkbox for a <c>bool</c>.</summary>
    public const string Checkbox = "checkbox";

    /// <summary>A list of checkboxes to pick several options.</summary>
    public const string CheckList = "checklist";

    /// <summary>A dropdown to pick one of <see cref="InputAttribute.Options"/> (or an enum's names).</summary>
    public const string DropDown = "dropdown";

    /// <summary>Radio buttons to pick one option.</summary>
    public const string RadioList = "radiolist";

    /// <summary>A code editor (Monaco), e.g. for SQL or scripts.</summary>
    public const string CodeEditor = "code-editor";

    /// <summary>A JSON editor for objects, dictionaries and lists of objects.</summary>
    public const string JsonEditor = "json-editor";

    /// <summary>A key/value table (each value an expression).</summary>
    public const string Dictionary = "dictionary";

    /// <summary>A date and time picker.</summary>
    public const string DateTimePicker = "datetime-picker";

    /// <summary>An expression editor (JavaScript or Liquid only).</summary>
    public const string ExpressionEditor = "expression-editor";

    /// <summary>A list of names, each of which becomes an outcome (port) of the activity.</summary>
    public const string DynamicOutcomes = "dynamic-outcomes";

    /// <summary>The case editor of a flowchart switch (label and condition per case, each a port).</summary>
    public const string FlowSwitchEditor = "flow-switch-editor";

    /// <summary>The case editor of a (non-flowchart) switch.</summary>
    public const string SwitchEditor = "switch-editor";

    /// <summary>A picker of HTTP status codes.</summary>
    public const string HttpStatusCodes = "http-status-codes";

    /// <summary>A picker of the workflow's variables.</summary>
    public const string VariablePicker = "variable-picker";

    /// <summary>A picker of the workflow's inputs.</summary>
    public const string InputPicker = "input-picker";

    /// <summary>A picker of the workflow's outputs.</summary>
    public const string OutputPicker = "output-picker";

    /// <summary>A picker of the workflow's outcomes.</summary>
    public const string OutcomePicker = "outcome-picker";

    /// <summary>A picker of variable types.</summary>
    public const string TypePicker = "type-picker";

    /// <summary>A picker of workflow definitions.</summary>
    public const string WorkflowDefinitionPicker = "workflow-definition-picker";

    /// <summary>Every UI hint the Studio implements (case-sensitive, as the Studio compares them).</summary>
    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        SingleLine, MultiLine, MultiText, Checkbox, CheckList, DropDown, RadioList, CodeEditor, JsonEditor, Dictionary, DateTimePicker,
        ExpressionEditor, DynamicOutcomes, FlowSwitchEditor, SwitchEditor, HttpStatusCodes, VariablePicker, InputPicker, OutputPicker,
        OutcomePicker, TypePicker, WorkflowDefinitionPicker,
    };

    /// <summary>True when the Studio has an editor for <paramref name="uiHint"/>.</summary>
    public static bool IsSupported(string? uiHint) => uiHint is not null && All.Contains(uiHint);
}
