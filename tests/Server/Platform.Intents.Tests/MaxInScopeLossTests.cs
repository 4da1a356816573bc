using Platform.Intents.Classification;

namespace Platform.Intents.Tests;

/// <summary><see cref="IntentClassifierOptions.MaxInScopeLoss"/> caps what the held-out-intent threshold may cost of in-scope accuracy.</summary>
public class MaxInScopeLossTests
{
    [Fact]
    public void Should_Keep_The_Threshold_Below_The_Allowed_Loss_When_A_Higher_One_Would_Reject_More_In_Scope_Lines()
    {
        // Arrange: 100 correct in-scope scores 0.01…1.00 and 100 out-of-scope scores at 0.5. Uncapped, rejecting everything
        // below 0.5 wins (in-scope accuracy 0.5 + out-of-scope recall 1); it costs half of the in-scope lines.
        var inScores = Enumerable.Range(1, 100).Select(i => (Score: i / 100f, Correct: true)).ToList();
        var oosScores = Enumerable.Range(0, 100).Select(_ => (Score: 0.5f, PredictedOos: false)).ToList();

        // Act
        var uncapped = IntentClassifier.ChooseThreshold(inScores, oosScores, oosWeight: 1);
        var capped = IntentClassifier.ChooseThreshold(inScores, oosScores, oosWeight: 1, maxInScopeLoss: 0.05);

        // Assert
        Assert.True(uncapped > 0.5, $"uncapped threshold {uncapped}");
        Assert.True(inScores.Count(s => s.Score < capped) <= 5, $"capped threshold {capped} rejects {inScores.Count(s => s.Score < capped)} in-scope lines");
    }

    [Fact]
    public async Task Should_Calibrate_A_Threshold_No_Higher_Than_Uncapped_When_Training_With_A_Zero_Loss_Cap()
    {
        // Arrange: five intents, no "not this" lines: the held-out-intent rule calibrates.
        string[][] intents =
        [
            ["turn on the light", "switch the lamp on", "lights on please", "put the kitchen light on", "turn the bedroom lights on", "light on"],
            ["turn off the light", "switch the lamp off", "lights off please", "put the kitchen light off", "turn the bedroom lights off", "light off"],
            ["what is my balance", "how much money is in my account", "check my savings", "show my account balance", "how much is left", "balance please"],
            ["play some music", "play my playlist", "put on a song", "I want to hear songs", "play music in the kitchen", "music please"],
            ["what is the weather", "will it rain today", "is it sunny tomorrow", "weather forecast please", "how hot is it outside", "weather today"],
        ];
        var examples = intents.SelectMany((lines, i) => lines.Select(l => new IntentExample(l, "intent" + i))).ToList();
        var ct = TestContext.Current.CancellationToken;

        // Act
        var free = await IntentClassifier.TrainAsync(examples, options: new IntentClassifierOptions { OutOfScopeRule = OutOfScopeRule.HeldOutIntents }, cancellationToken: ct);
        var capped = await IntentClassifier.TrainAsync(examples,
            options: new IntentClassifierOptions { OutOfScopeRule = OutOfScopeRule.HeldOutIntents, MaxInScopeLoss = 0 }, cancellationToken: ct);

        // Assert
        Assert.True(capped.IsThresholdCalibrated);
        Assert.True(capped.Threshold <= free.Threshold, $"capped {capped.Threshold} > uncapped {free.Threshold}");
    }
}
