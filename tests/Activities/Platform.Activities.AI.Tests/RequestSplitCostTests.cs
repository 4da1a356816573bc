using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Activities.AI.Tests;

/// <summary>
/// A message is only cut in two when a cut can matter, and then all halves are classified in one batch: counted with the
/// metric <c>intent_classifications_total</c> of the set.
/// </summary>
public sealed class RequestSplitCostTests
{
    [Fact]
    public async Task Should_Classify_Only_The_Whole_Message_When_A_Conjunction_Message_Has_One_Confident_Intent()
    {
        // Arrange
        var id = "split-" + Guid.NewGuid().ToString("N")[..8];
        await using var host = new AiHost();
        await host.SaveAsync(Sets.Assistant(id));
        var trained = (await host.Services.GetRequiredService<IntentSetModels>().GetAsync(id))!;
        using var counter = new ClassificationCounter(id);
        const string text = "how many orders came in today and show me the orders";

        // Act
        var (result, rest) = await trained.RecognizeRequestAsync(text, DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);

        // Assert: a place to cut exists, but one confident intent and entities on one side only: no halves are classified.
        Assert.NotEmpty(Platform.Intents.Text.RequestSplitter.Cuts(text));
        Assert.Equal("orders_today", result.Intent);
        Assert.Equal("", rest);
        Assert.Equal(1, counter.Count);
    }

    [Fact]
    public async Task Should_Classify_The_Halves_In_One_Batch_When_A_Message_Has_Two_Requests()
    {
        // Arrange
        var id = "split-" + Guid.NewGuid().ToString("N")[..8];
        await using var host = new AiHost();
        await host.SaveAsync(Sets.Assistant(id));
        var trained = (await host.Services.GetRequiredService<IntentSetModels>().GetAsync(id))!;
        using var counter = new ClassificationCounter(id);
        const string text = "turn off the kitchen light and show me today's orders";

        // Act
        var (result, rest) = await trained.RecognizeRequestAsync(text, DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);

        // Assert: the whole message, then both halves of the one cut.
        Assert.Equal("device_off", result.Intent);
        Assert.Equal("show me today's orders", rest);
        Assert.Equal(1 + 2 * Platform.Intents.Text.RequestSplitter.Cuts(text).Count, counter.Count);
        Assert.Equal(2, counter.Batches);
    }

    /// <summary>Counts the classifications (and the measurements, i.e. batches) the metric reports for one set.</summary>
    private sealed class ClassificationCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;
        private int _batches;

        public ClassificationCounter(string set)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "intent_classifications_total") listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key != "intent_set" || !Equals(tag.Value, set)) continue;
                    Interlocked.Add(ref _count, value);
                    Interlocked.Increment(ref _batches);
                }
            });
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public int Batches => Volatile.Read(ref _batches);

        public void Dispose() => _listener.Dispose();
    }
}
