using Platform.Channels.Rendering;

namespace Platform.Channels.Tests;

public sealed class RenderingTests
{
    [Theory]
    [InlineData(TextFormat.Html)]
    [InlineData(TextFormat.TelegramHtml)]
    [InlineData(TextFormat.SlackMrkdwn)]
    public void Should_Neutralise_Script_Links_When_Rendering(TextFormat format)
    {
        var rendered = MessageRenderer.Render("[click](javascript:alert(1)) [pic](data:text/html;base64,PHNjcmlwdD4=) [ok](https://example.com/a?b=1)", format);

        Assert.DoesNotContain("javascript:", rendered, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("data:text", rendered, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("https://example.com/a?b=1", rendered);
    }

    [Fact]
    public void Should_EscapeHtmlSpecials_When_RenderingTelegramHtml()
    {
        var html = MessageRenderer.Render("**Tom & Jerry** <script>alert(1)</script> a < b > c", TextFormat.TelegramHtml);

        Assert.Equal("<b>Tom &amp; Jerry</b> &lt;script&gt;alert(1)&lt;/script&gt; a &lt; b &gt; c", html);
        Assert.NotNull(TelegramEntityParser.ParseHtml(html, out var error));
        Assert.Null(error);
    }

    [Fact]
    public void Should_MapMarkdownToTelegramTags_When_RenderingTelegramHtml()
    {
        var html = MessageRenderer.Render(
            "# Title\n\n*it* ~~gone~~ `x<y` [site](https://example.com/?a=1&b=\"2\")\n\n```csharp\nif (a < b) {}\n```\n\n> quoted",
            TextFormat.TelegramHtml);

        Assert.Equal(
            "<b>Title</b>\n\n<i>it</i> <s>gone</s> <code>x&lt;y</code> <a href=\"https://example.com/?a=1&amp;b=&quot;2&quot;\">site</a>\n\n"
            + "<pre><code class=\"language-csharp\">if (a &lt; b) {}</code></pre>\n\n<blockquote>quoted</blockquote>",
            html);
        Assert.NotNull(TelegramEntityParser.ParseHtml(html, out _));
    }

    [Fact]
    public void Should_EscapeEveryReservedCharacter_When_RenderingMarkdownV2()
    {
        const string reserved = "_*[]()~`>#+-=|{}.!\\";
        var text = MessageRenderer.Render("Price: 1.50 + tax = 2! (approx) #deal {x|y} a-b", TextFormat.TelegramMarkdownV2);

        Assert.Equal(@"Price: 1\.50 \+ tax \= 2\! \(approx\) \#deal \{x\|y\} a\-b", text);
        Assert.Equal(@"\_\*\[\]\(\)\~\`\>\#\+\-\=\|\{\}\.\!\\", Escaping.MarkdownV2(reserved));
        Assert.Equal("Price: 1.50 + tax = 2! (approx) #deal {x|y} a-b", TelegramEntityParser.ParseMarkdownV2(text, out var error));
        Assert.Null(error);
    }

    [Fact]
    public void Should_EscapeOnlyBacktickAndBackslash_When_MarkdownV2CodeAndLinks()
    {
        var text = MessageRenderer.Render("**bold.** `a_b\\c` [x.y](https://e.com/a_(b))\n\n```\nx = `1`;\n```", TextFormat.TelegramMarkdownV2);

        Assert.Equal("*bold\\.* `a_b\\\\c` [x\\.y](https://e.com/a_(b\\))\n\n```\nx = \\`1\\`;\n```", text);
        Assert.Equal("bold. a_b\\c x.y\n\nx = `1`;", TelegramEntityParser.ParseMarkdownV2(text, out var error)?.TrimEnd());
        Assert.Null(error);
    }

    [Fact]
    public void Should_PrefixEveryLine_When_MarkdownV2Blockquote()
    {
        var text = MessageRenderer.Render("> first line\n> second. line\n\nafter", TextFormat.TelegramMarkdownV2);

        Assert.Equal(">first line\n>second\\. line\n\nafter", text);
        Assert.NotNull(TelegramEntityParser.ParseMarkdownV2(text, out _));
    }

    [Fact]
    public void Should_UseSlackSyntax_When_RenderingMrkdwn()
    {
        var text = MessageRenderer.Render(
            "## Status\n\n**bold** *it* ~~old~~ `a&b` [docs](https://example.com/a|b) <@U1> & more\n\n- one\n- two\n\n1. first\n2. second",
            TextFormat.SlackMrkdwn);

        Assert.Equal(
            "*Status*\n\n*bold* _it_ ~old~ `a&amp;b` <https://example.com/a%7Cb|docs> &lt;@U1&gt; &amp; more\n\n• one\n• two\n\n1. first\n2. second",
            text);
    }

    [Fact]
    public void Should_ProduceHtmlAndText_When_RenderingEmail()
    {
        const string markdown = "Hello **Ada**,\n\nsee [the report](https://example.com/r) <b>raw</b>.\n\n- a\n- b";

        var html = MessageRenderer.Render(markdown, TextFormat.Html);
        var text = MessageRenderer.Render(markdown, TextFormat.PlainText);

        Assert.Contains("<strong>Ada</strong>", html);
        Assert.Contains("<a href=\"https://example.com/r\">the report</a>", html);
        Assert.Contains("&lt;b&gt;raw&lt;/b&gt;", html);
        Assert.Contains("<li>a</li>", html);
        Assert.Equal("Hello Ada,\n\nsee the report (https://example.com/r) <b>raw</b>.\n\n• a\n• b", text);
    }

    [Fact]
    public void Should_DropMarkupAndKeepUrls_When_RenderingSms()
    {
        var text = MessageRenderer.Render("**Order shipped!** Track: https://t.example/1 or [here](https://t.example/2)\n\n> note", TextFormat.PlainText);

        Assert.Equal("Order shipped! Track: https://t.example/1 or here (https://t.example/2)\n\n> note", text);
    }

    [Fact]
    public void Should_NotRepeatTheUrl_When_BareDomainIsAutolinked()
    {
        Assert.Equal("visit www.example.com today", MessageRenderer.Render("visit www.example.com today", TextFormat.PlainText));
        Assert.Equal("visit <a href=\"http://www.example.com\">www.example.com</a> today",
            MessageRenderer.Render("visit www.example.com today", TextFormat.TelegramHtml));
    }

    [Fact]
    public void Should_RenderNestedLists_When_ItemsContainLists()
    {
        var text = MessageRenderer.Render("- a\n  - b\n- c", TextFormat.PlainText);

        Assert.Equal("• a\n  ◦ b\n• c", text);
    }

    private const string StockTable = "**Running low**\n\n| product | in stock |\n|---|---:|\n| Desk lamp <b> | 2 |\n| USB-C cable | 10 |";

    [Fact]
    public void Should_Render_A_Bordered_Html_Table_When_An_Email_Carries_A_Markdown_Table()
    {
        var html = MessageRenderer.Render(StockTable, TextFormat.Html);

        Assert.Contains("<table border=\"1\"", html, StringComparison.Ordinal);
        Assert.Contains("<th>product</th>", html, StringComparison.Ordinal);
        Assert.Contains("<td>Desk lamp &lt;b&gt;</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("| product |", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Should_Write_One_Compact_Line_Per_Row_When_A_Table_Goes_By_Sms()
    {
        var text = MessageRenderer.Render(StockTable, TextFormat.PlainText);

        Assert.Equal("Running low\n\nproduct: Desk lamp <b>, in stock: 2\nproduct: USB-C cable, in stock: 10", text);
    }

    [Theory]
    [InlineData(TextFormat.TelegramHtml, "<pre>", "</pre>")]
    [InlineData(TextFormat.SlackMrkdwn, "```", "```")]
    public void Should_Align_Columns_In_A_Monospace_Block_When_A_Chat_App_Gets_A_Table(TextFormat format, string open, string close)
    {
        var text = MessageRenderer.Render(StockTable, format);

        var block = text[(text.IndexOf(open, StringComparison.Ordinal) + open.Length)..text.LastIndexOf(close, StringComparison.Ordinal)].Trim('\n');
        Assert.Equal(["product        in stock", "-------------  --------", "Desk lamp &lt;b&gt;  2", "USB-C cable    10"],
            block.Split('\n').Select(l => l.TrimEnd()));
    }
}
