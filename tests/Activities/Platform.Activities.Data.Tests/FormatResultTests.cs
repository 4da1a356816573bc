using System.Text.Json.Nodes;
using static Platform.Activities.Data.Tests.DataHost;

namespace Platform.Activities.Data.Tests;

/// <summary>FormatResult per channel and with a custom template.</summary>
public sealed class FormatResultTests
{
    private const string Type = "Platform.FormatResult";
    private const string RowsJs = "[{ customer: 'alice', total: 10.5 }, { customer: 'b|<b>', total: 20 }]";

    private static JsonObject Inputs(string channel, string rowsJs = RowsJs, string? template = null)
    {
        var inputs = new JsonObject { ["rows"] = Expr("JavaScript", rowsJs), ["channel"] = Literal(channel) };
        if (template is not null) inputs["template"] = Literal(template);
        return inputs;
    }

    [Theory, InlineData("chat"), InlineData("slack")]
    public async Task Should_RenderMarkdownTable_When_ChannelIsChatOrSlack(string channel)
    {
        await using var host = new DataHost();
        var r = await host.RunAsync(Type, Inputs(channel));
        Assert.Equal("Done", r.Outcome());
        Assert.Equal("| customer | total |\n| --- | --- |\n| alice | 10.5 |\n| b\\|<b> | 20 |", r.Out("Text"));
        Assert.Equal("text/markdown", r.Out("ContentType"));
    }

    [Fact]
    public async Task Should_RenderEscapedHtmlTable_When_ChannelIsEmail()
    {
        await using var host = new DataHost();
        var r = await host.RunAsync(Type, Inputs("email"));
        var text = r.Out("Text")!;
        Assert.Contains("<th>customer</th><th>total</th>", text);
        Assert.Contains("<tr><td>alice</td><td>10.5</td></tr>", text);
        Assert.Contains("<td>b|&lt;b&gt;</td>", text);
        Assert.Equal("text/html", r.Out("ContentType"));
    }

    [Fact]
    public async Task Should_RenderCompactLines_When_ChannelIsSms()
    {
        await using var host = new DataHost();
        var r = await host.RunAsync(Type, Inputs("sms"));
        Assert.Equal("alice, 10.5\nb|<b>, 20", r.Out("Text"));
    }

    [Fact]
    public async Task Should_UseCustomTemplate_When_TemplateIsSet()
    {
        await using var host = new DataHost();
        var r = await host.RunAsync(Type, Inputs("chat", template: "{{ count }} orders: {% for row in rows %}{{ row.customer }};{% endfor %}"));
        Assert.Equal("2 orders: alice;b|<b>;", r.Out("Text"));
    }

    [Fact]
    public async Task Should_TakeEmptyOutcome_When_ThereAreNoRows()
    {
        await using var host = new DataHost();
        var r = await host.RunAsync(Type, Inputs("chat", rowsJs: "[]"));
        Assert.Equal("Empty", r.Outcome());
        Assert.Equal("No results.", r.Out("Text"));
    }
}
