using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using UglyToad.PdfPig;

namespace Platform.Knowledge;

/// <summary>The plain text of an uploaded document: headings as Markdown <c>#</c> lines so the chunker keeps them as context.</summary>
/// <param name="ContentType">markdown, text, html or pdf.</param>
/// <param name="Title">The document's title (first heading, HTML title or PDF title), or null.</param>
/// <param name="Text">The text.</param>
public sealed record ExtractedDocument(string ContentType, string? Title, string Text);

/// <summary>An upload that cannot be read; the message says why and how to fix it.</summary>
public sealed class KnowledgeInputException(string message) : Exception(message);

/// <summary>Reads Markdown, plain text, HTML and PDF documents into text.</summary>
public static class DocumentReader
{
    /// <summary>The content types understood.</summary>
    public static readonly IReadOnlyList<string> ContentTypes = ["markdown", "text", "html", "pdf"];

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(2);
    private const RegexOptions Options = RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.NonBacktracking | RegexOptions.CultureInvariant;
    private static readonly Regex Comments = new(@"<!--.*?-->", Options, RegexTimeout);
    private static readonly Regex HtmlTitle = new(@"<title\b[^>]*>(.*?)</title\s*>", Options, RegexTimeout);
    private static readonly Regex Heading = new(@"<h([1-6])\b[^>]*>(.*?)</h[1-6]\s*>", Options, RegexTimeout);
    private static readonly Regex Block = new(@"</?(p|div|br|li|ul|ol|tr|table|section|article|header|footer|blockquote|pre|dd|dt|hr)\b[^>]*>", Options, RegexTimeout);
    private static readonly Regex Tag = new(@"<[^>]*>", Options, RegexTimeout);
    private static readonly Regex MarkdownHeading = new(@"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", RegexOptions.Multiline | RegexOptions.CultureInvariant, RegexTimeout);

    /// <summary>Detects the type from the file name, then the declared content type, then the bytes.</summary>
    /// <returns>markdown, text, html, pdf, or null when unknown.</returns>
    public static string? DetectType(string fileName, string? contentType, ReadOnlySpan<byte> bytes)
    {
        var ext = Path.GetExtension(fileName ?? "").ToLowerInvariant();
        switch (ext)
        {
            case ".md" or ".markdown" or ".mdx": return "markdown";
            case ".txt" or ".text" or ".log" or ".csv": return "text";
            case ".html" or ".htm" or ".xhtml": return "html";
            case ".pdf": return "pdf";
        }
        var declared = (contentType ?? "").Split(';')[0].Trim().ToLowerInvariant();
        switch (declared)
        {
            case "text/markdown" or "text/x-markdown": return "markdown";
            case "text/plain": return "text";
            case "text/html" or "application/xhtml+xml": return "html";
            case "application/pdf": return "pdf";
        }
        if (bytes.StartsWith("%PDF-"u8)) return "pdf";
        return null;
    }

    /// <summary>Reads a document.</summary>
    /// <exception cref="KnowledgeInputException">The type is unknown or the content cannot be read.</exception>
    public static ExtractedDocument Read(string fileName, string? contentType, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var type = DetectType(fileName, contentType, bytes) ?? throw new KnowledgeInputException(
            $"'{fileName}' is not a supported document: upload Markdown (.md), text (.txt), HTML (.html) or PDF (.pdf), or send Content-Type text/markdown, text/plain, text/html or application/pdf.");
        ExtractedDocument doc = type switch
        {
            "pdf" => ReadPdf(fileName, bytes),
            "html" => ReadHtml(DecodeText(fileName, bytes)),
            "markdown" => ReadMarkdown(DecodeText(fileName, bytes)),
            _ => new ExtractedDocument("text", null, Normalize(DecodeText(fileName, bytes))),
        };
        if (string.IsNullOrWhiteSpace(doc.Text))
            throw new KnowledgeInputException($"'{fileName}' has no text to index" + (type == "pdf" ? " (a scanned PDF without a text layer? Run OCR first)." : "."));
        return doc;
    }

    /// <summary>UTF-8 text (a BOM is skipped); invalid bytes or NUL characters are refused.</summary>
    private static string DecodeText(string fileName, byte[] bytes)
    {
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
            if (text.Contains('\0')) throw new KnowledgeInputException($"'{fileName}' contains NUL characters: it looks like a binary file, not text. Upload Markdown, text, HTML or PDF.");
            return text;
        }
        catch (DecoderFallbackException e)
        {
            throw new KnowledgeInputException($"'{fileName}' is not valid UTF-8 (byte {e.Index}): save it as UTF-8 and upload it again.");
        }
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');

