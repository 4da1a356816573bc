using System.Text;

namespace Platform.Channels.Rendering;

/// <summary>Escaping rules of the channel formats.</summary>
public static class Escaping
{
    /// <summary>The characters MarkdownV2 reserves outside code: each must be preceded by a backslash.</summary>
    public const string MarkdownV2Reserved = "_*[]()~`>#+-=|{}.!\\";

    /// <summary>Telegram HTML (and any HTML text node): <c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c>; with
    /// <paramref name="attribute"/> also <c>"</c>.</summary>
    public static string Html(string text, bool attribute = false)
    {
        if (text.AsSpan().IndexOfAny(attribute ? "&<>\"" : "&<>") < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' when attribute => "&quot;",
                _ => c.ToString(),
            });
        }

        return builder.ToString();
    }

    /// <summary>Telegram MarkdownV2 text outside entities: every character of <see cref="MarkdownV2Reserved"/>
    /// gets a backslash.</summary>
    public static string MarkdownV2(string text) => Backslash(text, MarkdownV2Reserved);

    /// <summary>Telegram MarkdownV2 inside <c>`code`</c> and <c>```pre```</c>: only <c>`</c> and <c>\</c>.</summary>
    public static string MarkdownV2Code(string text) => Backslash(text, "`\\");

    /// <summary>Telegram MarkdownV2 inside the <c>(…)</c> of an inline link: only <c>)</c> and <c>\</c>.</summary>
    public static string MarkdownV2LinkUrl(string url) => Backslash(url, ")\\");

    /// <summary>Slack mrkdwn: <c>&amp;</c>, <c>&lt;</c>, <c>&gt;</c> become entities (Slack's only escapes).</summary>
    public static string Slack(string text) => Html(text);

    /// <summary>A URL inside Slack's <c>&lt;url|label&gt;</c>: <c>|</c>, <c>&lt;</c>, <c>&gt;</c> percent-encoded.</summary>
    public static string SlackUrl(string url) =>
        url.Replace("|", "%7C", StringComparison.Ordinal).Replace("<", "%3C", StringComparison.Ordinal)
            .Replace(">", "%3E", StringComparison.Ordinal).Replace("&", "&amp;", StringComparison.Ordinal);

    /// <summary>Discord Markdown outside code: the Markdown characters (<c>\ * _ ~ ` | &gt; [ ] ( ) # -</c>) and <c>&lt;</c>
    /// (mentions such as <c>&lt;@123&gt;</c>) get a backslash.</summary>
    public static string Discord(string text) => Backslash(text, "\\*_~`|>[]()#-<@");

    private static string Backslash(string text, string reserved)
    {
        if (text.AsSpan().IndexOfAny(reserved) < 0)
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (reserved.Contains(c, StringComparison.Ordinal))
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }
}
