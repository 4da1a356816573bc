using System.Net;
using System.Text;

namespace Platform.Testing.Fakes;

/// <summary>
/// What Telegram does with <c>parse_mode</c>: parses the text into plain text plus entities, refusing what Telegram
/// refuses with its "can't parse entities" errors. Written from the Bot API "Formatting options" rules.
/// </summary>
public static class TelegramEntityParser
{
    private static readonly HashSet<string> HtmlTags =
        ["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"];

    /// <summary>Parses Telegram HTML. Returns the plain text, or null with <paramref name="error"/> set.</summary>
    public static string? ParseHtml(string text, out string? error)
    {
        error = null;
        var plain = new StringBuilder();
        var open = new Stack<(string Name, int Offset)>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '<')
            {
                var end = text.IndexOf('>', i);
                if (end < 0)
                {
                    error = $"Unclosed start tag at byte offset {ByteOffset(text, i)}";
                    return null;
                }

                var tag = text[(i + 1)..end];
                if (tag.StartsWith('/'))
                {
                    var name = tag[1..].Trim().ToLowerInvariant();
                    if (open.Count == 0 || (name.Length > 0 && open.Peek().Name != name))
                    {
                        error = $"Unexpected end tag at byte offset {ByteOffset(text, i)}";
                        return null;
                    }

                    open.Pop();
                }
                else
                {
                    var nameEnd = 0;
                    while (nameEnd < tag.Length && (char.IsAsciiLetterOrDigit(tag[nameEnd]) || tag[nameEnd] == '-'))
                    {
                        nameEnd++;
                    }

                    var name = tag[..nameEnd].ToLowerInvariant();
                    if (!HtmlTags.Contains(name))
                    {
                        error = $"Unsupported start tag \"{name}\" at byte offset {ByteOffset(text, i)}";
                        return null;
                    }

                    if (name == "a" && !tag.Contains("href=", StringComparison.OrdinalIgnoreCase))
                    {
                        // Telegram accepts <a> without href as plain text; keep it simple and accept.
                    }

                    open.Push((name, i));
                }

                i = end + 1;
            }
            else if (c == '&')
            {
                var semicolon = text.IndexOf(';', i);
                var entity = semicolon > i ? text[i..(semicolon + 1)] : "";
                if (entity is "&lt;" or "&gt;" or "&amp;" or "&quot;" || (entity.StartsWith("&#", StringComparison.Ordinal) && entity.Length > 3
                    && WebUtility.HtmlDecode(entity) != entity))
                {
                    plain.Append(WebUtility.HtmlDecode(entity));
                    i = semicolon + 1;
                }
                else
                {
                    error = $"Character entity expected at byte offset {ByteOffset(text, i)}";
                    return null;
                }
            }
            else if (c == '>')
            {
                error = $"Unexpected '>' at byte offset {ByteOffset(text, i)}; use &gt;";
                return null;
            }
            else
            {
                plain.Append(c);
                i++;
            }
        }

        if (open.Count > 0)
        {
            var (name, offset) = open.Peek();
            error = $"Can't find end tag corresponding to start tag \"{name}\" at byte offset {ByteOffset(text, offset)}";
            return null;
        }

        return plain.ToString();
    }

    /// <summary>Parses MarkdownV2. Returns the plain text, or null with <paramref name="error"/> set.</summary>
    public static string? ParseMarkdownV2(string text, out string? error)
    {
        error = null;
        var plain = new StringBuilder();
        var open = new Stack<(string Marker, int Offset)>();
        var lineStart = true;
        var i = 0;
        bool Inside(string marker) => open.Count > 0 && open.Peek().Marker == marker;
        while (i < text.Length)
        {
            var c = text[i];
            var inCode = Inside("`") || Inside("```");
            if (c == '\\')
            {
                if (i + 1 >= text.Length || text[i + 1] < 1 || text[i + 1] > 126)
                {
                    error = $"Character '\\' at byte offset {ByteOffset(text, i)} must be followed by a character with code 1-126";
                    return null;
                }

                plain.Append(text[i + 1]);
                i += 2;
                lineStart = false;
                continue;
            }

            if (inCode)
            {
                if (Inside("```") && string.CompareOrdinal(text, i, "```", 0, 3) == 0)
                {
                    open.Pop();
                    i += 3;
                }
                else if (Inside("`") && c == '`')
                {
                    open.Pop();
                    i++;
                }
                else
                {
                    plain.Append(c);
                    i++;
                }

                lineStart = c == '\n';
                continue;
            }

            if (c == '`')
            {
                if (string.CompareOrdinal(text, i, "```", 0, 3) == 0)
                {
                    open.Push(("```", i));
                    i += 3;
                    // The language name runs to the end of the line.
                    var newline = text.IndexOf('\n', i);
                    if (newline >= 0 && text[i..newline].All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '+' or '-' or '#' or '_'))
                    {
                        i = newline + 1;
                    }
                }
                else
                {
                    open.Push(("`", i));
                    i++;
                }

                continue;
            }

            if (c is '*' or '~' or '_' || (c == '|' && i + 1 < text.Length && text[i + 1] == '|'))
            {
                var marker = c == '|' ? "||" : c == '_' && i + 1 < text.Length && text[i + 1] == '_' ? "__" : c.ToString();
                if (Inside(marker))
                {
                    open.Pop();
                }
                else
                {
                    open.Push((marker, i));
                }

                i += marker.Length;
                lineStart = false;
                continue;
            }

            if (c == '[')
            {
                open.Push(("[", i));
                i++;
                continue;
            }

            if (c == ']' && Inside("["))
            {
                open.Pop();
                if (i + 1 >= text.Length || text[i + 1] != '(')
                {
                    error = $"Can't find end of the URL for a link at byte offset {ByteOffset(text, i)}";
                    return null;
                }

                var j = i + 2;
                while (j < text.Length && text[j] != ')')
                {
                    j += text[j] == '\\' ? 2 : 1;
                }

                if (j >= text.Length)
                {
                    error = $"Can't find end of a URL at byte offset {ByteOffset(text, i + 1)}";
                    return null;
                }

                i = j + 1;
                continue;
            }

            if (c == '>' && lineStart)
            {
                i++;
                lineStart = false;
                continue;
            }

            if ("_*[]()~`>#+-=|{}.!".Contains(c, StringComparison.Ordinal))
            {
                error = $"Character '{c}' is reserved and must be escaped with the preceding '\\'";
                return null;
            }

            plain.Append(c);
            lineStart = c == '\n';
            i++;
        }

        if (open.Count > 0)
        {
            var (marker, offset) = open.Peek();
            var name = marker switch
            {
                "*" => "bold",
                "_" => "italic",
                "__" => "underline",
                "~" => "strikethrough",
                "||" => "spoiler",
                "`" => "code",
                "```" => "pre",
                _ => "text URL",
            };
            error = $"Can't find end of {name} entity at byte offset {ByteOffset(text, offset)}";
            return null;
        }

        return plain.ToString();
    }

    private static int ByteOffset(string text, int index) => Encoding.UTF8.GetByteCount(text.AsSpan(0, index));
}
