using System.Text.Json;
using Platform.Intents.Classification;
using Platform.Intents.Evaluation;

namespace Platform.Intents.Tests;

public class EvaluationTests
{
    private static string WriteData(string dir)
    {
        var rows = new List<object>();
        string[][] train =
        [
            ["turn on the light", "switch the lamp on", "lights on please", "put the light on", "turn the lamps on", "light on in the kitchen"],
            ["what is my balance", "how much money is in my account", "check my savings", "show my account balance", "my balance please", "account funds"],
            ["play some music", "play my playlist", "put on a song", "play songs", "music please", "play a track"],
        ];
        string[] intents = ["lights_on", "balance", "music"];
        for (var i = 0; i < 3; i++) foreach (var t in train[i]) rows.Add(new { text = t, intent = intents[i], split = "train" });
        rows.Add(new { text = "tell me a joke", intent = "oos", split = "train" });
        rows.Add(new { text = "turn on the bedroom light", intent = "lights_on", split = "test" });
        rows.Add(new { text = "what's my account balance", intent = "balance", split = "test" });
        rows.Add(new { text = "play a song", intent = "music", split = "test" });
        rows.Add(new { text = "how tall is mount everest", intent = "out_of_scope", split = "test" });
        rows.Add(new { text = "book a flight to paris", intent = "travel", split = "test" });
        var path = Path.Combine(dir, "data.jsonl");
        File.WriteAllLines(path, rows.Select(r => JsonSerializer.Serialize(r)));
        return path;
    }

    [Fact]
    public async Task Should_PrintAllMetrics_When_EvaluatingNgramsOnly()
    {
        using var dir = new TempDir();
        var data = WriteData(dir.Path);
        var output = new StringWriter();

        var code = await IntentEvaluation.RunAsync(["eval-intents", "--data", data, "--features", "ngrams", "--oos-intents", "travel", "--concurrency", "2"], output);

        var text = output.ToString();
        Assert.Equal(0, code);
        foreach (var key in new[] { "accuracy:", "macro-F1:", "in-scope accuracy:", "out-of-scope recall:", "out-of-scope precision:", "latency per utterance: median", "throughput:" })
        {
            Assert.Contains(key, text);
        }
        Assert.Contains("test: 5 lines, 2 oos", text);
    }

    [Fact]
    public async Task Should_BuildDefaultModelFromTarballOption_When_EmbeddingsAreUsed()
    {
        using var dir = new TempDir();
        var data = WriteData(dir.Path);
        var vectors = TestModels.WriteGloveText(dir.Path);
        var output = new StringWriter();

        var code = await IntentEvaluation.RunAsync(["--data", data, "--data-dir", Path.Combine(dir.Path, "data"), "--tarball", vectors, "--shots", "4", "--method", "all", "--concurrency", "2"], output);

        Assert.Equal(0, code);
        var text = output.ToString();
        Assert.Contains("16-d embedding", text);
        Assert.Contains("nearest centroid", text);
        Assert.Contains("kNN", text);
        Assert.Contains("train: 13 lines", text); // 4 shots x 3 intents + 1 oos
        Assert.True(File.Exists(Path.Combine(dir.Path, "data", "models", "glove-100d", "model.onnx")));
    }

    [Fact]
    public async Task Should_PrintMeanAndRangeAndAuroc_When_SeveralSeedsAndLabelLines()
    {
        using var dir = new TempDir();
        // The same data with "label" instead of "intent".
        var data = WriteData(dir.Path);
        var labelled = Path.Combine(dir.Path, "labelled.jsonl");
        File.WriteAllLines(labelled, File.ReadLines(data).Select(l => l.Replace("\"intent\":", "\"label\":", StringComparison.Ordinal)));
        var output = new StringWriter();

        var code = await IntentEvaluation.RunAsync(["--data", labelled, "--features", "ngrams", "--oos-intents", "travel", "--shots", "4", "--seeds", "3", "--concurrency", "1"], output);

        var text = output.ToString();
        Assert.Equal(0, code);
        Assert.Contains("seed: 44", text);
        Assert.Contains("AUROC in-scope vs out-of-scope (no threshold):", text);
        Assert.Contains("over 3 seeds: in-scope accuracy", text);
        Assert.Single(text.Split('\n'), l => l.StartsWith("throughput:", StringComparison.Ordinal)); // speed once, not per seed
    }

    [Fact]
    public async Task Should_HoldOutTrainLines_When_DevModeIsOn()
    {
        using var dir = new TempDir();
        var data = WriteData(dir.Path);
        var output = new StringWriter();
        var code = await IntentEvaluation.RunAsync(["--data", data, "--features", "ngrams", "--dev", "0.34", "--drop-oos-train", "--concurrency", "1"], output);
        Assert.Equal(0, code);
        Assert.Contains("train: 12 lines, 3 intents, 0 oos  test: 6 lines, 0 oos", output.ToString());
    }

    [Fact]
    public async Task Should_FailWithUsage_When_DataIsMissing()
    {
        var output = new StringWriter();
        Assert.Equal(2, await IntentEvaluation.RunAsync(["--shots", "3"], output));
        Assert.Contains("eval-intents --data", output.ToString());
    }

    [Fact]
    public void Should_ComputeMetrics_When_OosIsAClass()
    {
        var m = Metrics.Compute(["a", "b", "oos", "oos"], ["a", "oos", "oos", "b"]);
        Assert.Equal(0.5, m.Accuracy);
        Assert.Equal(0.5, m.InScopeAccuracy);
        Assert.Equal(0.5, m.OosRecall);
        Assert.Equal(0.5, m.OosPrecision);
        Assert.Equal(2, m.OosCount);
        Assert.Equal(IntentNames.OutOfScope, "oos");
    }
}
