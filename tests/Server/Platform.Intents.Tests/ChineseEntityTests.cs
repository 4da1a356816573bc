using Platform.Intents.Entities;

namespace Platform.Intents.Tests;

/// <summary>Chinese times, dates, numbers and list entities (no spaces between words: list entities match as substrings).</summary>
public class ChineseEntityTests
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
            ["kitchen"] = ["厨房"], ["living room"] = ["客厅"], ["bedroom"] = ["卧室"], ["hall"] = ["门厅"],
        }),
        new ListEntity("device", new Dictionary<string, IReadOnlyList<string>>
        {
            ["light"] = ["灯", "电灯"], ["thermostat"] = ["空调"], ["front door"] = ["门", "前门"],
            ["temperature sensor"] = ["温度传感器", "温度"], ["dimmer"] = ["调光灯"],
        }),
    ]);

    [Theory]
    [InlineData("今天有什么安排", "2025-03-14T00:00:00+08:00", "今天")]
    [InlineData("明天提醒我", "2025-03-15T00:00:00+08:00", "明天")]
    [InlineData("明天晚上七点提醒我", "2025-03-15T19:00:00+08:00", "明天晚上七点")]
    [InlineData("下午三点半开会", "2025-03-14T15:30:00+08:00", "下午三点半")]
    [InlineData("十分钟后关灯", "2025-03-14T10:10:00+08:00", "十分钟后")]
    [InlineData("半小时后叫我", "2025-03-14T10:30:00+08:00", "半小时后")]
    [InlineData("周五下午两点", "2025-03-14T14:00:00+08:00", "周五下午两点")]
    [InlineData("下周五早上9点", "2025-03-21T09:00:00+08:00", "下周五早上9点")]
    public void Should_Resolve_Chinese_Dates_And_Times_When_The_Text_Has_One(string text, string expected, string matched)
    {
        var m = Assert.Single(Recognizer.Recognize(text, Now, Shanghai), x => x.Kind == "datetime");

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), (DateTimeOffset)m.Value!);
        Assert.Equal(matched, m.Text);
    }

    [Theory]
    [InlineData("五十", 50, "五十")]
    [InlineData("一百二十块", 120, "一百二十")]
    [InlineData("要两个", 2, "两")]
    [InlineData("把调光灯调到百分之五十", 50, "百分之五十")]
    [InlineData("亮度百分之30", 30, "百分之30")]
    [InlineData("把调光灯调到50%", 50, "50%")]
    [InlineData("set the living room dimmer to 50%", 50, "50%")]
    [InlineData("dim it to 40 percent", 40, "40 percent")]
    public void Should_Read_Chinese_Numbers_And_Percentages_When_The_Text_Has_One(string text, int expected, string matched)
    {
        var m = Assert.Single(Recognizer.Recognize(text, Now, Shanghai), x => x.Kind == "number");

        Assert.Equal(expected, (decimal)m.Value!);
        Assert.Equal(matched, m.Text);
    }

    [Theory]
    [InlineData("关掉卧室的灯", "bedroom", "light")]
    [InlineData("打开厨房的灯", "kitchen", "light")]
    [InlineData("卧室温度多少", "bedroom", "temperature sensor")]
    [InlineData("客厅的调光灯调到一半", "living room", "dimmer")]
    [InlineData("把客厅空调关了", "living room", "thermostat")]
    public void Should_Find_Rooms_And_Devices_By_Their_Chinese_Aliases_When_There_Are_No_Spaces(string text, string room, string device)
    {
        var found = Recognizer.Recognize(text, Now, Shanghai);

        Assert.Equal(room, Assert.Single(found, x => x.Name == "room").Value);
        Assert.Equal(device, Assert.Single(found, x => x.Name == "device").Value);
    }

    [Fact]
    public void Should_Prefer_The_Longer_Alias_When_A_Room_Contains_A_Device_Alias()
    {
        var found = Recognizer.Recognize("门厅的灯开着吗", Now, Shanghai);

        Assert.Equal("hall", Assert.Single(found, x => x.Name == "room").Value);
        Assert.Equal("light", Assert.Single(found, x => x.Name == "device").Value);
    }
}
