using Markdig;
using Markdig.Extensions.EmphasisExtras;
using Markdig.Extensions.Tables;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Platform.Channels.Rendering;

/// <summary>
/// Renders the platform's Markdown subset into each channel's format, and splits long texts into parts that fit a
/// channel's limit. Raw HTML in the Markdown is never passed through: it shows as text. Pipe tables become an HTML table
/// in e-mail, an aligned monospace block in Telegram and Slack, and one compact line per row in plain text (SMS).
/// </summary>
public static class MessageRenderer
{
    private static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder()
        .UseEmphasisExtras(EmphasisExtraOptions.Strikethrough)
        .UseAutoLinks()
        .UsePipeTables()
        .DisableHtml()
        .Build();

    private static readonly MarkdownPipeline HtmlPipeline = new MarkdownPipelineBuilder()
        .UseEmphasisExtras(EmphasisExtraOptions.Strikethrough)
        .UseAutoLinks()
        .UsePipeTables()
        .UseSoftlineBreakAsHardlineBreak()
        .DisableHtml()
        .Build();

    /// <summary>The widest a table column gets in a monospace block before its cells are shortened with "…".</summary>
    public const int MaxTableColumnWidth = 32;

    /// <summary>Renders <paramref name="markdown"/> into <paramref name="format"/>.</summary>
    public static string Render(string markdown, TextFormat format) => format == TextFormat.Html
        ? ToSafeHtml(markdown)
        : PieceSplitter.Serialize(ToPieces(markdown, format));

    /// <summary>True for link targets a reader may follow: http(s), mailto, tel, and relative or fragment links. Everything
    /// else (<c>javascript:</c>, <c>data:</c>, <c>vbscript:</c>, <c>file:</c>…) could run code or leak files in a mail client or page.</summary>
    public static bool IsSafeUrl(string? url)
    {
        var u = (url ?? "").Trim();
        var colon = u.IndexOf(':', StringComparison.Ordinal);
        var slash = u.IndexOfAny(['/', '?', '#']);
        if (colon < 0 || (slash >= 0 && slash < colon)) return true; // no scheme: relative
        var scheme = u[..colon].ToLowerInvariant();
        return scheme is "http" or "https" or "mailto" or "tel";
    }

    private static string ToSafeHtml(string? markdown)
    {
        var document = Markdown.Parse(markdown ?? "", HtmlPipeline);
        foreach (var link in document.Descendants<LinkInline>())
            if (!IsSafeUrl(link.GetDynamicUrl?.Invoke() ?? link.Url))
            {
                link.GetDynamicUrl = null;
                link.Url = "#";
            }
        foreach (var link in document.Descendants<AutolinkInline>())
            if (!link.IsEmail && !IsSafeUrl(link.Url)) link.Url = "#";
        using var writer = new StringWriter();
        var renderer = new Markdig.Renderers.HtmlRenderer(writer);
        HtmlPipeline.Setup(renderer);
        renderer.Render(document);
        writer.Flush();
        // Mail clients show a bare <table> without any lines; give it borders and padding they all understand.
        return writer.ToString().TrimEnd('\n').Replace("<table>", "<table border=\"1\" cellpadding=\"4\" cellspacing=\"0\" style=\"border-collapse:collapse\">", StringComparison.Ordinal);
    }

    /// <summary>
    /// Renders <paramref name="markdown"/> into <paramref name="format"/> and splits the result into parts of at most
    /// <paramref name="maxLength"/> UTF-16 code units, preferring paragraph, then line, sentence and word boundaries.
    /// Each part is well-formed on its own (tags and markers closed and reopened), and no cut falls inside a tag, an
    /// entity, an escape sequence or a grapheme (emoji included). <see cref="TextFormat.Html"/> is never split.
    /// An empty text gives no parts.
    /// </summary>
    public static IReadOnlyList<string> RenderParts(string markdown, TextFormat format, int maxLength)
    {
        if (format == TextFormat.Html)
        {
            var html = Render(markdown, format);
            return html.Length == 0 ? [] : [html];
        }

        return PieceSplitter.Split(ToPieces(markdown, format), maxLength);
    }

