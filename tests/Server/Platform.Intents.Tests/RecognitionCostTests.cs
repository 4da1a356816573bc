using System.Diagnostics;
using Platform.Intents.Classification;
using Platform.Intents.Entities;

namespace Platform.Intents.Tests;

/// <summary>Recognition cost is linear and bounded, and recognition stops when it is cancelled (issue 16, H1).</summary>
public class RecognitionCostTests
{
    private static readonly EntityRecognizer Recognizer = new(
    [
        new NumberEntity(),
        new DateTimeEntity(),
        new ListEntity("room", new Dictionary<string, IReadOnlyList<string>> { ["kitchen"] = ["cooking area"], ["bedroom"] = [] }),
    ]);

    [Theory]
    [InlineData("a ")] // number words that never make a number: the parser rescanned the rest of the run from every word
    [InlineData("1 ")] // thousands of matches: each was checked against every kept match
    [InlineData("kitchen tomorrow at 7 ")]
    public void Should_FindEntitiesInLinearTime_When_TextRepeatsMatchesThousandsOfTimes(string unit)
    {
        var text = string.Concat(Enumerable.Repeat(unit, 900_000 / unit.Length)); // 900 KB, as in the probe
        Recognizer.Recognize("warm up 1 tomorrow at 7 kitchen", DateTimeOffset.UtcNow, TimeZoneInfo.Utc);

        var watch = Stopwatch.StartNew();
        var found = Recognizer.Recognize(text, DateTimeOffset.UtcNow, TimeZoneInfo.Utc, TestContext.Current.CancellationToken);
        watch.Stop();

        // Before the fix a 16,000-character "a a a …" took 3 s and 900 KB minutes; now the first 16,384 characters take milliseconds.
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"Recognizing took {watch.Elapsed.TotalMilliseconds:F0} ms.");
        Assert.All(found, m => Assert.True(m.Start + m.Length <= EntityRecognizer.MaxTextLength));
    }

    [Fact]
    public void Should_StopRecognizing_When_TheTokenIsCancelled()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() =>
            Recognizer.Recognize("turn on the kitchen light tomorrow at 7", DateTimeOffset.UtcNow, TimeZoneInfo.Utc, cancelled.Token));
    }

    [Fact]
    public async Task Should_ClassifyOnlyTheBoundedPrefix_When_TextIsHuge()
    {
        var classifier = await IntentClassifier.TrainAsync(
            [new("turn on the light", "on"), new("switch on the lamp", "on"), new("turn off the light", "off"), new("switch off the lamp", "off")],
            cancellationToken: TestContext.Current.CancellationToken);
        var huge = "turn on the light " + new string('x', 2_000_000);
        var watch = Stopwatch.StartNew();
        var result = await classifier.ClassifyAsync(huge, TestContext.Current.CancellationToken);
        Assert.Equal("on", result.TopIntent);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"Classifying took {watch.Elapsed.TotalMilliseconds:F0} ms.");
    }
}
