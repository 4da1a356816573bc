using System.Collections.Concurrent;
using Platform.Mqtt;
using static Platform.Activities.Devices.Tests.DevicesHost;

namespace Platform.Activities.Devices.Tests;

/// <summary>The shared MQTT connection against mosquitto and the embedded broker.</summary>
public sealed class MqttConnectionTests
{
    private static async Task<T> WithinAsync<T>(Task<T> task, int seconds = 10) => await task.WaitAsync(TimeSpan.FromSeconds(seconds));

    [Theory, InlineData(Mosquitto), InlineData(Embedded)]
    public async Task Should_DeliverMatchingMessages_When_FilterHasWildcards(string broker)
    {
        // Arrange
        var options = Options(broker);
        await using var embedded = new EmbeddedMqttBroker(options);
        await embedded.StartAsync(CancellationToken.None);
        await using var subscriber = new MqttConnection(options);
        await using var publisher = new MqttConnection(options);
        var root = $"tests/{Guid.NewGuid():N}";
        var received = new ConcurrentQueue<string>();
        var two = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await subscriber.SubscribeAsync($"{root}/+/state", (m, _) =>
        {
            received.Enqueue($"{m.Topic}={m.PayloadText}");
            if (received.Count == 2) two.TrySetResult(true);
            return Task.CompletedTask;
        });

        // Act
        await publisher.PublishAsync($"{root}/a/state", "1");
        await publisher.PublishAsync($"{root}/a/other", "x");
        await publisher.PublishAsync($"{root}/b/state", "2");
        await WithinAsync(two.Task);

        // Assert
        Assert.Equal([$"{root}/a/state=1", $"{root}/b/state=2"], received.ToArray());
    }

    [Fact]
    public async Task Should_ResubscribeAndPublish_When_BrokerRestarts()
    {
        // Arrange
        var options = Options(Embedded);
        options.ReconnectDelay = TimeSpan.FromMilliseconds(50);
        options.MaxReconnectDelay = TimeSpan.FromMilliseconds(200);
        var first = new EmbeddedMqttBroker(options);
        await first.StartAsync(CancellationToken.None);
        await using var subscriber = new MqttConnection(options);
        var got = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var subscription = await subscriber.SubscribeAsync("restart/topic", (m, _) =>
        {
            got.TrySetResult(m.PayloadText);
            return Task.CompletedTask;
        });

        // Act: the broker goes away and comes back on the same port.
        await first.DisposeAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (subscriber.IsConnected && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.False(subscriber.IsConnected);
        await using var second = new EmbeddedMqttBroker(options);
        await second.StartAsync(CancellationToken.None);
        await subscriber.ConnectAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        await using var publisher = new MqttConnection(options);
        // The subscriber subscribes again right after it reconnects; until then a message is not for it. Publish until it
        // arrives (or 10 s pass).
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!got.Task.IsCompleted && DateTime.UtcNow < until)
        {
            await publisher.PublishAsync("restart/topic", "after restart");
            await Task.WhenAny(got.Task, Task.Delay(200));
        }

        // Assert
        Assert.Equal("after restart", await WithinAsync(got.Task));
    }

    [Fact]
    public async Task Should_ThrowNotConfigured_When_NoBrokerIsConfigured()
    {
        // Arrange
        await using var connection = new MqttConnection(new MqttOptions { EmbeddedPort = 0 });

        // Act
        var error = await Assert.ThrowsAsync<MqttNotConfiguredException>(() => connection.PublishAsync("a/b", "x"));

        // Assert
        Assert.False(connection.IsConfigured);
        Assert.Contains("Platform:Mqtt:Host", error.Message);
    }

    [Fact]
    public void Should_RejectOptions_When_PortIsOutOfRange()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new MqttOptions { Host = "broker", Port = 70000 }.Validate());
        Assert.Contains("between 1 and 65535", error.Message);
    }

    [Fact]
    public async Task Should_RefuseClients_When_EmbeddedBrokerHasCredentials()
    {
        // Arrange
        var options = Options(Embedded);
        options.Username = "devices";
        options.Password = "s3cret-pass";
        await using var broker = new EmbeddedMqttBroker(options);
        await broker.StartAsync(CancellationToken.None);
        var wrong = new MqttOptions { EmbeddedPort = options.EmbeddedPort, Username = "devices", Password = "wrong" };
        await using var intruder = new MqttConnection(wrong);
        await using var client = new MqttConnection(options);

        // Act
        await client.ConnectAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
        var refused = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => intruder.ConnectAsync(new CancellationTokenSource(TimeSpan.FromSeconds(1)).Token));

        // Assert
        Assert.True(client.IsConnected);
        Assert.False(intruder.IsConnected);
        Assert.NotNull(refused);
    }
}