    internal static List<Piece> ToPieces(string? markdown, TextFormat format)
    {
        var document = Markdown.Parse(markdown ?? "", Pipeline);
        var writer = new PieceWriter(Dialect.For(format));
        writer.WriteBlocks(document, CutQuality.Paragraph, 0);
        return writer.Pieces;
    }

    private sealed class PieceWriter(Dialect dialect)
    {
        private readonly Stack<(Style Style, Piece Open)> _open = new();
        private bool _wroteBlock;

        public List<Piece> Pieces { get; } = [];

        public void WriteBlocks(ContainerBlock container, CutQuality separator, int listDepth)
        {
            foreach (var block in container)
            {
                if (block is LinkReferenceDefinitionGroup or BlankLineBlock)
                {
                    continue;
                }

                if (_wroteBlock)
                {
                    Break(separator);
                }

                _wroteBlock = true;
                WriteBlock(block, listDepth);
            }
        }

        private void WriteBlock(Block block, int listDepth)
        {
            switch (block)
            {
                case Table table:
                    WriteTable(table);
                    break;
                case HeadingBlock heading:
                    Open(Style.Heading);
                    WriteInlines(heading.Inline);
                    Close();
                    break;
                case ParagraphBlock paragraph:
                    WriteInlines(paragraph.Inline);
                    break;
                case QuoteBlock quote:
                    Open(Style.Quote);
                    _wroteBlock = false;
                    WriteBlocks(quote, CutQuality.Paragraph, listDepth);
                    Close();
                    break;
                case ListBlock list:
                    WriteList(list, listDepth);
                    break;
                case CodeBlock code:
                    Open(Style.Pre, (code as FencedCodeBlock)?.Info?.Trim());
                    Text(code.Lines.ToString().TrimEnd('\n'));
                    Close();
                    break;
                case ThematicBreakBlock:
                    Text("———");
                    break;
                case LeafBlock leaf:
                    Text(leaf.Lines.ToString());
                    break;
                case ContainerBlock container:
                    _wroteBlock = false;
                    WriteBlocks(container, CutQuality.Paragraph, listDepth);
                    break;
            }
        }

        private void WriteTable(Table table)
        {
            var rows = table.OfType<TableRow>()
                .Select(r => (r.IsHeader, Cells: r.OfType<TableCell>().Select(CellText).ToList()))
                .Where(r => r.Cells.Count > 0).ToList();
            if (rows.Count == 0) return;
            var header = rows[0].IsHeader ? rows[0].Cells : null;
            var body = header is null ? rows : rows.Skip(1).ToList();

            if (dialect is PlainDialect)
            {
                // SMS: one compact line per row, "name: value" when the table has a header.
                for (var i = 0; i < body.Count; i++)
                {
                    if (i > 0) Break(CutQuality.Line);
                    var cells = body[i].Cells;
                    Text(string.Join(", ", cells.Select((c, k) => header is not null && k < header.Count && header[k].Length > 0 ? $"{header[k]}: {c}" : c)));
                }
                if (body.Count == 0 && header is not null) Text(string.Join(", ", header));
                return;
            }

            // Chat apps have no tables: an aligned monospace block.
            var columns = rows.Max(r => r.Cells.Count);
            var widths = Enumerable.Range(0, columns)
                .Select(k => Math.Min(MaxTableColumnWidth, rows.Max(r => k < r.Cells.Count ? r.Cells[k].Length : 0))).ToArray();
            var lines = new List<string>();
            string Line(List<string> cells) => string.Join("  ", Enumerable.Range(0, columns).Select(k =>
            {
                var c = k < cells.Count ? cells[k] : "";
                if (c.Length > widths[k]) c = c[..(widths[k] - 1)] + "…";
                return k == columns - 1 ? c : c.PadRight(widths[k]);
            })).TrimEnd();
            if (header is not null)
            {
                lines.Add(Line(header));
                lines.Add(string.Join("  ", widths.Select(w => new string('-', Math.Max(1, w)))));
            }
            lines.AddRange(body.Select(r => Line(r.Cells)));
            Open(Style.Pre);
            Text(string.Join("\n", lines));
            Close();
        }

