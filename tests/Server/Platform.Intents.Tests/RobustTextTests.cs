using Platform.Intents.Entities;
using Platform.Intents.Text;

namespace Platform.Intents.Tests;

/// <summary>The spelling pass against a set's vocabulary and the cut of a message with two requests.</summary>
public class RobustTextTests
{
    private static readonly SpellingCorrector Speller = new(
    [
        "turn on the kitchen light", "switch off the bedroom light", "what's the temperature in the bedroom?",
        "how many orders came in today?", "tell me today's orders", "set the living room dimmer to 50%", "book a flight to Paris",
    ]);

    [Theory]
    [InlineData("trun on teh bedroom lihgt", "turn on the bedroom light")]
    [InlineData("Trun on the kitchen ligth", "Turn on the kitchen light")]
    [InlineData("whats the temprature in the bedrom", "what's the temperature in the bedroom")]
    [InlineData("set the livng room dimer to 50%", "set the living room dimmer to 50%")]
    public void Should_Correct_Misspelt_Words_To_The_Sets_Words_When_They_Are_Close(string text, string expected)
    {
        Assert.Equal(expected, Speller.Correct(text).Text);
    }

    [Theory]
    [InlineData("tell me a joke")] // unknown but not close to a set word
    [InlineData("switch ligth2 off")] // digits next to it
    [InlineData("打开厨房的灯")] // CJK is left alone
    [InlineData("hte")] // three letters: only two swapped letters count, and "hte" → "the" is one
    public void Should_Leave_Words_Alone_When_Nothing_Is_Close_Or_They_Are_Not_Latin_Words(string text)
    {
        var corrected = Speller.Correct(text);

        Assert.Equal(text == "hte" ? "the" : text, corrected.Text);
    }

    [Fact]
    public void Should_Map_Entity_Spans_Back_To_The_Text_As_Written_When_Words_Were_Corrected()
    {
        // Arrange: "bedrom" (6 letters) becomes "bedroom" (7): later spans shift by one.
        var recognizer = new EntityRecognizer([new ListEntity("room", new Dictionary<string, IReadOnlyList<string>> { ["bedroom"] = [] }),
            new ListEntity("device", new Dictionary<string, IReadOnlyList<string>> { ["light"] = [] })]);
        const string text = "trun off the bedrom lihgt now";

        // Act
        var spelled = Speller.Correct(text);
        var matches = spelled.MapBack(recognizer.Recognize(spelled.Text));

        // Assert
        Assert.Equal("turn off the bedroom light now", spelled.Text);
        Assert.Equal(("bedrom", "bedroom"), (matches[0].Text, matches[0].Value));
        Assert.Equal(("lihgt", "light"), (matches[1].Text, matches[1].Value));
        Assert.Equal(text.IndexOf("lihgt", StringComparison.Ordinal), matches[1].Start);
    }

    [Theory]
    [InlineData("turn off the bedroom light and tell me today's orders", "turn off the bedroom light", "tell me today's orders")]
    [InlineData("turn off the light, then how many orders came in today", "turn off the light", "how many orders came in today")]
    [InlineData("关掉卧室的灯然后告诉我今天的订单", "关掉卧室的灯", "告诉我今天的订单")]
    [InlineData("关掉卧室的灯，今天有多少订单", "关掉卧室的灯", "今天有多少订单")]
    [InlineData("打开厨房的灯,关掉卧室的灯", "打开厨房的灯", "关掉卧室的灯")] // "，" after NFKC, as channels normalise text
    public void Should_Offer_The_Cut_At_The_Conjunction_When_Both_Halves_Look_Like_Requests(string text, string first, string rest)
    {
        Assert.Contains((first, rest), RequestSplitter.Candidates(text));
    }

    [Theory]
    [InlineData("turn on the kitchen and the bedroom light")]
    [InlineData("salt and pepper")]
    [InlineData("打开灯")]
    public void Should_Not_Cut_When_A_Half_Is_No_Request(string text)
    {
        Assert.Empty(RequestSplitter.Candidates(text));
    }

    [Fact]
    public async Task Should_Cut_Only_Where_Both_Halves_Are_In_Scope()
    {
        // Arrange: "in scope" = the text names a light or orders.
        static ValueTask<string?> Recognize(string part, CancellationToken ct) =>
            ValueTask.FromResult(part.Contains("light", StringComparison.Ordinal) || part.Contains("orders", StringComparison.Ordinal) ? part : null);

        // Act
        var split = await RequestSplitter.SplitAsync("turn off the light and tell me today's orders", Recognize, TestContext.Current.CancellationToken);
        var none = await RequestSplitter.SplitAsync("turn off the light and sing me a song", Recognize, TestContext.Current.CancellationToken);

        // Assert
        Assert.Equal(("turn off the light", "tell me today's orders"), (split!.FirstText, split.Rest));
        Assert.Null(none);
    }

    [Fact]
    public async Task Should_Recognise_All_Halves_In_One_Call_When_Cutting_In_A_Batch()
    {
        // Arrange: "in scope" = the text names a light or orders; every call is recorded.
        var calls = new List<IReadOnlyList<string>>();
        ValueTask<IReadOnlyList<string?>> RecognizeMany(IReadOnlyList<string> parts, CancellationToken ct)
        {
            calls.Add(parts);
            return ValueTask.FromResult<IReadOnlyList<string?>>(parts
                .Select(p => p.Contains("light", StringComparison.Ordinal) || p.Contains("orders", StringComparison.Ordinal) ? p : null).ToList());
        }
        const string text = "sing me a song, then turn off the light and tell me today's orders";

        // Act
        var split = await RequestSplitter.SplitManyAsync<string>(text, RecognizeMany, TestContext.Current.CancellationToken);

        // Assert: the halves of every cut went in one call; the first cut whose halves are both in scope won.
        var call = Assert.Single(calls);
        Assert.Equal(RequestSplitter.Cuts(text).SelectMany(c => new[] { c.First, c.Remainder }), call);
        Assert.Equal(("sing me a song, then turn off the light", "tell me today's orders"), (split!.FirstText, split.Rest));
    }
}