    private static ExtractedDocument ReadMarkdown(string text)
    {
        text = Normalize(text);
        var m = MarkdownHeading.Match(text);
        return new ExtractedDocument("markdown", m.Success ? m.Groups[1].Value.Trim() : null, text);
    }

    /// <summary>HTML to text: scripts, styles and comments dropped, headings kept as <c>#</c> lines, blocks as new lines,
    /// every other tag removed, entities decoded. Linear-time expressions only (hostile markup cannot make it hang).</summary>
    internal static ExtractedDocument ReadHtml(string html)
    {
        html = Normalize(html);
        var titleMatch = HtmlTitle.Match(html);
        var title = titleMatch.Success ? Clean(titleMatch.Groups[1].Value) : null;
        html = Comments.Replace(html, " ");
        html = DropElements(html);
        html = Heading.Replace(html, m => $"\n\n{new string('#', m.Groups[1].Value[0] - '0')} {Clean(m.Groups[2].Value)}\n\n");
        html = Block.Replace(html, "\n");
        html = Tag.Replace(html, " ");
        var lines = WebUtility.HtmlDecode(html).Split('\n').Select(l => CollapseSpaces(l));
        var text = Regex.Replace(string.Join('\n', lines), @"\n{3,}", "\n\n", RegexOptions.None, RegexTimeout).Trim();
        if (string.IsNullOrWhiteSpace(title) && MarkdownHeading.Match(text) is { Success: true } h) title = h.Groups[1].Value.Trim();
        return new ExtractedDocument("html", string.IsNullOrWhiteSpace(title) ? null : title, text);
    }

    /// <summary>Removes script, style, noscript, template, svg and head elements with their content (a scan, no regex backtracking).</summary>
    private static string DropElements(string html)
    {
        string[] names = ["script", "style", "noscript", "template", "svg", "head"];
        var sb = new StringBuilder(html.Length);
        var i = 0;
        while (i < html.Length)
        {
            var lt = html.IndexOf('<', i);
            if (lt < 0) { sb.Append(html, i, html.Length - i); break; }
            sb.Append(html, i, lt - i);
            string? dropped = null;
            foreach (var n in names)
            {
                if (lt + 1 + n.Length <= html.Length && string.Compare(html, lt + 1, n, 0, n.Length, StringComparison.OrdinalIgnoreCase) == 0
                    && (lt + 1 + n.Length == html.Length || !char.IsLetterOrDigit(html[lt + 1 + n.Length])))
                {
                    dropped = n;
                    break;
                }
            }
            if (dropped is null) { sb.Append('<'); i = lt + 1; continue; }
            var end = html.IndexOf("</" + dropped, lt, StringComparison.OrdinalIgnoreCase);
            if (end < 0) break; // unterminated: drop the rest
            var close = html.IndexOf('>', end);
            i = close < 0 ? html.Length : close + 1;
            sb.Append(' ');
        }
        return sb.ToString();
    }

    private static string Clean(string fragment) => CollapseSpaces(WebUtility.HtmlDecode(Tag.Replace(fragment, " ")));

    private static string CollapseSpaces(string s)
    {
        var sb = new StringBuilder(s.Length);
        var space = false;
        foreach (var c in s)
        {
            if (char.IsWhiteSpace(c)) { space = sb.Length > 0; continue; }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static ExtractedDocument ReadPdf(string fileName, byte[] bytes)
    {
        try
        {
            using var pdf = PdfDocument.Open(bytes);
            var sb = new StringBuilder();
            foreach (var page in pdf.GetPages())
            {
                var words = page.GetWords().Select(w => w.Text).Where(w => !string.IsNullOrWhiteSpace(w));
                var text = string.Join(' ', words);
                if (text.Length == 0) continue;
                if (sb.Length > 0) sb.Append("\n\n");
                sb.Append(text);
            }
            var title = pdf.Information?.Title;
            return new ExtractedDocument("pdf", string.IsNullOrWhiteSpace(title) ? null : title.Trim(), sb.ToString());
        }
        catch (Exception e) when (e is not KnowledgeInputException and not OutOfMemoryException)
        {
            throw new KnowledgeInputException($"'{fileName}' could not be read as a PDF ({e.Message}). Upload a valid, unencrypted PDF with a text layer.");
        }
    }
}