        private static string CellText(TableCell cell) => string.Join(" ", cell.OfType<ParagraphBlock>()
            .Select(p => p.Inline is null ? "" : PlainText(p.Inline))).Trim();

        private void WriteList(ListBlock list, int depth)
        {
            var number = list.IsOrdered && int.TryParse(list.OrderedStart, out var start) ? start : 1;
            var first = true;
            foreach (var item in list.OfType<ListItemBlock>())
            {
                if (!first)
                {
                    Break(CutQuality.Line);
                }

                first = false;
                var marker = list.IsOrdered ? $"{number++}. " : depth == 0 ? "• " : "◦ ";
                Text(new string(' ', depth * 2) + marker);
                var firstBlock = true;
                foreach (var child in item)
                {
                    if (child is BlankLineBlock or LinkReferenceDefinitionGroup)
                    {
                        continue;
                    }

                    if (!firstBlock)
                    {
                        Break(CutQuality.Line);
                    }

                    firstBlock = false;
                    WriteBlock(child, depth + 1);
                }
            }

            _wroteBlock = true;
        }

        private void WriteInlines(ContainerInline? container)
        {
            if (container is null)
            {
                return;
            }

            foreach (var inline in container)
            {
                WriteInline(inline);
            }
        }

        private void WriteInline(Inline inline)
        {
            switch (inline)
            {
                case LiteralInline literal:
                    Text(literal.Content.ToString());
                    break;
                case CodeInline code:
                    Open(Style.Code);
                    Text(code.Content);
                    Close();
                    break;
                case LineBreakInline:
                    Break(CutQuality.Line);
                    break;
                case HtmlEntityInline entity:
                    Text(entity.Transcoded.ToString());
                    break;
                case HtmlInline html:
                    Text(html.Tag);
                    break;
                case AutolinkInline autolink:
                    Link(autolink.IsEmail ? "mailto:" + autolink.Url : IsSafeUrl(autolink.Url) ? autolink.Url : "#", () => Text(autolink.Url), autolink.Url);
                    break;
                case LinkInline link:
                    var label = PlainText(link);
                    var target = link.GetDynamicUrl?.Invoke() ?? link.Url ?? "";
                    Link(IsSafeUrl(target) ? target : "#", () =>
                    {
                        if (label.Length == 0)
                        {
                            Text(link.Url ?? "");
                        }
                        else
                        {
                            WriteInlines(link);
                        }
                    }, label.Length == 0 ? link.Url ?? "" : label);
                    break;
                case EmphasisInline emphasis:
                    var style = emphasis.DelimiterChar switch
                    {
                        '~' when emphasis.DelimiterCount >= 2 => Style.Strike,
                        '*' or '_' when emphasis.DelimiterCount >= 2 => Style.Bold,
                        '*' or '_' => Style.Italic,
                        _ => (Style?)null,
                    };
                    if (style is { } s)
                    {
                        Open(s);
                    }

                    WriteInlines(emphasis);
                    if (style is not null)
                    {
                        Close();
                    }

                    break;
                case ContainerInline container:
                    WriteInlines(container);
                    break;
                default:
                    Text(inline.ToString() ?? "");
                    break;
            }
        }

        private void Link(string url, Action writeLabel, string label)
        {
            var sameAsUrl = label == url || "mailto:" + label == url || "http://" + label == url || "https://" + label == url;
            if (string.IsNullOrEmpty(url))
            {
                writeLabel();
            }
            else if (dialect.SupportsUrl(url) && !(sameAsUrl && dialect.PlainLinks))
            {
                Open(Style.Link, url);
                writeLabel();
                Close();
            }
            else
            {
                writeLabel();
                if (!sameAsUrl)
                {
                    Text($" ({url})");
                }
            }
        }

