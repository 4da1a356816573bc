using Platform.Intents.Classification;
using Platform.Intents.Embeddings;

namespace Platform.Intents.Tests;

public class ClassifierTests
{
    private static readonly IntentExample[] Examples =
    [
        new("turn on the light", "lights_on"), new("switch the lamp on", "lights_on"), new("lights on please", "lights_on"),
        new("put the kitchen light on", "lights_on"), new("turn the bedroom lights on", "lights_on"),
        new("turn off the light", "lights_off"), new("switch the lamp off", "lights_off"), new("lights off please", "lights_off"),
        new("put the kitchen light off", "lights_off"), new("turn the bedroom lights off", "lights_off"),
        new("what is my balance", "balance"), new("how much money is in my account", "balance"), new("check my savings", "balance"),
        new("show my account balance", "balance"), new("how much is left in my account", "balance"),
        new("play some music", "music"), new("play my playlist", "music"), new("put on a song", "music"),
        new("I want to hear songs", "music"), new("play music in the kitchen", "music"),
        new("打开客厅的灯", "lights_on"), new("把灯打开", "lights_on"), new("开灯", "lights_on"),
        new("关掉客厅的灯", "lights_off"), new("把灯关了", "lights_off"), new("关灯", "lights_off"),
        new("我的余额是多少", "balance"), new("查一下账户余额", "balance"), new("账户里还有多少钱", "balance"),
        new("播放音乐", "music"), new("放一首歌", "music"), new("我想听歌", "music"),
    ];

    [Theory]
    [InlineData("please turn on the hall light", "lights_on")]
    [InlineData("turn off the kitchen lamp", "lights_off")]
    [InlineData("how much is in my savings account", "balance")]
    [InlineData("play a song", "music")]
    [InlineData("请打开卧室的灯", "lights_on")]
    [InlineData("把卧室的灯关掉", "lights_off")]
    [InlineData("我的账户余额", "balance")]
    [InlineData("播放一首歌", "music")]
    public async Task Should_PredictIntent_When_TrainedOnNgramsOnly(string text, string intent)
    {
        var classifier = await IntentClassifier.TrainAsync(Examples, options: new IntentClassifierOptions { Threshold = 0 });
        var result = classifier.Classify(text);
        Assert.Equal(intent, result.Intent);
        Assert.False(result.IsOutOfScope);
    }

    [Fact]
    public async Task Should_ReturnTopThreeAlternatives_When_Classifying()
    {
        var classifier = await IntentClassifier.TrainAsync(Examples, options: new IntentClassifierOptions { Threshold = 0 });
        var result = classifier.Classify("turn on the light");
        Assert.Equal(3, result.Alternatives.Count);
        Assert.Equal("lights_on", result.Alternatives[0].Intent);
        Assert.Equal(result.Confidence, result.Alternatives[0].Confidence);
        Assert.True(result.Alternatives[0].Confidence >= result.Alternatives[1].Confidence);
        Assert.Equal(3, result.Alternatives.Select(a => a.Intent).Distinct().Count());
        Assert.InRange(result.Confidence, 0, 1);
    }

    [Theory]
    [InlineData(IntentClassifierMethod.LogisticRegression)]
    [InlineData(IntentClassifierMethod.NearestCentroid)]
    [InlineData(IntentClassifierMethod.NearestNeighbors)]
    public async Task Should_ClassifyWithEveryMethod_When_EmbeddingsAreGiven(IntentClassifierMethod method)
    {
        using var dir = new TempDir();
        var files = await TestModels.BuildSyntheticAsync(dir.Path);
        using var generator = new OnnxEmbeddingGenerator(new OnnxEmbeddingOptions { ModelPath = files.ModelPath, VocabPath = files.VocabPath });
        var classifier = await IntentClassifier.TrainAsync(Examples, generator, new IntentClassifierOptions { Method = method, Threshold = 0 });
        Assert.Equal("balance", (await classifier.ClassifyAsync("check the funds in my account")).Intent);
        Assert.Equal("music", classifier.Classify("play a song").Intent);
    }

    [Fact]
    public async Task Should_ReturnOutOfScope_When_ConfidenceIsBelowThreshold()
    {
        var classifier = await IntentClassifier.TrainAsync(Examples);
        Assert.True(classifier.IsThresholdCalibrated);
        Assert.InRange(classifier.Threshold, 0.0001, 0.99);

        var unrelated = classifier.Classify("what is the capital of mongolia");
        Assert.True(unrelated.IsOutOfScope);
        Assert.Equal(IntentNames.OutOfScope, unrelated.Intent);
        Assert.NotEmpty(unrelated.TopIntent); // the best guess stays visible

        var known = classifier.Classify("turn on the light");
        Assert.False(known.IsOutOfScope);
        Assert.Equal("lights_on", known.Intent);
    }

    [Fact]
    public async Task Should_UseOverriddenThreshold_When_OneIsGiven()
    {
        var classifier = await IntentClassifier.TrainAsync(Examples, options: new IntentClassifierOptions { Threshold = 0.999 });
        Assert.False(classifier.IsThresholdCalibrated);
        Assert.True(classifier.Classify("turn on the light please now").IsOutOfScope);
        var lenient = classifier.WithThreshold(0);
        Assert.Equal("lights_on", lenient.Classify("turn on the light please now").Intent);
    }

    [Fact]
    public async Task Should_RejectLikeNotThisExamples_When_OosExamplesAreTrained()
    {
        IntentExample[] notThis =
        [
            new("tell me a joke", "oos"), new("who won the football game", "out_of_scope"), new("what is the capital of france", "oos"),
            new("tell me a funny story", "oos"), new("who is the president", "oos"),
        ];
        var classifier = await IntentClassifier.TrainAsync(Examples.Concat(notThis), options: new IntentClassifierOptions { Threshold = 0 });
        Assert.DoesNotContain(IntentNames.OutOfScope, classifier.Intents);
        var result = classifier.Classify("tell me a joke please");
        Assert.True(result.IsOutOfScope);
        Assert.DoesNotContain(result.Alternatives, a => a.Intent == IntentNames.OutOfScope);
        Assert.Equal("lights_on", classifier.Classify("turn on the light").Intent);
    }

    [Fact]
    public async Task Should_TrainInMilliseconds_When_IntentSetIsSmall()
    {
        var classifier = await IntentClassifier.TrainAsync(Examples);
        Assert.True(classifier.TrainingTime < TimeSpan.FromSeconds(2), classifier.TrainingTime.ToString());
    }

    [Fact]
    public async Task Should_Throw_When_ThereAreNoInScopeExamples()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => IntentClassifier.TrainAsync([new IntentExample("hi", "oos")]));
    }

    [Fact]
    public void Should_PickThresholdBetweenGroups_When_ScoresSeparate()
    {
        var inScores = new List<(float, bool)> { (0.9f, true), (0.8f, true), (0.7f, true), (0.6f, false) };
        var oos = new List<(float, bool)> { (0.3f, false), (0.2f, false), (0.4f, false) };
        var t = IntentClassifier.ChooseThreshold(inScores, oos, 1.0);
        Assert.InRange(t, 0.4, 0.7);
    }
}
