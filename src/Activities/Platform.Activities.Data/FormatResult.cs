using System.Collections;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Platform.Activities.Data;

/// <summary>Renders a Liquid template against a model of plain values (implemented by the host with the engine's Liquid).</summary>
public interface ITemplateRenderer
{
    /// <summary>Renders <paramref name="template"/> with <paramref name="model"/>.</summary>
    ValueTask<string> RenderAsync(string template, IReadOnlyDictionary<string, object?> model);
}

/// <summary>
/// Turns rows (for example <see cref="QueryDatabase"/>'s Rows) into text for a channel: a Markdown table for chat and
/// Slack, an HTML table for email, compact lines for SMS. A custom Liquid template sees <c>rows</c>, <c>columns</c>,
/// <c>cells</c> (values as text, escaped for the channel), <c>count</c>, <c>channel</c>, <c>title</c> and
/// <c>conversation.history</c> (the last <see cref="HistoryTurns"/> earlier turns of the workflow's conversation as
/// <c>{ role, text, at }</c>, oldest first, not escaped; read only when the template mentions "conversation").
/// </summary>
[Activity("Platform", "Data", "Formats rows as a Markdown table (chat, Slack), an HTML table (email) or compact lines (SMS).")]
[FlowNode("Done", "Empty")]
public sealed class FormatResult : Activity
{
    /// <summary>The built-in Markdown table.</summary>
    public const string MarkdownTemplate =
        "{% if title != blank %}**{{ title }}**\n\n{% endif %}| {{ columns | join: \" | \" }} |\n|{% for c in columns %} --- |{% endfor %}\n" +
        "{% for r in cells %}| {{ r | join: \" | \" }} |\n{% endfor %}";

    /// <summary>The built-in HTML table.</summary>
    public const string HtmlTemplate =
        "{% if title != blank %}<p><strong>{{ title }}</strong></p>\n{% endif %}<table>\n<thead><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>\n<tbody>\n" +
        "{% for r in cells %}<tr>{% for v in r %}<td>{{ v }}</td>{% endfor %}</tr>\n{% endfor %}</tbody>\n</table>";

    /// <summary>The built-in SMS lines.</summary>
    public const string SmsTemplate = "{% if title != blank %}{{ title }}\n{% endif %}{% for r in cells %}{{ r | join: \", \" }}\n{% endfor %}";

    /// <summary>The rows: a list of objects (dictionaries).</summary>
    [Input(Description = "The rows, e.g. the Rows output of QueryDatabase (a list of objects).", DefaultSyntax = "JavaScript", Order = 0)]
    public Input<object?> Rows { get; set; } = new((object?)null);

    /// <summary>The channel the text is for.</summary>
    [Input(Description = "The channel the text is for: chat and slack get Markdown, email HTML, sms compact lines. For Send Reply and Send Message choose chat: they render its Markdown table for each channel themselves (an HTML table in e-mail, a monospace block in Telegram and Slack, a line per row in SMS); email's raw HTML is for other uses, such as an HTTP request.",
        UIHint = UIHints.DropDown, Options = ["chat", "slack", "email", "sms"], Order = 1)]
    public Input<string> Channel { get; set; } = new("chat");

    /// <summary>An optional custom Liquid template.</summary>
    [Input(Description = "An optional Liquid template; it sees rows, columns, cells, count, channel, title and conversation.history (the last 10 earlier turns of the conversation: role, text, at).", UIHint = UIHints.MultiLine, Order = 2)]
    public Input<string> Template { get; set; } = new("");

    /// <summary>An optional heading.</summary>
    [Input(Description = "An optional heading above the table.", Order = 3)]
    public Input<string> Title { get; set; } = new("");

    /// <summary>The text when there are no rows.</summary>
    [Input(Description = "The text when there are no rows.", Order = 4)]
    public Input<string> EmptyText { get; set; } = new("No results.");

    /// <summary>The template in Chinese, used instead of <see cref="Template"/> when the conversation's language is <c>zh</c>.</summary>
    [Input(Description = "The template in Chinese (中文), used instead of Template when the message being answered was Chinese (or its channel's language is zh). Empty: Template.", UIHint = UIHints.MultiLine, Order = 5)]
    public Input<string> TemplateZh { get; set; } = new("");

    /// <summary>The heading in Chinese.</summary>
    [Input(Description = "The heading in Chinese, used instead of Title for Chinese messages. Empty: Title.", Order = 6)]
    public Input<string> TitleZh { get; set; } = new("");

    /// <summary>The no-rows text in Chinese.</summary>
    [Input(Description = "The text when there are no rows, in Chinese, used instead of Empty Text for Chinese messages. Empty: Empty Text.", Order = 7)]
    public Input<string> EmptyTextZh { get; set; } = new("");

    /// <summary>The language the text was made for: <c>zh</c> or <c>en</c>.</summary>
    [Output(Description = "The language the text was made for: zh (the message was Chinese) or en.")]
    public Output<string> Language { get; set; } = new();

    /// <summary>The formatted text.</summary>
    [Output] public Output<string> Text { get; set; } = new();

    /// <summary>The content type: text/markdown, text/html or text/plain.</summary>
    [Output] public Output<string> ContentType { get; set; } = new();