        private static string PlainText(ContainerInline container)
        {
            var builder = new System.Text.StringBuilder();
            foreach (var inline in container.Descendants<Inline>())
            {
                switch (inline)
                {
                    case LiteralInline literal:
                        builder.Append(literal.Content.ToString());
                        break;
                    case CodeInline code:
                        builder.Append(code.Content);
                        break;
                    case HtmlEntityInline entity:
                        builder.Append(entity.Transcoded.ToString());
                        break;
                }
            }

            return builder.ToString();
        }

        private bool InCode => _open.Any(o => o.Style is Style.Code or Style.Pre);

        private void Open(Style style, string? argument = null)
        {
            var (open, close) = dialect.Markup(style, argument);
            var piece = new Piece(PieceKind.Open, open, Close: close, Name: style.ToString());
            _open.Push((style, piece));
            Pieces.Add(piece);
        }

        private void Close()
        {
            var (_, open) = _open.Pop();
            Pieces.Add(new Piece(PieceKind.Close, open.Close, Name: open.Name));
        }

        private void Text(string raw)
        {
            var inCode = InCode;
            var lines = inCode ? [raw] : raw.Split('\n');
            for (var i = 0; i < lines.Length; i++)
            {
                if (i > 0)
                {
                    Break(CutQuality.Line);
                }

                PieceSplitter.AddGraphemes(Pieces, lines[i], g => dialect.Escape(g, inCode));
            }
        }

        private void Break(CutQuality quality)
        {
            var prefix = string.Concat(_open.Reverse().Where(o => o.Style == Style.Quote).Select(_ => dialect.QuotePrefix));
            var value = quality == CutQuality.Paragraph ? "\n" + prefix.TrimEnd() + "\n" + prefix : "\n" + prefix;
            Pieces.Add(new Piece(PieceKind.Break, value, "\n", Quality: quality));
        }
    }

    internal enum Style
    {
        Bold,
        Italic,
        Strike,
        Code,
        Pre,
        Link,
        Quote,
        Heading,
    }

    private abstract class Dialect
    {
        public virtual string QuotePrefix => "";

        /// <summary>True when a link whose label is its URL is better written as the bare URL.</summary>
        public virtual bool PlainLinks => false;

        public abstract string Escape(string raw, bool inCode);

        public abstract (string Open, string Close) Markup(Style style, string? argument);

        public virtual bool SupportsUrl(string url) =>
            url.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase);

