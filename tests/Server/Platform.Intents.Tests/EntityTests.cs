using Platform.Intents.Entities;

namespace Platform.Intents.Tests;

public class EntityTests
{
    // Friday 14 March 2025, 10:00 in Shanghai (UTC+8).
    private static readonly TimeZoneInfo Shanghai = TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai");
    private static readonly DateTimeOffset Now = new(2025, 3, 14, 10, 0, 0, TimeSpan.FromHours(8));

    private static readonly EntityRecognizer Recognizer = new(
    [
        new NumberEntity(),
        new DateTimeEntity(),
        new ListEntity("room", new Dictionary<string, IReadOnlyList<string>>
        {
            ["kitchen"] = ["cooking area", "厨房"],
            ["living room"] = ["lounge", "客厅"],
        }),
        new RegexEntity("order", @"\bORD-(?<value>\d{6})\b"),
    ]);

    private static EntityMatch Single(string text, string kind) =>
        Assert.Single(Recognizer.Recognize(text, Now, Shanghai), m => m.Kind == kind);

    [Theory]
    [InlineData("wake me up tomorrow at 7", "2025-03-15T07:00:00+08:00", "tomorrow at 7")]
    [InlineData("remind me in 10 minutes", "2025-03-14T10:10:00+08:00", "in 10 minutes")]
    [InlineData("remind me in ten minutes", "2025-03-14T10:10:00+08:00", "in ten minutes")]
    [InlineData("in half an hour", "2025-03-14T10:30:00+08:00", "in half an hour")]
    [InlineData("call mum today at 7", "2025-03-14T19:00:00+08:00", "today at 7")]
    [InlineData("meeting at 7pm", "2025-03-14T19:00:00+08:00", "at 7pm")]
    [InlineData("alarm at 9am", "2025-03-15T09:00:00+08:00", "at 9am")]
    [InlineData("next monday at 9:30", "2025-03-17T09:30:00+08:00", "next monday at 9:30")]
    [InlineData("tomorrow evening", "2025-03-15T19:00:00+08:00", "tomorrow evening")]
    [InlineData("on march 20", "2025-03-20T00:00:00+08:00", "march 20")]
    [InlineData("due 2025-04-01 18:30", "2025-04-01T18:30:00+08:00", "2025-04-01 18:30")]
    [InlineData("明天早上7点叫我", "2025-03-15T07:00:00+08:00", "明天早上7点")]
    [InlineData("10分钟后提醒我", "2025-03-14T10:10:00+08:00", "10分钟后")]
    [InlineData("晚上八点半开会", "2025-03-14T20:30:00+08:00", "晚上八点半")]
    [InlineData("下周一下午3点", "2025-03-17T15:00:00+08:00", "下周一下午3点")]
    public void Should_ResolveDateTime_When_TextHasDateExpression(string text, string expected, string matched)
    {
        var m = Single(text, "datetime");
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), (DateTimeOffset)m.Value!);
        Assert.Equal(TimeSpan.FromHours(8), ((DateTimeOffset)m.Value!).Offset);
        Assert.Equal(matched, m.Text);
    }

    [Fact]
    public void Should_ResolveInGivenZone_When_ReferenceIsUtc()
    {
        var utc = new DateTimeOffset(2025, 3, 14, 2, 0, 0, TimeSpan.Zero); // 10:00 in Shanghai
        var m = Assert.Single(Recognizer.Recognize("tomorrow at 7", utc, Shanghai), x => x.Kind == "datetime");
        Assert.Equal(new DateTimeOffset(2025, 3, 15, 7, 0, 0, TimeSpan.FromHours(8)), m.Value);
        var late = Assert.Single(Recognizer.Recognize("tomorrow at 7", new DateTimeOffset(2025, 3, 14, 20, 0, 0, TimeSpan.Zero), Shanghai), x => x.Kind == "datetime");
        Assert.Equal(new DateTimeOffset(2025, 3, 16, 7, 0, 0, TimeSpan.FromHours(8)), late.Value); // already the 15th there
    }

    [Theory]
    [InlineData("set it to twenty five degrees", 25)]
    [InlineData("transfer 1,250.5 dollars", 1250.5)]
    [InlineData("a hundred and five people", 105)]
    [InlineData("dim 3 lights", 3)]
    [InlineData("调到二十五度", 25)]
    [InlineData("两万三千", 23000)]
    public void Should_ParseNumber_When_WrittenInDigitsOrWords(string text, double expected)
    {
        Assert.Equal((decimal)expected, (decimal)Single(text, "number").Value!);
    }

    [Theory]
    [InlineData("turn on the light in the Lounge", "living room", "Lounge")]
    [InlineData("lights on in the cooking area", "kitchen", "cooking area")]
    [InlineData("打开厨房的灯", "kitchen", "厨房")]
    [InlineData("clean the KITCHEN", "kitchen", "KITCHEN")]
    public void Should_MapSynonymToCanonical_When_ListEntityMatches(string text, string canonical, string matched)
    {
        var m = Single(text, "list");
        Assert.Equal("room", m.Name);
        Assert.Equal(canonical, m.Value);
        Assert.Equal(matched, m.Text);
    }

    [Fact]
    public void Should_RespectWordBoundaries_When_MatchingLists()
    {
        Assert.DoesNotContain(Recognizer.Recognize("the kitchenette is small", Now, Shanghai), m => m.Kind == "list");
    }

    [Fact]
    public void Should_ReturnValueGroup_When_RegexEntityMatches()
    {
        var m = Single("where is ORD-123456 now", "regex");
        Assert.Equal("order", m.Name);
        Assert.Equal("123456", m.Value);
        Assert.Equal("ORD-123456", m.Text);
    }

    [Fact]
    public void Should_PreferLongerMatch_When_EntitiesOverlap()
    {
        var all = Recognizer.Recognize("in 10 minutes turn on 2 lights in the kitchen", Now, Shanghai);
        Assert.Collection(all,
            m => Assert.Equal("datetime", m.Kind),
            m => Assert.Equal(2m, m.Value),
            m => Assert.Equal("kitchen", m.Value));
    }

    [Fact]
    public void Should_RejectBadPattern_When_RegexIsInvalid()
    {
        Assert.Throws<ArgumentException>(() => new EntityRecognizer([new RegexEntity("bad", "(unclosed")]));
    }
}