    /// <inheritdoc />
    protected override async ValueTask ExecuteAsync(ActivityExecutionContext context)
    {
        var channel = (Channel.Get(context) ?? "").Trim().ToLowerInvariant() is { Length: > 0 } c ? c : "chat";
        var (builtIn, contentType, escape) = channel switch
        {
            "email" or "html" => (HtmlTemplate, "text/html", (Func<string, string>)WebUtility.HtmlEncode),
            "sms" or "text" => (SmsTemplate, "text/plain", (Func<string, string>)(s => s.Replace('\n', ' ').Replace('\r', ' '))),
            _ => (MarkdownTemplate, "text/markdown", (Func<string, string>)EscapeMarkdownCell),
        };
        var rows = ToRows(Rows.Get(context));
        var chinese = context.GetIncomingMessageLanguage() == "zh";
        Language.Set(context, chinese ? "zh" : "en");
        var custom = Localized(chinese, Template, TemplateZh, context);
        ContentType.Set(context, contentType);
        if (rows.Count == 0 && string.IsNullOrWhiteSpace(custom))
        {
            Text.Set(context, Localized(chinese, EmptyText, EmptyTextZh, context));
            context.Complete("Empty");
            return;
        }

        var columns = new List<string>();
        foreach (var row in rows)
            foreach (var key in row.Keys)
                if (!columns.Contains(key)) columns.Add(key);
        var model = new Dictionary<string, object?>
        {
            ["rows"] = rows.Cast<object?>().ToList(),
            ["columns"] = columns.Select(escape).Cast<object?>().ToList(),
            ["cells"] = rows.Select(r => (object?)columns.Select(col => (object?)escape(Display(r.TryGetValue(col, out var v) ? v : null))).ToList()).ToList(),
            ["count"] = rows.Count,
            ["channel"] = channel,
            ["title"] = escape(Localized(chinese, Title, TitleZh, context)),
        };
        // Read only for custom templates that mention it, so the built-in tables cost no query.
        if (custom is not null && custom.Contains("conversation", StringComparison.OrdinalIgnoreCase))
            model["conversation"] = new Dictionary<string, object?> { ["history"] = await HistoryAsync(context) };
        var renderer = context.GetRequiredService<ITemplateRenderer>();
        var text = await renderer.RenderAsync(string.IsNullOrWhiteSpace(custom) ? builtIn : custom, model);
        Text.Set(context, text.TrimEnd());
        context.Complete(rows.Count == 0 ? "Empty" : "Done");
    }

    /// <summary>The last <see cref="HistoryTurns"/> earlier turns of the workflow's conversation as <c>{ role, text, at }</c>;
    /// empty without a conversation or a memory, or when the memory fails (logged).</summary>
    private static async Task<List<object?>> HistoryAsync(ActivityExecutionContext context)
    {
        var key = ConversationMemory.ConversationKeyOf(context);
        if (key is null || context.GetService(typeof(IConversationMemory)) is not IConversationMemory memory) return [];
        var turns = await ConversationMemory.TryGetHistoryAsync(memory, key, ConversationMemory.LastMessageIdOf(context.Properties), HistoryTurns,
            context.Logger, "Format Result", context.CancellationToken);
        return (turns ?? []).Select(t => (object?)ConversationMemory.ToValue(t)).ToList();
    }

    /// <summary>The Chinese input when the language is zh and it has text, else the default one.</summary>
    private static string Localized(bool chinese, Input<string> text, Input<string> zh, ActivityExecutionContext context) =>
        chinese && zh.Get(context) is { } z && !string.IsNullOrWhiteSpace(z) ? z : text.Get(context) ?? "";

    /// <summary>How many earlier turns <c>conversation.history</c> holds in a custom template.</summary>
    public const int HistoryTurns = 10;

    private static string EscapeMarkdownCell(string s) => s.Replace("\\", "\\\\").Replace("|", "\\|").Replace("\r", "").Replace("\n", "<br>");

    private static string Display(object? value) => value switch
    {
        null => "",
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString() ?? "",
        JsonElement e => e.GetRawText(),
        DateTime d => d.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        DateTimeOffset d => d.ToString("yyyy-MM-dd HH:mm:ss zzz", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static List<IDictionary<string, object?>> ToRows(object? value)
    {
        switch (value)
        {
            case null: return [];
            case JsonElement e: return ToRows(JsonSerializer.Deserialize<List<Dictionary<string, object?>>>(e.ValueKind == JsonValueKind.Array ? e.GetRawText() : "[" + e.GetRawText() + "]"));
            case string s when s.TrimStart().StartsWith('['):
                return ToRows(JsonSerializer.Deserialize<JsonElement>(s));
            case IDictionary<string, object?> single: return [single];
            case IEnumerable list and not string:
                var rows = new List<IDictionary<string, object?>>();
                foreach (var item in list)
                {
                    rows.Add(item switch
                    {
                        IDictionary<string, object?> d => d,
                        IDictionary d => d.Keys.Cast<object>().ToDictionary(k => Convert.ToString(k, CultureInfo.InvariantCulture) ?? "", k => d[k]),
                        JsonElement { ValueKind: JsonValueKind.Object } o => JsonSerializer.Deserialize<Dictionary<string, object?>>(o.GetRawText())!,
                        _ => new Dictionary<string, object?> { ["value"] = item },
                    });
                }
                return rows;
            default: return [new Dictionary<string, object?> { ["value"] = value }];
        }
    }
}