        public static Dialect For(TextFormat format) => format switch
        {
            TextFormat.PlainText => new PlainDialect(),
            TextFormat.TelegramHtml => new TelegramHtmlDialect(),
            TextFormat.TelegramMarkdownV2 => new MarkdownV2Dialect(),
            TextFormat.SlackMrkdwn => new SlackDialect(),
            TextFormat.WhatsApp => new WhatsAppDialect(),
            TextFormat.DiscordMarkdown => new DiscordDialect(),
            _ => throw new ArgumentOutOfRangeException(nameof(format), format, "HTML is rendered by Markdig directly."),
        };
    }

    private sealed class PlainDialect : Dialect
    {
        public override string QuotePrefix => "> ";

        public override bool PlainLinks => true;

        public override string Escape(string raw, bool inCode) => raw;

        public override (string Open, string Close) Markup(Style style, string? argument) => style switch
        {
            Style.Link => ("", $" ({argument})"),
            Style.Quote => ("> ", ""),
            _ => ("", ""),
        };
    }

    private sealed class TelegramHtmlDialect : Dialect
    {
        public override string Escape(string raw, bool inCode) => Escaping.Html(raw);

        public override bool SupportsUrl(string url) =>
            base.SupportsUrl(url) && !url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("tg://", StringComparison.OrdinalIgnoreCase);

        public override (string Open, string Close) Markup(Style style, string? argument) => style switch
        {
            Style.Bold or Style.Heading => ("<b>", "</b>"),
            Style.Italic => ("<i>", "</i>"),
            Style.Strike => ("<s>", "</s>"),
            Style.Code => ("<code>", "</code>"),
            Style.Pre when !string.IsNullOrEmpty(argument) =>
                ($"<pre><code class=\"language-{Escaping.Html(argument, attribute: true)}\">", "</code></pre>"),
            Style.Pre => ("<pre>", "</pre>"),
            Style.Link => ($"<a href=\"{Escaping.Html(argument ?? "", attribute: true)}\">", "</a>"),
            Style.Quote => ("<blockquote>", "</blockquote>"),
            _ => ("", ""),
        };
    }

    private sealed class MarkdownV2Dialect : Dialect
    {
        public override string QuotePrefix => ">";

        public override string Escape(string raw, bool inCode) =>
            inCode ? Escaping.MarkdownV2Code(raw) : Escaping.MarkdownV2(raw);

        public override bool SupportsUrl(string url) =>
            base.SupportsUrl(url) && !url.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase)
            || url.StartsWith("tg://", StringComparison.OrdinalIgnoreCase);

        public override (string Open, string Close) Markup(Style style, string? argument) => style switch
        {
            Style.Bold or Style.Heading => ("*", "*"),
            Style.Italic => ("_", "_"),
            Style.Strike => ("~", "~"),
            Style.Code => ("`", "`"),
            Style.Pre => ($"```{SafeLanguage(argument)}\n", "\n```"),
            Style.Link => ("[", $"]({Escaping.MarkdownV2LinkUrl(argument ?? "")})"),
            Style.Quote => (">", ""),
            _ => ("", ""),
        };

        private static string SafeLanguage(string? language) =>
            string.IsNullOrEmpty(language) || !language.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '#' or '_')
                ? ""
                : language;
    }

    private sealed class SlackDialect : Dialect
    {
        public override string QuotePrefix => "> ";

        public override string Escape(string raw, bool inCode) => Escaping.Slack(raw);

        public override (string Open, string Close) Markup(Style style, string? argument) => style switch
        {
            Style.Bold or Style.Heading => ("*", "*"),
            Style.Italic => ("_", "_"),
            Style.Strike => ("~", "~"),
            Style.Code => ("`", "`"),
            Style.Pre => ("```\n", "\n```"),
            Style.Link => ($"<{Escaping.SlackUrl(argument ?? "")}|", ">"),
            Style.Quote => ("> ", ""),
            _ => ("", ""),
        };
    }

    private sealed class WhatsAppDialect : Dialect
    {
        public override string QuotePrefix => "> ";

        public override bool PlainLinks => true;

        // WhatsApp has no escape character; a zero-width joiner is not safe either (it shows in some clients), so text is sent as is.
        public override string Escape(string raw, bool inCode) => raw;

        public override (string Open, string Close) Markup(Style style, string? argument) => style switch
        {
            Style.Bold or Style.Heading => ("*", "*"),
            Style.Italic => ("_", "_"),
            Style.Strike => ("~", "~"),
            Style.Code => ("`", "`"),
            Style.Pre => ("```", "```"),
            Style.Link => ("", $" ({argument})"),
            Style.Quote => ("> ", ""),
            _ => ("", ""),
        };
    }

    private sealed class DiscordDialect : Dialect
    {
        public override string QuotePrefix => "> ";

        public override string Escape(string raw, bool inCode) => inCode ? raw.Replace("`", "\u02cb", StringComparison.Ordinal) : Escaping.Discord(raw);

        public override (string Open, string Close) Markup(Style style, string? argument) => style switch
        {
            Style.Bold => ("**", "**"),
            Style.Heading => ("**", "**"),
            Style.Italic => ("*", "*"),
            Style.Strike => ("~~", "~~"),
            Style.Code => ("`", "`"),
            Style.Pre => ($"```{(argument is { Length: > 0 } lang && lang.All(char.IsAsciiLetterOrDigit) ? lang : "")}\n", "\n```"),
            Style.Link => ("[", $"](<{(argument ?? "").Replace(">", "%3E", StringComparison.Ordinal)}>)"),
            Style.Quote => ("> ", ""),
            _ => ("", ""),
        };
    }
}
