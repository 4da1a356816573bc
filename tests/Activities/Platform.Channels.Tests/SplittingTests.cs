using System.Globalization;
using System.Text;
using Platform.Channels.Rendering;

namespace Platform.Channels.Tests;

public sealed class SplittingTests
{
    [Fact]
    public void Should_ReturnOnePart_When_TextFits()
    {
        Assert.Equal(["short text"], TextSplitter.SplitPlainText("short text", 1600));
        Assert.Empty(TextSplitter.SplitPlainText("", 1600));
    }

    [Fact]
    public void Should_SplitAtParagraphs_When_ParagraphBoundaryIsInSecondHalf()
    {
        var first = Words("alpha", 120);   // ~720 chars
        var second = Words("beta", 120);
        var third = Words("gamma", 120);
        var text = $"{first}\n\n{second}\n\n{third}";

        var parts = TextSplitter.SplitPlainText(text, 1600);

        Assert.Equal([$"{first}\n\n{second}", third], parts);
    }

    [Fact]
    public void Should_SplitAtSentenceEnd_When_NoParagraphBoundary()
    {
        var sentence = "This sentence has exactly some words in it. ";
        var text = string.Concat(Enumerable.Repeat(sentence, 60)).TrimEnd();

        var parts = TextSplitter.SplitPlainText(text, 1600);

        Assert.True(parts.Count == 2);
        Assert.All(parts, p => Assert.True(p.Length <= 1600));
        Assert.EndsWith("in it.", parts[0]);
        Assert.StartsWith("This sentence", parts[1]);
        Assert.Equal(text.Replace(" ", "", StringComparison.Ordinal), string.Concat(parts).Replace(" ", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_SplitAtWords_When_NoSentenceBoundary()
    {
        var text = Words("word", 500); // no punctuation at all

        var parts = TextSplitter.SplitPlainText(text, 1600);

        Assert.All(parts, p => Assert.True(p.Length <= 1600));
        Assert.All(parts, p => Assert.DoesNotContain(p.Split(' '), w => w != "word"));
        Assert.Equal(500, parts.Sum(p => p.Split(' ').Length));
    }

    [Fact]
    public void Should_NeverBreakSurrogatePairsOrEmojiSequences_When_SplittingWithoutSpaces()
    {
        const string family = "👨‍👩‍👧‍👦"; // ZWJ sequence of 4 surrogate pairs: 11 UTF-16 code units
        var text = string.Concat(Enumerable.Repeat("😀" + family + "é", 400)); // 'é' as e + combining acute

        var parts = TextSplitter.SplitPlainText(text, 100);

        Assert.True(parts.Count > 1);
        foreach (var part in parts)
        {
            Assert.True(part.Length <= 100);
            Assert.False(char.IsLowSurrogate(part[0]), "A part starts with a low surrogate.");
            Assert.False(char.IsHighSurrogate(part[^1]), "A part ends with a high surrogate.");
            Assert.Equal(0, part.Length - Graphemes(part).Sum(g => g.Length));
            Assert.All(Graphemes(part), g => Assert.Contains(g, new[] { "😀", family, "é" }));
        }

        Assert.Equal(text, string.Concat(parts));
    }

    [Fact]
    public void Should_KeepEntitiesWhole_When_SplittingHtmlAtTheBoundary()
    {
        var html = string.Concat(Enumerable.Repeat("&amp;&lt;&gt;&quot;&#128512;", 200));

        var parts = TextSplitter.SplitHtml(html, 101);

        Assert.True(parts.Count > 1);
        foreach (var part in parts)
        {
            Assert.True(part.Length <= 101);
            Assert.NotNull(TelegramEntityParser.ParseHtml(part, out var error));
            Assert.Null(error);
        }

        Assert.Equal(html, string.Concat(parts));
    }

    [Fact]
    public void Should_CloseAndReopenTags_When_SplittingInsideAnElement()
    {
        var html = "<b>" + Words("bold", 50) + "</b> <a href=\"https://example.com/?a=1&amp;b=2\">" + Words("link", 50) + "</a>";

        var parts = TextSplitter.SplitHtml(html, 120);

        Assert.True(parts.Count > 2);
        foreach (var part in parts)
        {
            Assert.True(part.Length <= 120, $"Part of {part.Length}: {part}");
            Assert.NotNull(TelegramEntityParser.ParseHtml(part, out var error));
            Assert.Null(error);
        }

        Assert.Contains(parts, p => p.StartsWith("<a href=\"https://example.com/?a=1&amp;b=2\">link", StringComparison.Ordinal));
        Assert.Contains(parts, p => p.StartsWith("<b>bold", StringComparison.Ordinal) && p.EndsWith("bold</b>", StringComparison.Ordinal));
    }

    [Fact]
    public void Should_FitTelegramLimitAndStayParseable_When_RenderingLongMarkdownAsHtml()
    {
        var markdown = string.Join("\n\n", Enumerable.Range(1, 60).Select(i =>
            $"**Section {i}** has *emphasis*, `code & <tags>`, a [link](https://example.com/{i}?q=a&b) and words: {Words("lorem", 20)}."));

        var parts = MessageRenderer.RenderParts(markdown, TextFormat.TelegramHtml, ChannelLimits.Telegram);

        Assert.True(parts.Count >= 2);
        var plain = new StringBuilder();
        foreach (var part in parts)
        {
            Assert.True(part.Length <= ChannelLimits.Telegram);
            plain.Append(TelegramEntityParser.ParseHtml(part, out var error) ?? throw new Xunit.Sdk.XunitException(error));
            Assert.StartsWith("<b>Section", part, StringComparison.Ordinal); // cut at paragraph boundaries
        }

        Assert.Equal(60, plain.ToString().Split("Section").Length - 1);
    }

    [Fact]
    public void Should_KeepEscapesAndEntitiesValid_When_SplittingMarkdownV2()
    {
        var markdown = string.Join(" ", Enumerable.Range(1, 400).Select(i => $"*v{i}.0!* (see [doc](https://e.com/{i}_(x)))"));

        var parts = MessageRenderer.RenderParts(markdown, TextFormat.TelegramMarkdownV2, 500);

        Assert.True(parts.Count > 5);
        foreach (var part in parts)
        {
            Assert.True(part.Length <= 500);
            Assert.NotNull(TelegramEntityParser.ParseMarkdownV2(part, out var error));
            Assert.Null(error);
            Assert.False(part.EndsWith('\\') && !part.EndsWith(@"\\", StringComparison.Ordinal), "A part ends inside an escape.");
        }
    }

    [Fact]
    public void Should_SplitCodeBlocksIntoValidBlocks_When_CodeIsLongerThanTheLimit()
    {
        var code = string.Join('\n', Enumerable.Range(1, 200).Select(i => $"var x{i} = a < b && c > d;"));

        var parts = MessageRenderer.RenderParts($"```js\n{code}\n```", TextFormat.TelegramHtml, 1000);

        Assert.True(parts.Count > 3);
        Assert.All(parts, p =>
        {
            Assert.StartsWith("<pre><code class=\"language-js\">var x", p, StringComparison.Ordinal);
            Assert.EndsWith(";</code></pre>", p, StringComparison.Ordinal);
            Assert.NotNull(TelegramEntityParser.ParseHtml(p, out _));
        });
    }

    [Fact]
    public void Should_SplitSmsAt1600_When_TextIsLong()
    {
        var markdown = string.Join("\n\n", Enumerable.Range(1, 10).Select(i => $"Paragraph {i}. " + Words("text", 60)));

        var parts = MessageRenderer.RenderParts(markdown, TextFormat.PlainText, ChannelLimits.TwilioSms);

        Assert.True(parts.Count >= 2);
        Assert.All(parts, p => Assert.True(p.Length <= ChannelLimits.TwilioSms));
        Assert.All(parts, p => Assert.StartsWith("Paragraph", p, StringComparison.Ordinal));
    }

    private static string Words(string word, int count) => string.Join(' ', Enumerable.Repeat(word, count));

    private static List<string> Graphemes(string text)
    {
        var list = new List<string>();
        var enumerator = StringInfo.GetTextElementEnumerator(text);
        while (enumerator.MoveNext())
        {
            list.Add(enumerator.GetTextElement());
        }

        return list;
    }
}
